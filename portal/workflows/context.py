"""The plain facts a workflow decision reads: who acts, and what is true of the case right now.

Services build these from database rows; the engine never sees a row. Both are frozen so a
decision cannot be changed by the code that asked for it.
"""

from dataclasses import dataclass, field
from typing import Literal, get_args

Role = Literal["enterprise", "reviewer", "expert", "admin", "supervisor", "bank", "system"]
"""Who acts; transitions list the roles that may fire them."""
# A supervisor only reads (the dashboard), so no workflow may give it an event.
ROLES: frozenset[str] = frozenset(get_args(Role)) - {"supervisor"}


@dataclass(frozen=True, kw_only=True)
class Actor:
    """A signed-in user (or the SLA sweep) with the attributes jurisdiction is checked against."""

    user_id: int
    role: Role
    district: str | None = None
    bureau: str | None = None
    enterprise_id: int | None = None
    bank_id: int | None = None


SYSTEM_ACTOR = Actor(user_id=0, role="system")
"""The actor the SLA sweep fires timed events as (closing a public notice)."""


@dataclass(frozen=True, kw_only=True)
class CaseContext:
    """What guards and jurisdiction rules read about one case, as seen by the acting user.

    `coi_declared` is per viewer: it says whether *the acting expert* has signed the
    no-conflict declaration for this case. `scores_passed` is None while fewer than the
    required number of scores are in.
    """

    enterprise_id: int | None
    district: str | None
    lead_unit: str | None
    bank_id: int | None = None
    returned_from: str | None = None
    attachments_complete: bool = False
    eligibility_outcome: str | None = None
    coi_declared: bool = False
    assigned_expert_ids: frozenset[int] = field(default_factory=frozenset)
    scores_passed: bool | None = None
    notice_elapsed: bool = False
    objection_pending: bool = False
    objection_sustained: bool = False
    money_benefit: bool = False
