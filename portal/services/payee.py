"""The account an enterprise is paid into (收款账户): checked once, kept on the enterprise.

A 免申即享 case carries the account the enterprise confirmed with it; every other case is paid
into the account the enterprise keeps on its profile. Payment batches read either (payments.py).
"""

from __future__ import annotations

import re

from portal.db.tables import Enterprise
from portal.services.context import Portal
from portal.services.enterprises import audit_enterprise
from portal.services.errors import FieldProblem, NotFound, ValidationFailed
from portal.services.payee_accounts import PayeeAccount
from portal.workflows import Actor

_ACCOUNT = re.compile(r"^\d{8,30}$")


def checked_account(bank: str, account: str, lang: str) -> PayeeAccount:
    """The bank and number as typed, tidied (spaces and dashes dropped), or ValidationFailed per field."""
    problems: list[FieldProblem] = []
    bank = bank.strip()
    number = re.sub(r"[\s-]", "", account)
    if not 2 <= len(bank) <= 100:
        message = "Enter the bank and branch." if lang == "en" else "请填写开户银行及支行。"
        problems.append(FieldProblem("bank_name", message, "bank_name"))
    if not _ACCOUNT.fullmatch(number):
        message = (
            "Enter the account number: 8 to 30 digits." if lang == "en" else "请填写8至30位数字的银行账号。"
        )
        problems.append(FieldProblem("account_number", message, "account_number"))
    if problems:
        raise ValidationFailed(problems)
    return PayeeAccount(bank, number)


def set_account(portal: Portal, actor: Actor, bank: str, account: str, lang: str = "zh") -> PayeeAccount:
    """An enterprise's own user sets the account it is paid into; audited with the last four digits."""
    payee = checked_account(bank, account, lang)
    if actor.role != "enterprise" or actor.enterprise_id is None:
        raise NotFound("enterprise", actor.enterprise_id or 0)
    with portal.transaction() as session:
        enterprise = session.get(Enterprise, actor.enterprise_id)
        if enterprise is None:
            raise NotFound("enterprise", actor.enterprise_id)
        enterprise.payee_bank_name = payee.bank_name
        enterprise.payee_account_number = payee.account_number
        session.add(enterprise)
        audit_enterprise(session, actor, actor.enterprise_id, "payee_account_set", {"account": payee.masked})
    return payee
