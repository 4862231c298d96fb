"""Every path through the default workflow and the short track, through the real services."""

import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest
from services_helpers import Driver, World, counts
from sqlmodel import select

from portal.db.audit import verify_chain
from portal.db.tables import Application, ApplicationAnswers, Decision, Letter
from portal.services import access, applications, cases, decisions, notices, sla
from portal.services.context import Portal
from portal.services.errors import Refused, StaleVersion
from portal.workflows import Actor


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
    # Nobody concluded the expert review: the third passing score moved the case on.
    events = [t.event for t in applications.history(portal, world.actors["ent_a"], case.app_id)]
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


@pytest.mark.parametrize("stage", ["district_review", "bureau_review", "expert_review"])
def test_amendment_loop_returns_to_the_stage_that_asked(portal: Portal, world: World, stage: str) -> None:
    case = Driver(portal, world)
    case.submit()
    case.fire("rev_tianhe", "accept")
    reviewer = "rev_tianhe"
    if stage != "district_review":
        case.fire("rev_tianhe", "district_approve")
        reviewer = "rev_gzdev"
    if stage == "expert_review":
        case.fire("rev_gzdev", "bureau_approve")
    due_before = access.get_application_for(portal, world.actors["ent_a"], case.app_id).due_on
    assert due_before is not None

    case.fire(reviewer, "return_for_amendment", "请补充说明")
    app = access.get_application_for(portal, world.actors["ent_a"], case.app_id)
    assert (app.state, app.returned_from, app.due_on) == ("returned_for_amendment", stage, due_before)
    assert app.sla_paused_at is not None

    # The enterprise answers five calendar days later; the deadline moves by the paused working days.
    portal.today_override = portal.today() + timedelta(days=5)
    owner = world.actors["ent_a"]
    applications.save_draft(portal, owner, case.app_id, case.answers(use_summary="已补充"), case.version)
    case.submit()
    app = access.get_application_for(portal, owner, case.app_id)
    assert app.state == stage and app.returned_from is None and app.sla_paused_at is None
    assert app.due_on is not None and app.due_on > due_before
    # A second loop keeps every earlier answers version.
    case.fire(reviewer, "return_for_amendment", "仍需补充")
    applications.save_draft(portal, owner, case.app_id, case.answers(use_summary="再次补充"), case.version)
    case.submit()
    assert case.state == stage
    with portal.reading() as session:
        versions = session.exec(
            select(ApplicationAnswers).where(ApplicationAnswers.application_id == case.app_id)
        ).all()
    assert sorted((v.version, v.answers.get("use_summary"), v.submitted) for v in versions) == [
        (1, None, True),
        (2, "已补充", True),
        (3, "再次补充", True),
    ]
    _chain_ok(portal)


@pytest.mark.parametrize(
    ("stage", "reviewer"),
    [("district_review", "rev_tianhe"), ("bureau_review", "rev_gzdev"), ("expert_review", "rev_gzdev")],
)
def test_rejection_from_every_review_stage_issues_a_rejection_letter(
    portal: Portal, world: World, stage: str, reviewer: str
) -> None:
    case = Driver(portal, world)
    {
        "district_review": case.to_district_review,
        "bureau_review": case.to_bureau_review,
        "expert_review": case.to_expert_review,
    }[stage]()
    with pytest.raises(Refused) as refused:
        case.fire(reviewer, "reject")
    assert refused.value.code == "comment_required"
    case.fire(reviewer, "reject", "研发投入证明材料不实")
    assert case.state == "rejected"
    [letter] = _letters(portal, case.app_id)
    assert letter.kind == "rejection"
    _chain_ok(portal)


@pytest.mark.parametrize(
    "stage",
    [
        "draft",
        "submitted",
        "district_review",
        "bureau_review",
        "expert_review",
        "returned_for_amendment",
        "public_notice",
    ],
)
def test_withdrawal_before_approval(portal: Portal, world: World, stage: str) -> None:
    case = Driver(portal, world)
    steps = {
        "draft": lambda: None,
        "submitted": case.submit,
        "district_review": case.to_district_review,
        "bureau_review": case.to_bureau_review,
        "expert_review": case.to_expert_review,
        "returned_for_amendment": case.to_returned,
        "public_notice": case.to_public_notice,
    }
    steps[stage]()
    assert case.state == stage
    applications.withdraw(portal, world.actors["ent_a"], case.app_id, case.version, "不再申报")
    assert case.state == "withdrawn"


def test_no_withdrawal_after_approval(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()
    before = counts(portal, case.app_id)
    with pytest.raises(Refused) as refused:
        applications.withdraw(portal, world.actors["ent_a"], case.app_id, case.version)
    assert refused.value.code == "not_allowed_in_state"
    assert counts(portal, case.app_id) == before


def test_short_track_needs_no_experts(portal: Portal, world: World) -> None:
    # No measure of the pack that is applied for online runs on the short track, so the
    # compute voucher is put on it here: the workflow, not the measure, is under test.
    short = replace(portal, workflows={**portal.workflows, "municipal": portal.workflows["short_track"]})
    case = Driver(short, world)
    case.submit()
    case.fire("rev_tianhe", "accept")
    case.fire("rev_tianhe", "return_for_amendment", "请补充算力采购合同")
    case.submit()
    assert case.state == "district_review"
    case.fire("rev_tianhe", "district_approve")
    case.fire("rev_gzdev", "approve")
    assert case.state == "approved"
    [letter] = _letters(short, case.app_id)
    assert letter.doc_number == "穗发改〔2026〕1号"
    case.fire("rev_gzdev", "disburse")
    assert case.state == "disbursed"
    _chain_ok(portal)


def test_stale_version_changes_nothing(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.submit()
    stale = case.version - 1
    before = counts(portal, case.app_id)
    with pytest.raises(StaleVersion):
        applications.transition(portal, world.actors["rev_tianhe"], case.app_id, "accept", None, stale)
    assert counts(portal, case.app_id) == before


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
    assert report.advanced == [(case.app_id, "public_notice", "approved")]
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
    assert sla.sweep(portal).advanced == [(case.app_id, "public_notice", "approved")]


def test_upheld_objection_rejects(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_public_notice()
    notices.lodge_objection(
        portal, case.app_id, name="张三", contact="13800000000", email="", reasons="该企业研发投入存疑"
    )
    case.fire("rev_gzdev", "uphold_objection", "经核查异议成立")
    assert case.state == "rejected"
    assert _letters(portal, case.app_id)[0].kind == "rejection"
