"""Experts: conflicts refused, declaration before documents and scores, consensus of at least three."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from services_helpers import GOOD_SCORES, LOW_SCORES, Driver, World, counts
from sqlalchemy import event
from sqlmodel import col, select

from portal.db.audit import verify_chain
from portal.db.tables import Application, AuditEvent, Notification, Transition
from portal.services import applications, case_files, experts, sla
from portal.services.context import Portal
from portal.services.errors import Conflict, Forbidden, NotFound, Refused
from portal.services.notifications import note_text


def _scores(values: dict[str, int]) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in values.items()}


@pytest.mark.parametrize(
    ("expert", "reason"), [("expert4", "declared_relationship"), ("expert_same_employer", "same_enterprise")]
)
def test_conflicted_expert_cannot_be_assigned(portal: Portal, world: World, expert: str, reason: str) -> None:
    case = Driver(portal, world).to_expert_review()
    before = counts(portal, case.app_id)
    with pytest.raises(Refused) as refused:
        experts.assign_expert(
            portal, world.actors["rev_gzdev"], case.app_id, world.actors[expert].user_id, case.version
        )
    assert refused.value.code == "conflict_of_interest" and reason in (refused.value.detail or "")
    assert counts(portal, case.app_id) == before


def test_declaration_comes_before_documents_and_scores(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    expert = world.actors["expert1"]
    experts.assign_expert(portal, world.actors["rev_gzdev"], case.app_id, expert.user_id, case.version)
    # Every read of the case file is closed until the declaration: answers, uploads, submitted facts.
    for read in (applications.answer_versions, case_files.case_files, case_files.submitted_facts):
        with pytest.raises(Forbidden):
            read(portal, expert, case.app_id)
    before = counts(portal, case.app_id)
    with pytest.raises(Refused) as refused:
        experts.score(portal, expert, case.app_id, _scores(GOOD_SCORES), case.version)
    assert (refused.value.code, refused.value.detail) == ("guard_failed", "coi_declared")
    assert counts(portal, case.app_id) == before
    experts.declare(portal, expert, case.app_id, "本人与申报单位无利益冲突。", case.version)
    assert [v.version for v in applications.answer_versions(portal, expert, case.app_id)] == [1]
    assert case_files.submitted_facts(portal, expert, case.app_id) is not None
    scored = experts.score(portal, expert, case.app_id, _scores(GOOD_SCORES), case.version)
    assert scored.total == Decimal("80.00") and scored.consensus.outcome == "not_enough_scores"
    with pytest.raises(Refused) as again:
        experts.score(portal, expert, case.app_id, _scores(GOOD_SCORES), case.version)
    assert again.value.code == "already_scored"
    with pytest.raises(Refused) as late:  # a sheet once in cannot be taken back by recusing
        experts.recuse(portal, expert, case.app_id, "本人曾为该企业提供咨询", case.version)
    assert late.value.code == "already_scored" and "不能再申请回避" in late.value.message_zh


def test_consensus_needs_three_and_excludes_the_conflicted(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    case.panel(GOOD_SCORES, ("expert1", "expert2"))
    with pytest.raises(Refused) as refused:
        case.fire("rev_gzdev", "conclude_expert_review")
    assert refused.value.detail == "scores_passed"
    # expert1 turns out to be conflicted: their score stops counting …
    result = experts.exclude_conflicted(
        portal,
        world.actors["rev_gzdev"],
        case.app_id,
        world.actors["expert1"].user_id,
        "发现与申报单位存在合作关系",
        case.version,
    )
    assert result.outcome == "not_enough_scores" and result.excluded_expert_ids == (
        world.actors["expert1"].user_id,
    )
    # … so a third score makes two counted scores, too few to pass or to move the case.
    case.panel(GOOD_SCORES, ("expert3",))
    assert experts.panel(portal, world.actors["rev_gzdev"], case.app_id).outcome == "not_enough_scores"
    assert case.state == "expert_review"
    with pytest.raises(Refused):
        case.fire("rev_gzdev", "conclude_expert_review")


def _panel_of_two(case: Driver) -> None:
    case.panel(GOOD_SCORES, ("expert1", "expert2"))
    experts.assign_expert(
        case.portal, case.actor("rev_gzdev"), case.app_id, case.actor("expert3").user_id, case.version
    )
    experts.declare(
        case.portal, case.actor("expert3"), case.app_id, "本人与申报单位无利益冲突。", case.version
    )


def test_pass_mark_moves_the_case_on(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    _panel_of_two(case)
    assert case.state == "expert_review"
    version = case.version
    # (80 + 80 + 50) / 3 = 70.00 meets the pass mark of 70 exactly.
    scored = experts.score(portal, case.actor("expert3"), case.app_id, _scores(LOW_SCORES), version)
    assert scored.consensus.outcome == "passed" and scored.consensus.mean == Decimal("70.00")
    assert (scored.state, scored.version) == ("public_notice", version + 2)
    assert (case.state, case.version) == ("public_notice", version + 2)
    with portal.reading() as session:
        audits = session.exec(
            select(AuditEvent).where(AuditEvent.subject_id == str(case.app_id)).order_by(col(AuditEvent.seq))
        ).all()
        moves = session.exec(
            select(Transition).where(Transition.application_id == case.app_id).order_by(col(Transition.id))
        ).all()
        row = session.get(Application, case.app_id)
        told = session.exec(
            select(Notification).where(Notification.bureau == "gzdev").order_by(col(Notification.id))
        ).all()
        chain = verify_chain(session)
    score_audit, pass_audit = audits[-2:]
    assert (score_audit.event, score_audit.actor_role) == ("score", "expert")
    assert (pass_audit.event, pass_audit.actor_role, pass_audit.actor_id) == (
        "pass_mark_reached",
        "system",
        None,
    )
    assert (pass_audit.from_state, pass_audit.to_state) == ("expert_review", "public_notice")
    assert (moves[-1].event, moves[-1].actor_id, moves[-1].to_state) == (
        "pass_mark_reached",
        None,
        "public_notice",
    )
    # The same stage bookkeeping as any transition: a new stage visit with the notice's (absent) deadline.
    assert row is not None and row.stage_entered_at is not None and row.due_on is None
    # The bureau has nothing to do yet: it is told to watch the notice, and when it ends.
    ends = portal.today() + timedelta(days=7)
    title, body = note_text(portal, told[-1], "zh")
    assert title == "请关注：公示" and f"{ends.month}月{ends.day}日起由系统自动办理下一步" in body
    title, body = note_text(portal, told[-1], "en")
    assert title == "To watch: Public notice" and "the system takes the next step by itself" in body
    assert chain.ok, chain
    # A reviewer has nothing left to conclude; the notice closes on its own seven days later.
    assert "conclude_expert_review" not in [
        e.name for e in applications.allowed_events(portal, world.actors["rev_gzdev"], case.app_id)
    ]
    portal.today_override = portal.today() + timedelta(days=7)
    assert [(m.case_id, m.source, m.target) for m in sla.sweep(portal).advanced] == [
        (case.app_id, "public_notice", "approved")
    ]


def test_the_score_and_the_move_commit_together(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    _panel_of_two(case)
    before = counts(portal, case.app_id)

    class Injected(RuntimeError):
        pass

    def explode(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TRANSITION") and "pass_mark_reached" in repr(
            params
        ):
            raise Injected("crash while the case moves on")

    event.listen(portal.engine, "before_cursor_execute", explode)
    try:
        with pytest.raises(Injected):
            experts.score(portal, case.actor("expert3"), case.app_id, _scores(GOOD_SCORES), before[1])
    finally:
        event.remove(portal.engine, "before_cursor_execute", explode)
    assert counts(portal, case.app_id) == before
    assert experts.panel(portal, world.actors["rev_gzdev"], case.app_id).outcome == "not_enough_scores"
    # Retried without the crash, the same score is accepted and the case moves on.
    experts.score(portal, case.actor("expert3"), case.app_id, _scores(GOOD_SCORES), before[1])
    assert case.state == "public_notice"


def test_failed_panel_tells_the_lead_unit_and_waits_for_a_reviewer(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    case.panel(LOW_SCORES)
    assert case.state == "expert_review"
    with portal.reading() as session:
        told = session.exec(
            select(Notification).where(Notification.bureau == "gzdev").order_by(col(Notification.id))
        ).all()
    title, body = note_text(portal, told[-1], "zh")
    assert title == "专家评审未达合格线" and "50.00" in body
    assert told[-1].role == "reviewer"
    with pytest.raises(Refused):
        case.fire("rev_gzdev", "conclude_expert_review")
    case.fire("rev_gzdev", "reject", "专家评审未达合格线")
    assert case.state == "rejected"


def test_a_recusing_expert_is_replaced_and_the_exclusion_can_pass_the_panel(
    portal: Portal, world: World
) -> None:
    case = Driver(portal, world).to_expert_review()
    bureau = world.actors["rev_gzdev"]
    case.panel(GOOD_SCORES, ("expert1", "expert2"))
    experts.assign_expert(portal, bureau, case.app_id, world.actors["expert3"].user_id, case.version)
    # expert3 has a tie to the applicant and declines instead of declaring.
    with pytest.raises(Refused):  # an expert who has not declined or run late cannot be replaced
        experts.replace_expert(
            portal, bureau, case.app_id, world.actors["expert1"].user_id, 0, "", case.version
        )
    experts.recuse(portal, world.actors["expert3"], case.app_id, "本人曾为该企业提供咨询服务", case.version)
    view = experts.panel_view(portal, bureau, case.app_id)
    recused = next(m for m in view.members if m.expert_id == world.actors["expert3"].user_id)
    assert recused.conflicted and recused.excluded_at is not None and recused.replaceable
    assert recused.reason == "本人曾为该企业提供咨询服务"
    with portal.reading() as session:
        told = session.exec(select(Notification).where(col(Notification.kind) == "work_item")).all()
    assert any(n.message == "note.expert_recused" for n in told)
    # The replacement declares and scores; the third counted score publishes the notice.
    spare = world.actors["expert5"]
    experts.replace_expert(
        portal, bureau, case.app_id, world.actors["expert3"].user_id, spare.user_id, "专家回避", case.version
    )
    experts.declare(portal, spare, case.app_id, "本人与申报单位无利益冲突。", case.version)
    scored = experts.score(
        portal, spare, case.app_id, _scores(GOOD_SCORES), case.version, {"technology": "技术路线清晰"}
    )
    assert scored.state == "public_notice"
    view = experts.panel_view(portal, bureau, case.app_id)
    mine = next(m for m in view.members if m.expert_id == spare.user_id)
    assert mine.comments == {"technology": "技术路线清晰"} and mine.total == Decimal("80.00")
    assert view.consensus.outcome == "passed" and view.consensus.mean == Decimal("80.00")


def test_exclusion_that_leaves_a_passing_panel_publishes_the_notice(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    bureau = world.actors["rev_gzdev"]
    # 20 + 80 + 80 → mean 60, below the pass mark; a fourth expert scores 80 → 65, still below.
    case.panel({k: 20 for k in GOOD_SCORES}, ("expert1",))
    case.panel(GOOD_SCORES, ("expert2", "expert3", "expert5"))
    assert case.state == "expert_review"
    result = experts.exclude_conflicted(
        portal,
        bureau,
        case.app_id,
        world.actors["expert1"].user_id,
        "发现与申报单位存在合作关系",
        case.version,
    )
    assert result.outcome == "passed"
    assert case.state == "public_notice"
    with portal.reading() as session:
        events = [
            e.event
            for e in session.exec(
                select(AuditEvent).where(col(AuditEvent.subject_id) == str(case.app_id))
            ).all()
        ]
    assert events[-2:] == ["expert_excluded", "pass_mark_reached"]


def test_a_late_expert_can_be_replaced_once_the_response_window_has_passed(
    portal: Portal, world: World
) -> None:
    case = Driver(portal, world).to_expert_review()
    bureau = world.actors["rev_gzdev"]
    late = world.actors["expert1"]
    experts.assign_expert(portal, bureau, case.app_id, late.user_id, case.version)
    spare = world.actors["expert2"].user_id
    with pytest.raises(Refused):
        experts.replace_expert(portal, bureau, case.app_id, late.user_id, spare, "逾期", case.version)
    assert portal.today_override is not None
    portal.today_override += timedelta(days=14)
    experts.replace_expert(portal, bureau, case.app_id, late.user_id, spare, "逾期未评分", case.version)
    view = experts.panel_view(portal, bureau, case.app_id)
    assert [(m.expert_id, m.excluded_at is not None) for m in view.members] == [
        (late.user_id, True),
        (spare, False),
    ]


def test_the_enterprise_history_leaves_out_the_panels_own_steps(portal: Portal, world: World) -> None:
    """Who sits on the panel and when each scores stay with the reviewers; the outcome is shown."""
    case = Driver(portal, world).to_expert_review()
    _panel_of_two(case)
    experts.score(portal, case.actor("expert3"), case.app_id, _scores(LOW_SCORES), case.version)
    reviewer_sees = [m.event for m in applications.history(portal, world.actors["rev_gzdev"], case.app_id)]
    enterprise_sees = [m.event for m in applications.history(portal, world.actors[case.owner], case.app_id)]
    assert {"declare_no_conflict", "score"} <= set(reviewer_sees)
    assert enterprise_sees == [e for e in reviewer_sees if e not in ("declare_no_conflict", "score")]
    assert enterprise_sees[-1] == "pass_mark_reached"


def _late_panel(portal: Portal, world: World) -> tuple[Driver, Any]:
    """A case whose panel has expert1 (declared and scored) and expert2 (never responded), both
    past their response window."""
    case = Driver(portal, world).to_expert_review()
    case.panel(GOOD_SCORES, ("expert1",))
    experts.assign_expert(
        portal, world.actors["rev_gzdev"], case.app_id, world.actors["expert2"].user_id, case.version
    )
    assert portal.today_override is not None
    portal.today_override += timedelta(days=14)
    return case, world.actors["expert2"]


def test_a_late_expert_is_removed_told_and_loses_the_case(portal: Portal, world: World) -> None:
    case, late = _late_panel(portal, world)
    bureau = world.actors["rev_gzdev"]
    assert experts.my_score(portal, late, case.app_id) is None  # still theirs, unscored, before the removal
    view = experts.panel_view(portal, bureau, case.app_id)
    assert [(m.expert_id, m.late) for m in view.members] == [
        (world.actors["expert1"].user_id, False),
        (late.user_id, True),
    ]
    before = counts(portal, case.app_id)
    version = experts.remove_late(
        portal, bureau, case.app_id, late.user_id, "逾期未评分，予以更换", case.version
    )
    assert version == before[1] + 1
    seat = next(
        m for m in experts.panel_view(portal, bureau, case.app_id).members if m.expert_id == late.user_id
    )
    assert seat.excluded_at is not None and not seat.conflicted and not seat.late
    assert seat.reason == "逾期未评分，予以更换"
    with pytest.raises(NotFound):  # the removed expert no longer sees the case at all
        experts.my_score(portal, late, case.app_id)
    with portal.reading() as session:
        audit = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
        told = session.exec(
            select(Notification).where(col(Notification.recipient_user_id) == late.user_id)
        ).all()
        chain = verify_chain(session)
    assert chain.ok, chain
    assert audit is not None and audit.event == "expert_removed_late" and audit.actor_id == bureau.user_id
    note = next(n for n in told if n.message == "note.expert_removed_late")
    title, body = note_text(portal, note, "zh")
    assert title == "评审任务已取消"
    assert "逾期未评分，予以更换" in body and str(case.app_id) in body and "subsidy." not in body
    assert "did not score" in note_text(portal, note, "en")[1]
    # Then the seat is filled like any other: an assignable expert takes it.
    experts.replace_expert(
        portal, bureau, case.app_id, late.user_id, world.actors["expert3"].user_id, "", case.version
    )
    members = experts.panel_view(portal, bureau, case.app_id).members
    assert [m.expert_id for m in members if m.excluded_at is None] == [
        world.actors["expert1"].user_id,
        world.actors["expert3"].user_id,
    ]


def test_an_expert_who_scored_or_is_not_yet_late_is_not_removed_for_lateness(
    portal: Portal, world: World
) -> None:
    case = Driver(portal, world).to_expert_review()
    bureau = world.actors["rev_gzdev"]
    case.panel(GOOD_SCORES, ("expert1",))
    experts.assign_expert(portal, bureau, case.app_id, world.actors["expert2"].user_id, case.version)
    before = counts(portal, case.app_id)
    with pytest.raises(Refused) as early:  # within the window
        experts.remove_late(
            portal, bureau, case.app_id, world.actors["expert2"].user_id, "逾期", case.version
        )
    assert early.value.code == "not_late"
    assert portal.today_override is not None
    portal.today_override += timedelta(days=14)
    for expert in ("expert1", "expert2"):
        if expert == "expert2":  # late now, but their sheet goes in before the bureau acts
            experts.declare(
                portal, world.actors[expert], case.app_id, "本人与申报单位无利益冲突。", case.version
            )
            experts.score(portal, world.actors[expert], case.app_id, _scores(GOOD_SCORES), case.version)
        before = counts(portal, case.app_id)
        with pytest.raises(Refused) as scored:
            experts.remove_late(
                portal, bureau, case.app_id, world.actors[expert].user_id, "逾期", case.version
            )
        assert scored.value.code == "not_late" and counts(portal, case.app_id) == before
        view = experts.panel_view(portal, bureau, case.app_id)
        assert not next(m for m in view.members if m.expert_id == world.actors[expert].user_id).late


def test_only_the_lead_units_reviewers_remove_a_late_expert(portal: Portal, world: World) -> None:
    case, late = _late_panel(portal, world)
    before = counts(portal, case.app_id)
    for outsider in ("rev_gzfin", "rev_tianhe", "rev_haizhu", "expert1"):
        with pytest.raises((Refused, Forbidden, NotFound)):
            experts.remove_late(
                portal, world.actors[outsider], case.app_id, late.user_id, "逾期未评分", case.version
            )
        with pytest.raises((Refused, Forbidden, NotFound)):
            experts.replace_expert(
                portal,
                world.actors[outsider],
                case.app_id,
                late.user_id,
                world.actors["expert3"].user_id,
                "逾期未评分",
                case.version,
            )
    assert counts(portal, case.app_id) == before
    with pytest.raises(Conflict):  # a stale page changes nothing either
        experts.remove_late(
            portal, world.actors["rev_gzdev"], case.app_id, late.user_id, "逾期", case.version - 1
        )
    assert counts(portal, case.app_id) == before


def test_replacing_a_late_expert_tells_the_one_removed(portal: Portal, world: World) -> None:
    case, late = _late_panel(portal, world)
    experts.replace_expert(
        portal,
        world.actors["rev_gzdev"],
        case.app_id,
        late.user_id,
        world.actors["expert3"].user_id,
        "逾期",
        case.version,
    )
    with portal.reading() as session:
        told = session.exec(
            select(Notification).where(col(Notification.recipient_user_id) == late.user_id)
        ).all()
    assert "note.expert_removed_late" in [n.message for n in told]
    with pytest.raises(NotFound):
        experts.my_score(portal, late, case.app_id)
    # The seat is filled: it is not offered, nor taken, a second time.
    bureau = world.actors["rev_gzdev"]
    seat = next(
        m for m in experts.panel_view(portal, bureau, case.app_id).members if m.expert_id == late.user_id
    )
    assert not seat.replaceable and not seat.late
    before = counts(portal, case.app_id)
    with pytest.raises(Refused) as again:
        experts.replace_expert(
            portal, bureau, case.app_id, late.user_id, world.actors["expert5"].user_id, "逾期", case.version
        )
    assert again.value.code == "not_replaceable" and counts(portal, case.app_id) == before
