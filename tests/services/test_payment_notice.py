"""The payment notice (拨付通知书) says when the money was paid and into which account, on SQLite and
PostgreSQL: read from the PDF's text (pypdf) and from its embedded decision.json."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from typing import Any

from pypdf import PdfReader
from services_helpers import Driver, World
from services_helpers import state_of as state_and_version
from sqlalchemy import update
from sqlmodel import col, select

from portal.db.tables import Decision, Letter, Transition
from portal.services import applications, payments
from portal.services.context import Portal
from portal.services.letters import rerender_letter
from portal.services.payee import set_account
from portal.services.payments_returns import import_return
from tests.support.payments import approved_case, payer
from tests.support.workflow_paths import kind

PAID_ON = date(2026, 10, 27)
BANK = "中国银行广州智造支行"
ACCOUNT = "6217857000000005100"
PAID_LINE = (
    "二、上述资金已于2026年10月27日拨付至你单位收款账户（开户银行：中国银行广州智造支行；账号：****5100）。"
)


def _text(pdf: bytes) -> str:
    """All page text without white space: line breaks fall anywhere in CJK text."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def _decision_json(pdf: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(PdfReader(io.BytesIO(pdf)).attachments["decision.json"][0])
    return decoded


def _notice(portal: Portal, case_id: int) -> tuple[Letter, Decision]:
    with portal.reading() as session:
        decision = session.exec(select(Decision).where(col(Decision.application_id) == case_id)).one()
        letter = session.exec(
            select(Letter).where(col(Letter.decision_id) == decision.id, col(Letter.kind) == "disbursement")
        ).one()
        return letter, decision


def test_the_notice_of_a_batch_paid_case_says_the_day_and_the_masked_account(portal: Portal) -> None:
    case_id = approved_case(portal, "智造拨付通知测试有限公司", account=ACCOUNT, bank=BANK)
    bureau = payer(portal)
    batch = payments.create_batch(portal, bureau, [case_id])
    batch = payments.mark_sent(portal, bureau, int(batch.id or 0), batch.version)
    portal.today_override = PAID_ON  # the bank's return file comes in months after the approval
    content = f"业务参考号,金额（元）,状态,说明\n{case_id},200000.00,成功,\n".encode()
    import_return(portal, bureau, int(batch.id or 0), "回单.csv", content)

    letter, decision = _notice(portal, case_id)
    text = _text(letter.pdf)
    assert "一、拨付资金如下：" in text and "贰拾万元整" in text
    assert PAID_LINE in text
    assert ACCOUNT not in text  # the notice travels further than the payment file: masked
    # No comment came with the disbursement, so there are no notes, and the approval's reasons
    # are not repeated.
    assert "说明：" not in text
    assert decision.reasons and re.sub(r"\s+", "", decision.reasons) not in text
    assert _decision_json(letter.pdf)["payment"] == {
        "paid_on": "2026-10-27",
        "bank_name": BANK,
        "account": "****5100",
    }

    # A re-render on a later day prints the same day and account: the same bytes.
    portal.today_override = date(2026, 11, 30)
    assert rerender_letter(portal, decision.id or 0, letter_id=letter.id).identical
    english = _text(rerender_letter(portal, decision.id or 0, letter_id=letter.id, lang="en").pdf)
    assert "2.ThefundsabovewerepaidonOctober27,2026intoyourunit'saccount(bank:" in english
    assert "account:****5100)." in english


def test_a_notice_disbursed_by_hand_prints_its_comment_third_and_not_the_approval(portal: Portal) -> None:
    case_id = approved_case(portal, "智造手工拨付测试有限公司", account=ACCOUNT, bank=BANK)
    bureau = payer(portal)
    disbursing = payments.disbursement_edges(portal)["municipal"]
    portal.today_override = PAID_ON
    version = state_and_version(portal, case_id)[1]
    applications.transition(portal, bureau, case_id, disbursing.event, "资金由专项资金列支。", version)

    letter, decision = _notice(portal, case_id)
    text = _text(letter.pdf)
    assert PAID_LINE in text
    assert "三、说明：资金由专项资金列支。" in text
    assert decision.reasons and re.sub(r"\s+", "", decision.reasons) not in text
    document = _decision_json(letter.pdf)
    assert document["payment"]["paid_on"] == "2026-10-27" and document["reasons"] == ["资金由专项资金列支。"]


def test_a_notice_disbursed_by_hand_keeps_the_account_paid_into_after_the_profile_changes(
    portal: Portal, world: World
) -> None:
    """A case paid into the account the enterprise keeps on its profile, recorded paid by hand:
    the account the enterprise gives afterwards is where its next money goes, not where this went,
    so a re-render (either language) prints the account of the day it was paid."""
    case = Driver(portal, world).advance_to(kind("decided"))
    owner = world.actors["ent_a"]
    set_account(portal, owner, "中国工商银行广州天河支行", "6222020200001234")
    disbursing = payments.disbursement_edges(portal)["municipal"]
    portal.today_override = PAID_ON
    case.fire(world.bureau, disbursing.event)
    set_account(portal, owner, "招商银行广州分行", "6225880200009876")  # weeks later
    portal.today_override = date(2026, 11, 30)

    letter, decision = _notice(portal, case.app_id)
    paid = "拨付至你单位收款账户（开户银行：中国工商银行广州天河支行；账号：****1234）。"
    assert paid in _text(letter.pdf)
    again = rerender_letter(portal, decision.id or 0, letter_id=letter.id)
    assert again.identical and paid in _text(again.pdf)
    english = _text(rerender_letter(portal, decision.id or 0, letter_id=letter.id, lang="en").pdf)
    assert "account:****1234)." in english and "9876" not in english
    assert _decision_json(again.pdf)["payment"]["account"] == "****1234"

    # A disbursement recorded before transitions kept the account reads the case's account now.
    with portal.transaction() as session:
        session.exec(
            update(Transition)
            .where(col(Transition.application_id) == case.app_id, col(Transition.event) == disbursing.event)
            .values(paid_bank_name=None, paid_account_number=None)
        )
    older = _text(rerender_letter(portal, decision.id or 0, letter_id=letter.id).pdf)
    assert "（开户银行：招商银行广州分行；账号：****9876）。" in older
