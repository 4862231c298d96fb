"""Every transition refuses every wrong role, wrong jurisdiction, missing comment and failed guard.

The engine is pure, so "nothing changes" means: it raises, returns no new state, and the
same call with the right actor still succeeds afterwards.
"""

from dataclasses import replace

import pytest
from wf_helpers import BANK_ID, BASE_CASE, ENTERPRISE_ID, WORKFLOWS_DIR, actor_for, case_for, comment_for

from portal.workflows import Actor, CaseContext, TransitionRefused, UnknownState, Workflow, load_workflows
from portal.workflows.checks import GUARDS
from portal.workflows.context import ROLES
from portal.workflows.spec import TransitionSpec

EDGES = [(wf.name, edge) for wf in load_workflows(WORKFLOWS_DIR).values() for edge in wf.transitions]


def _id(item: tuple[str, TransitionSpec]) -> str:
    name, edge = item
    return f"{name}:{edge.source}-{edge.event}->{edge.target}"


def refused(wf: Workflow, edge: TransitionSpec, actor: Actor, case: CaseContext, comment: str | None) -> str:
    with pytest.raises(TransitionRefused) as info:
        wf.fire(edge.source, edge.event, actor, case, comment)
    assert info.value.message_zh and info.value.message_en
    return info.value.code


def still_allowed(wf: Workflow, edge: TransitionSpec) -> None:
    right = actor_for(sorted(edge.roles)[0])
    assert wf.fire(edge.source, edge.event, right, case_for(edge), comment_for(edge)) == edge.target


@pytest.mark.parametrize("item", EDGES, ids=[_id(e) for e in EDGES])
def test_wrong_roles_are_refused(workflows: dict[str, Workflow], item: tuple[str, TransitionSpec]) -> None:
    name, edge = item
    wf = workflows[name]
    for role in sorted(ROLES - edge.roles):
        actor = actor_for(role)
        assert refused(wf, edge, actor, case_for(edge), comment_for(edge)) == "wrong_role"
        assert edge.event not in [e.name for e in wf.allowed_events(edge.source, actor, case_for(edge))]
    still_allowed(wf, edge)


def outsiders(edge: TransitionSpec) -> list[Actor]:
    """Actors with a permitted role but the wrong district, bureau, enterprise, bank or case."""
    role = sorted(edge.roles)[0]
    right = actor_for(role)
    return {
        "district": [replace(right, district="huangpu"), replace(right, district=None)],
        "bureau": [replace(right, bureau="gzgxj"), replace(right, bureau=None)],
        "owner": [replace(right, enterprise_id=ENTERPRISE_ID + 1), replace(right, enterprise_id=None)],
        "bank": [replace(right, bank_id=BANK_ID + 1), replace(right, bank_id=None)],
        "assigned": [replace(right, user_id=right.user_id + 1)],
        "none": [],
    }[edge.jurisdiction]


@pytest.mark.parametrize("item", EDGES, ids=[_id(e) for e in EDGES])
def test_wrong_jurisdiction_is_refused(
    workflows: dict[str, Workflow], item: tuple[str, TransitionSpec]
) -> None:
    name, edge = item
    wf = workflows[name]
    for actor in outsiders(edge):
        assert refused(wf, edge, actor, case_for(edge), comment_for(edge)) == "wrong_jurisdiction"
        assert edge.event not in [e.name for e in wf.allowed_events(edge.source, actor, case_for(edge))]
    still_allowed(wf, edge)


def test_a_district_reviewer_cannot_act_at_bureau_stage(workflows: dict[str, Workflow]) -> None:
    district_only = Actor(user_id=30, role="reviewer", district="tianhe")
    wf = workflows["municipal"]
    with pytest.raises(TransitionRefused) as info:
        wf.fire("bureau_review", "bureau_approve", district_only, BASE_CASE)
    assert info.value.code == "wrong_jurisdiction" and info.value.detail == "bureau"


COMMENTED = [item for item in EDGES if item[1].comment_required]


@pytest.mark.parametrize("item", COMMENTED, ids=[_id(e) for e in COMMENTED])
def test_comment_is_required(workflows: dict[str, Workflow], item: tuple[str, TransitionSpec]) -> None:
    name, edge = item
    wf = workflows[name]
    actor = actor_for(sorted(edge.roles)[0])
    for blank in (None, "", "   \n"):
        assert refused(wf, edge, actor, case_for(edge), blank) == "comment_required"
    # The button is still shown: the comment is asked for when it is pressed.
    event = next(e for e in wf.allowed_events(edge.source, actor, case_for(edge)) if e.name == edge.event)
    assert event.comment_required
    still_allowed(wf, edge)


