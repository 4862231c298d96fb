"""Guangzhou's own paths: the voucher's letters and numbers, the short track, the notice and objections.

How the engine moves any case (returns, refusals, withdrawals, stale versions, the role matrix)
is tested over both packs in tests/services/test_engine_behaviour.py.
"""

import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest
from services_helpers import Driver, World, counts
from sqlmodel import select

from portal.db.audit import verify_chain
from portal.db.tables import Application, Decision, Letter
from portal.services import access, applications, cases, decisions, notices, sla
from portal.services.context import Portal
from portal.services.errors import Refused, StaleVersion
from portal.workflows import Actor
from tests.support.workflow_paths import kind


def _chain_ok(portal: Portal) -> None:
    with portal.reading() as session:
        report = verify_chain(session)
    assert report.ok, report


def _letters(portal: Portal, app_id: int) -> list[Letter]:
    with portal.reading() as session:
        decision = session.exec(select(Decision).where(Decision.application_id == app_id)).first()
        assert decision is not None
        return list(
            session.exec(select(Letter).where(Letter.decision_id == decision.id).order_by(Letter.id)).all()
        )


def test_happy_path_to_disbursement_stores_decision_and_letters(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()
    assert case.state == "approved"
    # Nobody concluded the expert review: the third passing score moved the case on (the lead
    # unit sees the panel's steps; the enterprise does not).
    events = [t.event for t in applications.history(portal, world.actors["rev_gzdev"], case.app_id)]
    assert events[-3:] == ["score", "pass_mark_reached", "close_notice"]
    app = access.get_application_for(portal, world.actors["ent_a"], case.app_id)
    assert app.eligibility_outcome == "eligible"
    assert app.rule_hash and app.profile_version == 1
    assert app.due_on is not None  # the approved stage has its own disbursement deadline
    [approval] = _letters(portal, case.app_id)
    assert approval.kind == "approval"
    assert approval.sha256 == hashlib.sha256(approval.pdf).hexdigest()
    assert approval.pdf.startswith(b"%PDF")
    assert approval.doc_number == "穗发改〔2026〕1号"
    info = decisions.verify_code(portal, approval.verification_code.lower())
    assert info.outcome == "approved" and info.sha256 == approval.sha256 and not info.superseded

    case.fire("rev_gzdev", "disburse")
    assert case.state == "disbursed"
    approval_again, disbursement = _letters(portal, case.app_id)
    assert approval_again.pdf == approval.pdf
    assert disbursement.kind == "disbursement" and disbursement.doc_number == "穗发改〔2026〕2号"
    with portal.reading() as session:
        decision = session.exec(select(Decision).where(Decision.application_id == case.app_id)).one()
    assert decision.outcome == "approved"
    assert decision.benefit == {"voucher": "1500000.00"}
    assert decision.rule_hash == app.rule_hash
    _chain_ok(portal)


def test_short_track_needs_no_experts(portal: Portal, world: World) -> None:
    # No measure of the pack that is applied for online runs on the short track, so the
    # compute voucher is put on it here: the workflow, not the measure, is under test.
    short = replace(portal, workflows={**portal.workflows, "municipal": portal.workflows["short_track"]})
    case = Driver(short, world).to_returned()
    case.submit()
    assert short.workflows["municipal"].state(case.state).kind == "review"
    case.advance_to(kind("decided"))
    assert case.state == "approved"
    assert not any(state.kind == "expert" for state in short.workflows["municipal"].states)
    [letter] = _letters(short, case.app_id)
    assert letter.doc_number == "穗发改〔2026〕1号"
    case.advance_to(kind("terminal"))
    assert case.state == "disbursed"
    _chain_ok(portal)


def test_a_lost_race_says_the_case_changed(portal: Portal, world: World) -> None:
    """The guarded UPDATE cannot tell who won, so the message must not print "version None"."""
    case = Driver(portal, world)
    case.submit()
    with portal.transaction() as session:
        application = session.get(Application, case.app_id)
        assert application is not None
        with pytest.raises(StaleVersion) as stale:
            cases.bump(session, application, application.version - 1, {})
    assert "has changed" in str(stale.value) and "None" not in str(stale.value)


def test_submit_refused_when_ineligible(portal: Portal, world: World) -> None:
    from portal.services import enterprises

    owner: Actor = world.actors["ent_a"]
    poor = {
        "enterprise": {
            "district": "tianhe",
            "ai_rd_expense": "100",
            "ai_revenue": "100",
            "certified_ai_staff": 1,
            "compute_purchase": "100",
        }
    }
    profile = enterprises.save_profile(portal, owner, poor, 1)
    enterprises.confirm_profile(portal, owner, profile.version)
    case = Driver(portal, world)
    before = counts(portal, case.app_id)
    with pytest.raises(Refused) as refused:
        case.submit()
    assert (refused.value.code, refused.value.detail) == ("guard_failed", "eligibility_not_ineligible")
    assert counts(portal, case.app_id) == before


def test_sweep_closes_the_notice_only_after_seven_days(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_public_notice()
    start = portal.today()
    portal.today_override = start + timedelta(days=6)
    assert sla.sweep(portal).advanced == []
    assert case.state == "public_notice"
    portal.today_override = start + timedelta(days=7)
    report = sla.sweep(portal)
    moved = [(m.case_id, m.source, m.target) for m in report.advanced]
    assert moved == [(case.app_id, "public_notice", "approved")]
    assert sla.sweep(portal).advanced == []
    assert case.state == "approved"


def test_pending_objection_holds_the_notice_until_decided(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_public_notice()
    notices.lodge_objection(
        portal, case.app_id, name="张三", contact="13800000000", email="", reasons="该企业研发投入存疑"
    )
    start = portal.today()
    portal.today_override = start + timedelta(days=8)
    assert sla.sweep(portal).advanced == []
    case.fire("rev_gzdev", "dismiss_objection", "经核查异议不成立")
    assert [(m.case_id, m.source, m.target) for m in sla.sweep(portal).advanced] == [
        (case.app_id, "public_notice", "approved")
    ]


def test_upheld_objection_rejects(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_public_notice()
    notices.lodge_objection(
        portal, case.app_id, name="张三", contact="13800000000", email="", reasons="该企业研发投入存疑"
    )
    case.fire("rev_gzdev", "uphold_objection", "经核查异议成立")
    assert case.state == "rejected"
    assert _letters(portal, case.app_id)[0].kind == "rejection"
