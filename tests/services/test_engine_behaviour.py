"""How the engine moves a case, over both packs: Guangzhou's and the fictional Lakeside one.

These tests are about the engine, not about a city's policy, so they run on every cast and
take their events, stages and parties from the workflow definition (tests/support/
workflow_paths.py). A stage added to a pack is covered here with no edit: the matrix below
tries every event by every actor in it, and the amendment, refusal and withdrawal loops go
through every stage where the workflow offers them.
"""

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from services_helpers import CASTS, Driver, World, counts, rubric_scores
from sqlalchemy import event, func, select
from sqlmodel import col

from portal.db.audit import verify_chain
from portal.db.tables import Application, AuditEvent, Decision, Letter, Transition
from portal.services import access, applications, assignment, experts
from portal.services.context import Portal
from portal.services.errors import Refused, ServiceError, StaleVersion
from portal.workflows import Workflow
from portal.workflows.spec import TransitionSpec
from tests.support.rubrics import case_rubric
from tests.support.workflow_paths import (
    Step,
    find_path,
    is_refusal,
    is_return,
    is_unfavourable,
    is_withdrawal,
    kind,
    party_of,
)

pytestmark = pytest.mark.parametrize("cast", CASTS, indirect=True, ids=lambda cast: cast.key)

THREADS = 20


def _workflow(portal: Portal, case: Driver) -> Workflow:
    with portal.reading() as session:
        row = session.get(Application, case.app_id)
        assert row is not None
        return portal.workflows[row.workflow]


def _actor_of_party(world: World, party: str) -> str | None:
    """Who fires an edge of `party` on enterprise a's case; None for the system's own events."""
    return {
        "enterprise": "ent_a",
        "district": world.home_reviewer,
        "bureau": world.bureau,
        "expert": "expert1",
        "admin": "admin",
    }.get(party)


def _next_step(workflow: Workflow, state: str) -> Step:
    """The favourable move out of `state` (the first step on the way to a decision)."""
    [step, *_] = find_path(workflow, state, kind("decided"), avoid=lambda e: is_unfavourable(workflow, e))
    return step


def _reach(case: Driver, workflow: Workflow, stage: str) -> None:
    """Take the case to `stage`: along the favourable way, or returned from the first stage that can."""
    if workflow.state(stage).kind != "amendment":
        case.advance_to(stage)
        return
    edge = next(e for e in workflow.transitions if is_return(workflow, e) and e.target == stage)
    case.advance_to(edge.source)
    _fire_edge(case, edge, "请补充材料")


def _fire_edge(case: Driver, edge: TransitionSpec, comment: str | None = None) -> None:
    who = _actor_of_party(case.world, party_of(edge))
    assert who is not None, edge
    case.fire(case.district_reviewer if party_of(edge) == "district" else who, edge.event, comment)


def _letters(portal: Portal, app_id: int) -> list[Letter]:
    with portal.reading() as session:
        query = (
            select(Letter)
            .join(Decision, col(Decision.id) == Letter.decision_id)
            .where(Decision.application_id == app_id)
            .order_by(col(Letter.id))
        )
        return list(session.execute(query).scalars())


def _chain_ok(portal: Portal) -> None:
    with portal.reading() as session:
        report = verify_chain(session)
    assert report.ok, report


def test_conflicting_moves_exactly_one_wins(portal: Portal, world: World) -> None:
    case = Driver(portal, world).advance_to(kind("review"))
    workflow = _workflow(portal, case)
    step = _next_step(workflow, case.state)
    who = world.actors[case.district_reviewer if step.party == "district" else world.bureau]
    version = case.version
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def move() -> None:
        barrier.wait()
        try:
            applications.transition(portal, who, case.app_id, step.event, None, version)
            result = "ok"
        except StaleVersion:
            result = "conflict"
        except Exception as exc:  # anything else is a failure of the test, reported below
            result = f"error: {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=move) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert Counter(outcomes) == {"ok": 1, "conflict": THREADS - 1}
    assert (case.state, case.version) == (step.target, version + 1)
    with portal.reading() as session:
        audits = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.subject_id == str(case.app_id), AuditEvent.event == step.event)
        ).scalar_one()
        moves = session.execute(
            select(func.count())
            .select_from(Transition)
            .where(Transition.application_id == case.app_id, Transition.event == step.event)
        ).scalar_one()
    assert (audits, moves) == (1, 1)
    _chain_ok(portal)


