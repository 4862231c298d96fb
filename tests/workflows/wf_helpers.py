"""Builders for actors and cases that satisfy a given transition (imported by the tests)."""

from dataclasses import replace
from pathlib import Path

from portal.workflows import Actor, CaseContext
from portal.workflows.spec import TransitionSpec

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO / "workflows"

ENTERPRISE_ID = 501
BANK_ID = 7
EXPERT_ID = 900

BASE_CASE = CaseContext(
    enterprise_id=ENTERPRISE_ID,
    district="tianhe",
    lead_unit="gzsti",
    bank_id=BANK_ID,
    attachments_complete=True,
    eligibility_outcome="eligible",
    coi_declared=True,
    assigned_expert_ids=frozenset({EXPERT_ID}),
    scores_passed=True,
    notice_elapsed=True,
    money_benefit=True,
)


def actor_for(role: str) -> Actor:
    """An actor of `role` inside the jurisdiction of BASE_CASE."""
    return {
        "enterprise": Actor(user_id=11, role="enterprise", enterprise_id=ENTERPRISE_ID),
        "reviewer": Actor(user_id=12, role="reviewer", district="tianhe", bureau="gzsti"),
        "expert": Actor(user_id=EXPERT_ID, role="expert"),
        "bank": Actor(user_id=14, role="bank", bank_id=BANK_ID),
        "system": Actor(user_id=0, role="system"),
        "admin": Actor(user_id=15, role="admin", district="tianhe", bureau="gzsti"),
    }[role]


def case_for(edge: TransitionSpec, returned_from: str | None = None) -> CaseContext:
    """A case in which every guard of `edge` holds and its route (if any) leads to its target."""
    return replace(
        BASE_CASE,
        coi_declared="coi_not_declared" not in edge.guards,
        objection_pending="objection_pending" in edge.guards,
        money_benefit="no_money_benefit" not in (*edge.guards, edge.when),
        returned_from=edge.target if edge.route_by_returned_from else returned_from,
    )


def comment_for(edge: TransitionSpec) -> str | None:
    return "理由：材料不全 / reasons given" if edge.comment_required else None
