"""Which account a case is paid into: reads only, shared by payment batches and payment notices.

Kept apart from `payee` (where an enterprise sets its account, audited) so that the letters,
which print the account a notice's money went to, need nothing of the enterprise services.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from portal.db.tables import Application, ApplicationAnswers, Enterprise, LineOutcome, PaymentLine

PAYMENT_ACCOUNT = "payment_account"  # the answers key auto_grant.confirm stores the account under


@dataclass(frozen=True)
class PayeeAccount:
    bank_name: str
    account_number: str

    @property
    def masked(self) -> str:
        """The number as pages show it to anyone but the payment file: the last four digits."""
        return f"****{self.account_number[-4:]}"


def kept_account(enterprise: Enterprise) -> PayeeAccount | None:
    """The account the enterprise keeps on its profile, if it has given one."""
    if enterprise.payee_bank_name and enterprise.payee_account_number:
        return PayeeAccount(enterprise.payee_bank_name, enterprise.payee_account_number)
    return None


@dataclass(frozen=True)
class Payee:
    """Where the money goes, as the payment file prints it."""

    name: str
    bank_name: str
    account_number: str


def payee_of(session: Session, application: Application, enterprise: Enterprise) -> Payee | None:
    """The account in the case's latest answers that hold one (免申即享: the enterprise confirmed it
    with the case), else the account the enterprise keeps on its profile, else None.

    An account the bank already failed to pay for this case gives way to the profile's account
    when the enterprise keeps another one there: a failed payment tells the enterprise to check
    and correct that account (note.payment_failed), so its correction is what the next batch pays.
    """
    kept = kept_account(enterprise)
    failed = set(
        session.exec(
            select(PaymentLine.account_number)
            .where(col(PaymentLine.application_id) == application.id)
            .where(col(PaymentLine.outcome) == LineOutcome.FAILED.value)
        ).all()
    )
    corrected = kept is not None and kept.account_number not in failed
    rows = session.exec(
        select(ApplicationAnswers)
        .where(col(ApplicationAnswers.application_id) == application.id)
        .order_by(col(ApplicationAnswers.version).desc())
    ).all()
    for row in rows:
        account = (row.answers or {}).get(PAYMENT_ACCOUNT)
        if isinstance(account, dict) and account.get("account_number") and account.get("bank_name"):
            if corrected and str(account["account_number"]) in failed:
                break
            name = str(account.get("account_name") or enterprise.name)
            return Payee(name, str(account["bank_name"]), str(account["account_number"]))
    return None if kept is None else Payee(enterprise.name, kept.bank_name, kept.account_number)


def paid_into(session: Session, application: Application) -> PayeeAccount | None:
    """The account a case's money goes to as it is recorded paid: the account of its latest payment
    line the bank did not fail (the line a return file settles), else the account the case is paid
    into now (`payee_of`); None when there is neither.

    Read when the disbursing transition is written, which keeps it: what the enterprise's profile
    says later is not where this money went.
    """
    line = session.exec(
        select(PaymentLine)
        .where(
            col(PaymentLine.application_id) == application.id,
            col(PaymentLine.outcome) != LineOutcome.FAILED.value,
        )
        .order_by(col(PaymentLine.id).desc())
    ).first()
    if line is not None:
        return PayeeAccount(line.bank_name, line.account_number)
    enterprise = session.get(Enterprise, application.enterprise_id)
    payee = payee_of(session, application, enterprise) if enterprise is not None else None
    return None if payee is None else PayeeAccount(payee.bank_name, payee.account_number)
