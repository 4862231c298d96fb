"""The granted amount (核定兑现金额) on the decision and the letter; refusal letters; corrections."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from services_helpers import Driver, World, counts
from sqlmodel import select

from portal.db.tables import Decision, Letter
from portal.services import decisions, grants, sla
from portal.services.context import Portal
from portal.services.errors import Refused, ValidationFailed


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")


def _decision(portal: Portal, application_id: int) -> Decision:
    with portal.reading() as session:
        return session.exec(select(Decision).where(Decision.application_id == application_id)).one()


def test_the_bureau_grants_less_with_a_reason_and_the_letter_prints_it_in_capitals(
    portal: Portal, world: World
) -> None:
    case = Driver(portal, world).to_bureau_review()
    bureau = world.actors["rev_gzdev"]
    grant = grants.grant_of(portal, bureau, case.app_id)
    assert grant.ceiling is not None and grant.amount is None and grant.effective == grant.ceiling
    before = counts(portal, case.app_id)
    with pytest.raises(ValidationFailed) as failed:
        grants.set_granted_amount(portal, bureau, case.app_id, grant.ceiling + 1, "", case.version)
    assert [(p.path, p.code) for p in failed.value.errors] == [("granted_amount", "range")]
    with pytest.raises(ValidationFailed) as failed:
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("1000.00"), " ", case.version)
    assert [(p.path, p.code) for p in failed.value.errors] == [("granted_reason", "required")]
    with pytest.raises(ValidationFailed) as failed:
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("1000.001"), "x", case.version)
    assert [(p.path, p.code) for p in failed.value.errors] == [("granted_amount", "fen")]
    with pytest.raises(Refused):
        grants.set_granted_amount(
            portal, world.actors["rev_tianhe"], case.app_id, Decimal("1000"), "x", case.version
        )
    assert counts(portal, case.app_id) == before
    grants.set_granted_amount(
        portal, bureau, case.app_id, Decimal("500000.00"), "按年度预算核减", case.version
    )
    case.to_public_notice()
    # The notice shows the amount; from then on it is what the public was shown.
    with pytest.raises(Refused) as refused:
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("400000.00"), "再核减", case.version)
    assert refused.value.code == "not_in_review" and "公示" in refused.value.message_zh
    assert grants.grant_of(portal, bureau, case.app_id).amount == Decimal("500000.00")
    _close(portal, case)
    decision = _decision(portal, case.app_id)
    assert decision.granted_amount == Decimal("500000.00")
    assert decision.granted_reason == "按年度预算核减"
    [letter] = decisions.letters_for(portal, bureau, case.app_id)
    text = pdf_text(letter.pdf)
    assert "核定兑现金额" in text and "500,000.00" in text and "伍拾万元整" in text
    # No internal names: neither the benefit's nor a criterion's id is printed.
    assert "voucher" not in text and "compute_purchase" not in text
    with pytest.raises(Refused):  # after the decision the amount is fixed
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("1"), "x", case.version)


def _close(portal: Portal, case: Driver) -> None:
    before = portal.today_override
    assert before is not None
    portal.today_override = before + timedelta(days=7)
    sla.sweep(portal)
    portal.today_override = before
    assert case.state == "approved"


def test_without_a_set_amount_the_decision_grants_the_rules_amount(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()
    decision = _decision(portal, case.app_id)
    assert decision.granted_amount is not None and decision.granted_reason is None
    assert decision.granted_amount == Decimal(str((decision.benefit or {})["voucher"]))


def test_a_refusal_states_the_appeal_and_never_says_eligible(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    bureau = world.actors["rev_gzdev"]
    assert grants.grant_of(portal, bureau, case.app_id).ceiling is not None  # under review: shown
    case.fire("rev_gzdev", "reject", "项目实施方案不具可行性")
    # A rejected case grants nothing, so no amount is shown for it.
    assert grants.grant_of(portal, bureau, case.app_id) == grants.Grant(None, None, None)
    [letter] = decisions.letters_for(portal, world.actors["rev_gzdev"], case.app_id)
    text = pdf_text(letter.pdf)
    assert "符合条件" not in text
    for expected in ("行政复议法", "行政诉讼法", "广州市人民政府", "六十日", "六个月"):
        assert expected in text, expected


def test_a_corrected_letter_supersedes_the_old_one(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()
    bureau = world.actors["rev_gzdev"]
    [old] = decisions.letters_for(portal, bureau, case.app_id)
    with pytest.raises(Refused):
        decisions.correct_letter(portal, bureau, old.id or 0, reasons=" ")
    new = decisions.correct_letter(portal, bureau, old.id or 0, reasons="更正企业名称笔误", lang="en")
    assert isinstance(new, Letter) and new.supersedes_id == old.id and new.lang == "en"
    assert decisions.get_letter(portal, bureau, new.id or 0).sha256 == new.sha256
    assert "Amountgranted" in pdf_text(new.pdf)
