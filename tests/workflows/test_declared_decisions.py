"""Which states decide and issue letters is read from the workflow file, and a case that grants
no money closes at approval: it is never offered a disbursement it could not complete."""

from dataclasses import replace

import pytest
from wf_helpers import BASE_CASE, actor_for

from portal.workflows import TransitionRefused, Workflow

MONEY = replace(BASE_CASE, money_benefit=True)
STATUS_ONLY = replace(BASE_CASE, money_benefit=False)


def test_letters_and_decisions_are_declared_on_states(workflows: dict[str, Workflow]) -> None:
    municipal = workflows["municipal"]
    declared = {s.name: (s.issues_letter, s.decides) for s in municipal.states if s.issues_letter}
    assert declared == {
        "approved": ("approval", "approved"),
        "status_granted": ("approval", "approved"),
        "disbursed": ("disbursement", None),
        "rejected": ("rejection", "rejected"),
    }
    assert [s.name for s in municipal.states_of_kind("expert")] == ["expert_review"]


@pytest.mark.parametrize(
    ("workflow", "state", "event", "actor"),
    [
        ("municipal", "public_notice", "close_notice", "system"),
        ("short_track", "bureau_review", "approve", "reviewer"),
    ],
)
def test_the_approving_event_routes_by_benefit(
    workflows: dict[str, Workflow], workflow: str, state: str, event: str, actor: str
) -> None:
    flow = workflows[workflow]
    money_target = flow.fire(state, event, actor_for(actor), MONEY)
    status_target = flow.fire(state, event, actor_for(actor), STATUS_ONLY)
    assert flow.state(money_target).kind == "decided"
    assert flow.state(status_target).final
    assert flow.state(status_target).issues_letter == "approval"


def test_disbursement_needs_money(workflows: dict[str, Workflow]) -> None:
    for flow in (workflows["municipal"], workflows["short_track"]):
        [decided] = flow.states_of_kind("decided")
        reviewer = actor_for("reviewer")
        assert any(e.target == "disbursed" for e in flow.allowed_events(decided.name, reviewer, MONEY))
        assert not any(
            flow.state(e.target).issues_letter == "disbursement"
            for e in flow.allowed_events(decided.name, reviewer, STATUS_ONLY)
        )
        with pytest.raises(TransitionRefused) as refused:
            flow.fire(decided.name, "disburse", reviewer, STATUS_ONLY)
        assert refused.value.detail == "money_benefit"