def test_reject_needs_reasons_everywhere(workflows: dict[str, Workflow]) -> None:
    rejecting = [e for wf in workflows.values() for e in wf.transitions if e.target in {"rejected"}]
    assert rejecting and all(e.comment_required for e in rejecting)


def breaking(guard: str) -> dict[str, object]:
    """The change to a satisfying case that makes `guard` fail."""
    changes: dict[str, dict[str, object]] = {
        "attachments_complete": {"attachments_complete": False},
        "eligibility_not_ineligible": {"eligibility_outcome": "ineligible"},
        "coi_declared": {"coi_declared": False},
        "coi_not_declared": {"coi_declared": True},
        "scores_passed": {"scores_passed": False},
        "notice_elapsed": {"notice_elapsed": False},
        "no_sustained_objection": {"objection_sustained": True},
        "objection_pending": {"objection_pending": False},
        "money_benefit": {"money_benefit": False},
    }
    return changes[guard]


GUARDED = [(name, edge, guard) for name, edge in EDGES for guard in edge.guards]


@pytest.mark.parametrize("item", GUARDED, ids=[f"{_id((n, e))}[{g}]" for n, e, g in GUARDED])
def test_failed_guard_is_refused(
    workflows: dict[str, Workflow], item: tuple[str, TransitionSpec, str]
) -> None:
    name, edge, guard = item
    wf = workflows[name]
    actor = actor_for(sorted(edge.roles)[0])
    case = replace(case_for(edge), **breaking(guard))  # type: ignore[arg-type]
    with pytest.raises(TransitionRefused) as info:
        wf.fire(edge.source, edge.event, actor, case, comment_for(edge))
    assert (info.value.code, info.value.detail) == ("guard_failed", guard)
    assert edge.event not in [e.name for e in wf.allowed_events(edge.source, actor, case)]


def test_every_guard_is_exercised() -> None:
    routing = {edge.when for _, edge in EDGES if edge.when is not None}
    assert {guard for _, _, guard in GUARDED} | routing == set(GUARDS)


@pytest.mark.parametrize(
    ("state", "role", "event", "undecided"),
    [
        ("draft", "enterprise", "submit", {"eligibility_outcome": None}),
        ("expert_review", "reviewer", "conclude_expert_review", {"scores_passed": None}),
        ("expert_review", "system", "pass_mark_reached", {"scores_passed": None}),
        ("public_notice", "system", "close_notice", {"objection_pending": True}),
    ],
)
def test_undecided_facts_do_not_pass_guards(
    workflows: dict[str, Workflow], state: str, role: str, event: str, undecided: dict[str, object]
) -> None:
    wf = workflows["municipal"]
    case = replace(BASE_CASE, **undecided)  # type: ignore[arg-type]
    assert event not in [e.name for e in wf.allowed_events(state, actor_for(role), case)]
    assert event in [e.name for e in wf.allowed_events(state, actor_for(role), BASE_CASE)]


def test_event_not_allowed_in_this_state(workflows: dict[str, Workflow]) -> None:
    wf = workflows["municipal"]
    for event in ("disburse", "close_notice", "no_such_event"):
        with pytest.raises(TransitionRefused) as info:
            wf.fire("draft", event, actor_for("reviewer"), BASE_CASE)
        assert info.value.code == "not_allowed_in_state"
    with pytest.raises(TransitionRefused) as info:
        wf.fire("disbursed", "withdraw", actor_for("enterprise"), BASE_CASE)
    assert info.value.code == "not_allowed_in_state"


def test_withdrawal_is_impossible_after_approval(workflows: dict[str, Workflow]) -> None:
    wf = workflows["municipal"]
    for state in ("approved", "disbursed", "rejected"):
        assert "withdraw" not in [
            e.name for e in wf.allowed_events(state, actor_for("enterprise"), BASE_CASE)
        ]


def test_resubmit_without_a_known_origin_is_refused(workflows: dict[str, Workflow]) -> None:
    wf = workflows["municipal"]
    for origin in (None, "public_notice"):
        case = replace(BASE_CASE, returned_from=origin)
        assert "resubmit" not in [
            e.name for e in wf.allowed_events("returned_for_amendment", actor_for("enterprise"), case)
        ]
        with pytest.raises(TransitionRefused) as info:
            wf.fire("returned_for_amendment", "resubmit", actor_for("enterprise"), case)
        assert info.value.code == "no_route"


def test_unknown_stored_state_is_a_clear_error(workflows: dict[str, Workflow]) -> None:
    wf = workflows["municipal"]
    with pytest.raises(UnknownState, match=r"municipal.*'archived'"):
        wf.fire("archived", "submit", actor_for("enterprise"), BASE_CASE)
    with pytest.raises(UnknownState):
        wf.allowed_events("archived", actor_for("enterprise"), BASE_CASE)
    with pytest.raises(UnknownState):
        wf.state("")
