"""The typed shape of a workflow file once loaded: states, transitions and the events users see."""

from dataclasses import dataclass
from typing import Literal, get_args

# `confirmation`: a case opened for the enterprise by screening (免申即享) that waits for it to
# confirm the details needed to pay it.
StateKind = Literal[
    "draft",
    "intake",
    "review",
    "expert",
    "amendment",
    "notice",
    "decided",
    "active",
    "terminal",
    "confirmation",
]
STATE_KINDS: frozenset[str] = frozenset(get_args(StateKind))

Style = Literal["primary", "secondary", "danger", "warning"]
STYLES: frozenset[str] = frozenset(get_args(Style))

# The letter a state issues when a case enters it, and the decision it records (if any).
IssuedLetter = Literal["approval", "rejection", "disbursement"]
ISSUED_LETTERS: frozenset[str] = frozenset(get_args(IssuedLetter))
DecisionOutcome = Literal["approved", "rejected"]
DECISION_OUTCOMES: frozenset[str] = frozenset(get_args(DecisionOutcome))

Party = Literal["enterprise", "district", "bureau", "expert", "bank", "system", "admin"]
PARTIES: frozenset[str] = frozenset(get_args(Party))


@dataclass(frozen=True)
class Label:
    """A bilingual display text; every name a user sees exists in both languages."""

    zh: str
    en: str


@dataclass(frozen=True)
class Timer:
    """A calendar-day period after which the SLA sweep fires `event` as the system actor."""

    calendar_days: int
    event: str


# How a reply period counts: working days on the pack's calendar, or calendar (natural) days.
ReplyDays = Literal["working_days", "calendar_days"]
REPLY_DAYS: frozenset[str] = frozenset(get_args(ReplyDays))


@dataclass(frozen=True)
class ReplyPeriod:
    """How long the party asked to amend has to answer: `days` of the kind `counted`.

    The answer is due on the last day of the period, counted from (not including) the day the
    case entered the amendment stage; working days skip weekends and holidays as SLAs do.
    `remind_before_working_days`, when set, is how many working days before that day the
    sweep reminds the applicant once that the answer is still awaited.
    """

    days: int
    counted: ReplyDays
    remind_before_working_days: int | None = None


@dataclass(frozen=True)
class StateSpec:
    """One stage: who must act, within how many working days, and whom to alert when late.

    `issues_letter` and `decides` say what entering the stage does: issue that kind of letter,
    and (for approval or rejection) record the decision with that outcome. `reply_within` is
    an amendment stage's period for the applicant's answer (shown and reminded of, never enforced).
    """

    name: str
    label: Label
    kind: StateKind
    sla_working_days: int | None
    responsible: Party | None
    escalate_to: Party | None
    paused_sla: bool
    timer: Timer | None
    issues_letter: IssuedLetter | None = None
    decides: DecisionOutcome | None = None
    reply_within: ReplyPeriod | None = None

    @property
    def final(self) -> bool:
        """A terminal stage: no transition leaves it."""
        return self.kind == "terminal"


@dataclass(frozen=True)
class TransitionSpec:
    """One source → target edge with everything that decides who may take it.

    `route_by_returned_from` marks the edges of a "go back where you came from" event: the
    edge whose target equals the case's `returned_from` is the one taken. `when` names a guard
    that chooses between edges of one event: the edge whose `when` holds is the one taken.
    """

    event: str
    source: str
    target: str
    label: Label
    roles: frozenset[str]
    jurisdiction: str
    guards: tuple[str, ...]
    comment_required: bool
    style: Style
    route_by_returned_from: bool
    when: str | None = None


@dataclass(frozen=True)
class EventSpec:
    """An event a given actor may fire now, as the portal renders it (a button)."""

    name: str
    label: Label
    target: str
    comment_required: bool
    roles: tuple[str, ...]
    style: Style
