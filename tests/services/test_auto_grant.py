"""免申即享 through the services (issue 10 §6): a screening hit on an auto_grant measure opens one
case waiting for the enterprise; confirming it with a bank account sends it into review."""

import pyarrow as pa
import pytest
from services_helpers import World, counts
from sqlalchemy import func, select

from portal.db.tables import Application, Notification
from portal.services import applications, auto_grant, enterprises
from portal.services.context import Portal
from portal.services.errors import Refused, ValidationFailed
from portal.services.screening import notify_eligible

MEASURE = "subsidy.algorithm_filing"  # auto_grant, Haizhu firms with a filed algorithm


def _hit(portal: Portal, enterprise_id: int, measure: str = MEASURE) -> int:
    table = pa.table({"row_id": [str(enterprise_id)], "measure": [measure], "outcome": ["eligible"]})
    rule = portal.pack.select(measure, portal.today())
    assert rule is not None
    return notify_eligible(portal, table, [rule])


def _cases(portal: Portal, enterprise_id: int) -> list[Application]:
    with portal.reading() as session:
        return list(
            session.execute(select(Application).where(Application.enterprise_id == enterprise_id))
            .scalars()
            .all()
        )


def test_a_hit_opens_one_case_that_waits_and_confirming_sends_it_to_review(
    portal: Portal, world: World
) -> None:
    owner = world.actors["ent_b"]  # registered in Haizhu
    profile = enterprises.latest_profile(portal, owner)
    assert profile is not None
    facts = {**profile.facts, "enterprise": {**profile.facts["enterprise"], "algorithm_filed": True}}
    row = enterprises.save_profile(portal, owner, facts, profile.version)
    enterprises.confirm_profile(portal, owner, row.version)
    enterprise_id = world.enterprise_ids["b"]
    assert _hit(portal, enterprise_id) == 1
    [case] = _cases(portal, enterprise_id)
    assert auto_grant.is_awaiting(portal, case) and case.state == "awaiting_confirmation"
    # It is in the enterprise's inbox with a link to the confirmation page.
    with portal.reading() as session:
        notice = session.execute(
            select(Notification)
            .where(Notification.enterprise_id == enterprise_id)
            .where(Notification.kind == "screening")
        ).scalar_one()
    assert notice.link == f"/applications/{case.id}/confirm"
    # Identity answers are the registered ones.
    answers = applications.answer_versions(portal, owner, int(case.id or 0))[-1].answers
    assert answers["enterprise_name"] == "海珠模型科技有限公司"
    # Re-running the screening creates no second case and no second notice.
    assert _hit(portal, enterprise_id) == 0
    assert len(_cases(portal, enterprise_id)) == 1
    # A bad account is refused with field errors and writes nothing.
    before = counts(portal, int(case.id or 0))
    with pytest.raises(ValidationFailed) as failed:
        auto_grant.confirm(
            portal,
            owner,
            int(case.id or 0),
            bank_name="",
            account_number="12ab",
            expected_version=case.version,
        )
    assert sorted(p.path for p in failed.value.errors) == ["account_number", "bank_name"]
    assert counts(portal, int(case.id or 0)) == before
    # Someone else cannot confirm it.
    with pytest.raises(Exception) as other:
        auto_grant.confirm(
            portal,
            world.actors["ent_a"],
            int(case.id or 0),
            bank_name="中国银行广州海珠支行",
            account_number="6217 8570 0000 1234 567",
            expected_version=case.version,
        )
    assert type(other.value).__name__ == "NotFound"
    moved = auto_grant.confirm(
        portal,
        owner,
        int(case.id or 0),
        bank_name="中国银行广州海珠支行",
        account_number="6217 8570 0000 1234 567",
        expected_version=case.version,
    )
    assert moved.to_state == "submitted"
    latest = applications.answer_versions(portal, owner, int(case.id or 0))[-1].answers
    assert latest["payment_account"]["account_number"] == "62178570000012345 67".replace(" ", "")
    # Confirmed once: a second confirmation is refused and changes nothing.
    before = counts(portal, int(case.id or 0))
    with pytest.raises(Refused):
        auto_grant.confirm(
            portal,
            owner,
            int(case.id or 0),
            bank_name="中国银行",
            account_number="62178570000012345",
            expected_version=moved.version,
        )
    assert counts(portal, int(case.id or 0)) == before
    with portal.reading() as session:
        assert session.execute(select(func.count()).select_from(Application)).scalar_one() >= 1


def test_a_hit_on_a_measure_applied_for_links_to_a_prefilled_application(
    portal: Portal, world: World
) -> None:
    enterprise_id = world.enterprise_ids["a"]
    assert _hit(portal, enterprise_id, "subsidy.compute_voucher") == 1
    assert _cases(portal, enterprise_id) == []
    with portal.reading() as session:
        notice = session.execute(
            select(Notification).where(Notification.enterprise_id == enterprise_id)
        ).scalar_one()
    assert notice.link == "/applications/start?measure=subsidy.compute_voucher"
