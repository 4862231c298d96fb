"""Each case is scored on its measure's rubric: the S&T SME evaluation's indicators and pass mark
for an S&T SME case, the project rubric for a project case, in scoring, consensus and the panel."""

from decimal import Decimal

import pytest
from services_helpers import GOOD_SCORES, Driver, World, counts
from test_status_only_measures import st_sme_draft

from portal.services import experts
from portal.services.context import Portal
from portal.services.errors import ValidationFailed

ST_SME_SCORES = {"st_staff": 65, "rd_investment": 65, "results": 65}


def _st_sme_in_expert_review(portal: Portal, world: World) -> Driver:
    return st_sme_draft(portal, world).to_expert_review()


def _refused_sheet(portal: Portal, world: World, case: Driver, marks: dict[str, int]) -> str:
    """A declared expert's sheet on another rubric: refused with the message, nothing stored."""
    expert = world.actors["expert5"]
    experts.assign_expert(portal, world.actors[case.bureau], case.app_id, expert.user_id, case.version)
    experts.declare(portal, expert, case.app_id, "本人与申报单位无利益冲突。", case.version)
    before = counts(portal, case.app_id)
    with pytest.raises(ValidationFailed) as refused:
        experts.score(portal, expert, case.app_id, {k: Decimal(v) for k, v in marks.items()}, case.version)
    assert counts(portal, case.app_id) == before
    return refused.value.errors[0].message


def test_an_st_sme_case_is_scored_on_the_st_sme_rubric(portal: Portal, world: World) -> None:
    case = _st_sme_in_expert_review(portal, world)
    assert "st_staff" in _refused_sheet(portal, world, case, GOOD_SCORES)
    # 65 on every indicator passes the S&T SME evaluation's 60, so the panel moves the case on.
    case.panel(scores=ST_SME_SCORES)
    result = experts.panel(portal, world.actors["rev_gzsti"], case.app_id)
    assert (result.outcome, result.mean) == ("passed", Decimal("65.00"))
    assert portal.workflows["municipal"].state(case.state).kind == "notice"
    view = experts.panel_view(portal, world.actors["rev_gzsti"], case.app_id)
    assert view.consensus.outcome == "passed"
    assert {m.total for m in view.members if m.total is not None} == {Decimal("65.00")}


def test_a_project_case_keeps_the_default_rubric_and_pass_mark(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    assert "technology" in _refused_sheet(portal, world, case, ST_SME_SCORES)
    # The same 65 is below the project rubric's 70: the panel fails and the case stays with the experts.
    case.panel(scores=dict.fromkeys(GOOD_SCORES, 65))
    result = experts.panel(portal, world.actors[case.bureau], case.app_id)
    assert (result.outcome, result.mean) == ("failed", Decimal("65.00"))
    assert portal.workflows["municipal"].state(case.state).kind == "expert"