def test_failure_before_the_audit_insert_leaves_neither(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.submit()
    step = _next_step(_workflow(portal, case), case.state)
    before = counts(portal, case.app_id)

    class Injected(RuntimeError):
        pass

    seen: list[str] = []

    def explode(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        seen.append(statement.split()[0].upper())
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            raise Injected("crash between the state update and the audit insert")

    event.listen(portal.engine, "before_cursor_execute", explode)
    try:
        with pytest.raises(Injected):
            _fire_edge(case, step.edge)
    finally:
        event.remove(portal.engine, "before_cursor_execute", explode)
    assert "UPDATE" in seen  # the state update did run before the crash
    assert counts(portal, case.app_id) == before
    _chain_ok(portal)


def test_a_review_step_reads_no_payment_batch(portal: Portal, world: World) -> None:
    """Only the disbursement can be held by a payment batch, so only it reads the batch lines:
    every other transition (and its case page's buttons) would pay that query for nothing."""
    case = Driver(portal, world)
    case.submit()
    step = _next_step(_workflow(portal, case), case.state)
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        seen.append(statement.lower())

    event.listen(portal.engine, "before_cursor_execute", record)
    try:
        applications.allowed_events(portal, world.actors[case.district_reviewer], case.app_id)
        _fire_edge(case, step.edge)
    finally:
        event.remove(portal.engine, "before_cursor_execute", record)
    assert any(s.startswith("update application") for s in seen)
    assert not [s for s in seen if "payment_line" in s]


def test_a_claim_ends_when_another_unit_takes_the_case_over(portal: Portal, world: World) -> None:
    """The district reviewer who held a case lets it go as the bureau's stage begins, so the
    bureau's reviewers can take it; a return to the enterprise keeps the holder."""
    case = Driver(portal, world).to_district_review()
    workflow = _workflow(portal, case)
    district = world.actors[case.district_reviewer]
    assignment.claim(portal, district, case.app_id)
    back = next(e for e in workflow.transitions if is_return(workflow, e) and e.source == case.state)
    _fire_edge(case, back, "请补充说明")
    case.submit()
    assert _holder(portal, case) == district.user_id
    case.advance_to(lambda stage: stage.responsible == "bureau")
    assert _holder(portal, case) is None
    with portal.reading() as session:
        handover = session.scalars(
            select(AuditEvent)
            .where(col(AuditEvent.subject_id) == str(case.app_id))
            .where(col(AuditEvent.to_state) == case.state)
        ).one()
    assert (handover.payload or {})["released_holder"] == district.user_id
    # The bureau's stage is the bureau's work: the district's reviewer can neither take it back
    # nor be given it.
    with pytest.raises(Refused) as refused:
        assignment.claim(portal, district, case.app_id)
    assert refused.value.code == "other_unit_stage"
    bureau = world.actors[case.bureau]
    offered = {c.id for c in assignment.colleagues(portal, bureau, case.app_id)}
    assert bureau.user_id in offered and district.user_id not in offered
    assignment.claim(portal, world.actors[case.bureau], case.app_id)
    assert _holder(portal, case) == world.actors[case.bureau].user_id
    _chain_ok(portal)


def test_a_case_is_offered_first_to_who_can_move_it_on(portal: Portal, world: World) -> None:
    """At the expert stage the district's reviewer who passed the case on may still hold it, but
    only the bureau's can take its next step: the bureau's are first in the list to give it to."""
    case = Driver(portal, world).advance_to(kind("expert"))
    parties = {party_of(e) for e in _workflow(portal, case).transitions_from(case.state)}
    bureau, district = world.actors[case.bureau], world.actors[case.district_reviewer]
    offered = [c.id for c in assignment.colleagues(portal, bureau, case.app_id)]
    assert {bureau.user_id, district.user_id} <= set(offered)
    movers = {who.user_id for party, who in (("bureau", bureau), ("district", district)) if party in parties}
    first = [c in movers for c in offered]
    assert first == sorted(first, reverse=True), offered  # Lakeside's panel: no reviewer moves it


def _holder(portal: Portal, case: Driver) -> int | None:
    with portal.reading() as session:
        return session.get_one(Application, case.app_id).assignee_id


def test_stale_version_changes_nothing(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.submit()
    step = _next_step(_workflow(portal, case), case.state)
    before = counts(portal, case.app_id)
    who = world.actors[case.district_reviewer if step.party == "district" else world.bureau]
    with pytest.raises(StaleVersion):
        applications.transition(portal, who, case.app_id, step.event, None, case.version - 1)
    assert counts(portal, case.app_id) == before


def test_every_return_comes_back_to_the_stage_that_asked(portal: Portal, world: World) -> None:
    workflow = _workflow(portal, Driver(portal, world))
    returns = [edge for edge in workflow.transitions if is_return(workflow, edge)]
    assert returns
    owner = world.actors["ent_a"]
    for edge in returns:
        case = Driver(portal, world)
        case.advance_to(edge.source)
        due_before = access.get_application_for(portal, owner, case.app_id).due_on
        with pytest.raises(Refused) as refused:  # a return always says why
            _fire_edge(case, edge)
        assert refused.value.code == "comment_required"
        _fire_edge(case, edge, "请补充说明")
        app = access.get_application_for(portal, owner, case.app_id)
        assert (app.state, app.returned_from) == (edge.target, edge.source)
        assert app.sla_paused_at is not None and app.due_on == due_before
        applications.save_draft(portal, owner, case.app_id, case.answers(), case.version)
        case.submit()
        app = access.get_application_for(portal, owner, case.app_id)
        assert (app.state, app.returned_from, app.sla_paused_at) == (edge.source, None, None)
    _chain_ok(portal)


def test_every_refusal_issues_the_letter_its_state_declares(portal: Portal, world: World) -> None:
    workflow = _workflow(portal, Driver(portal, world))
    refusals = [edge for edge in workflow.transitions if is_refusal(workflow, edge)]
    assert refusals
    for edge in refusals:
        case = Driver(portal, world)
        case.advance_to(edge.source)
        before = counts(portal, case.app_id)
        with pytest.raises(Refused) as refused:
            _fire_edge(case, edge)
        assert refused.value.code == "comment_required"
        assert counts(portal, case.app_id) == before
        _fire_edge(case, edge, "材料不实")
        assert case.state == edge.target
        declared = workflow.state(edge.target).issues_letter
        assert [letter.kind for letter in _letters(portal, case.app_id)] == [declared], edge
    _chain_ok(portal)


def test_the_applicant_withdraws_wherever_the_workflow_allows(portal: Portal, world: World) -> None:
    workflow = _workflow(portal, Driver(portal, world))
    stages = [
        edge.source
        for edge in workflow.transitions
        if is_withdrawal(workflow, edge) and workflow.state(edge.source).kind != "confirmation"
    ]
    assert len(stages) >= 4, stages
    for stage in stages:
        case = Driver(portal, world)
        _reach(case, workflow, stage)
        assert case.state == stage
        applications.withdraw(portal, world.actors["ent_a"], case.app_id, case.version, "不再申报")
        assert workflow.state(case.state).final, stage
    decided = Driver(portal, world).advance_to(kind("decided"))
    before = counts(portal, decided.app_id)
    with pytest.raises(Refused) as refused:
        applications.withdraw(portal, world.actors["ent_a"], decided.app_id, decided.version)
    assert refused.value.code == "not_allowed_in_state"
    assert counts(portal, decided.app_id) == before


# -- the role and jurisdiction matrix -----------------------------------------------------------


def _stages(workflow: Workflow) -> Iterator[str]:
    """Every stage a case passes on the favourable way, and the amendment stage."""
    favourable = find_path(
        workflow, workflow.initial, kind("decided"), avoid=lambda e: is_unfavourable(workflow, e)
    )
    yield workflow.initial
    yield from (step.target for step in favourable)
    yield from (state.name for state in workflow.states if state.kind == "amendment")


def _allowed(world: World, workflow: Workflow, stage: str) -> set[tuple[str, str]]:
    """The (event, actor) pairs the workflow's roles and jurisdictions permit in `stage`.

    A permitted pair may still be refused by a guard; only the pairs outside this set are
    tried, and each of them must be refused.
    """
    allowed: set[tuple[str, str]] = set()
    for edge in workflow.transitions_from(stage):
        who = _actor_of_party(world, party_of(edge))
        if who is not None:
            # The applicant's submit and resubmit are one use case (`applications.submit`).
            allowed.add(
                ("submit" if who == "ent_a" and not is_withdrawal(workflow, edge) else edge.event, who)
            )
    return allowed


def _try(portal: Portal, world: World, name: str, app_id: int, event_name: str, version: int) -> None:
    actor = world.actors[name]
    if event_name == "submit":
        applications.submit(portal, actor, app_id, version)
    elif event_name == "declare_no_conflict":
        experts.declare(portal, actor, app_id, "无利益冲突", version)
    elif event_name == "score":
        experts.score(portal, actor, app_id, rubric_scores(case_rubric(portal, app_id), 80), version)
    else:
        applications.transition(portal, actor, app_id, event_name, "意见", version)


def test_every_wrong_actor_is_refused_and_nothing_changes(portal: Portal, world: World) -> None:
    workflow = _workflow(portal, Driver(portal, world))
    events = sorted({edge.event for edge in workflow.transitions} | {"submit"})
    actors = [
        "ent_a",
        "ent_b",
        world.home_reviewer,
        world.away_reviewer,
        world.bureau,
        world.other_bureau,
        "expert1",
        "expert4",
        "admin",
    ]
    tried: Counter[str] = Counter()
    for stage in _stages(workflow):
        case = Driver(portal, world)
        _reach(case, workflow, stage)
        if workflow.state(stage).kind == "expert":  # an assigned expert who has not declared yet
            experts.assign_expert(
                portal, world.actors[world.bureau], case.app_id, world.actors["expert1"].user_id, case.version
            )
        assert case.state == stage
        allowed = _allowed(world, workflow, stage)
        for event_name in events:
            for name in actors:
                if (event_name, name) in allowed:
                    continue
                before = counts(portal, case.app_id)
                with pytest.raises(ServiceError):
                    _try(portal, world, name, case.app_id, event_name, before[1])
                assert counts(portal, case.app_id) == before, (stage, event_name, name)
                tried[stage] += 1
    assert len(tried) >= 6 and min(tried.values()) > 50, tried
