"""The granted amount (核定兑现金额): what the lead unit decides to pay, at or below the rule's amount
and never above what the applicant asked for.

A rule computes an amount or a cap; where the form names the answer that states the amount
requested (`requested_amount_field`), the lower of the two is the most that may be granted and
what is granted unless the bureau sets less. The bureau grants that or less, and says why when it
is less. The amount is set on the case while it is under review, shown by the public notice, and
copied onto the decision the approving transition records. Once the notice has begun the
amount is what the public was shown, so it no longer changes.

A set amount stands only while it is within that limit. When a resubmission changes it (the
enterprise asks for less in its amendment, the rule's amount is recomputed lower, or the rule no
longer grants the case money at all), the set amount is withdrawn in the same transaction and
audited as `granted_amount_withdrawn`: the case is back at the default until the lead unit sets
an amount again, and its page says why. Entering the notice or the approval with an amount above
the limit is refused besides (`decisions.refuse_grant_above_limit`); an amount that got past both
before they existed is withdrawn by an administrator (`portal grants reconcile`, `reconcile`).
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, cast

from sqlmodel import Session, col, select

from portal.db.tables import Application, AuditEvent, Decision, DecisionOutcome
from portal.services.access import is_lead_unit_staff, load_visible
from portal.services.cases import audit_case, bump, workflow_of
from portal.services.context import Portal
from portal.services.decisions import (
    GRANT_OPEN_KINDS,
    ExcessCause,
    GrantExcess,
    default_grant,
    grant_excess,
    money_ceiling,
    requested_amount,
    rule_of,
)
from portal.services.errors import FieldProblem, NotFound, Refused, ValidationFailed
from portal.services.notifications import notify
from portal.workflows import Actor
from portal.workflows.context import SYSTEM_ACTOR
from portal.workflows.spec import Label

SET_EVENT, WITHDRAWN_EVENT = "granted_amount_set", "granted_amount_withdrawn"
_CENT = Decimal("0.01")
MAX_REASON = 2000
# What withdrew an amount: the resubmission that put it above the limit, or an administrator's
# reconciliation of a case that got past the checks before they existed.
Via = Literal["resubmission", "reconcile"]


@dataclass(frozen=True)
class Withdrawn:
    """An amount the lead unit set that a later submission put above what may be granted.

    `by_request`: the amount requested fell below it (else the rule's amount did); `default` is
    what is granted now unless the lead unit sets an amount again (None, like `ceiling`, when the
    rule grants the case no money any more).
    """

    amount: Decimal
    reason: str | None
    requested: Decimal | None
    default: Decimal | None
    by_request: bool
    at: datetime
    ceiling: Decimal | None = None
    via: Via = "resubmission"

    @property
    def cause(self) -> ExcessCause:
        if self.default is None:
            return "no_money"
        return "requested" if self.by_request else "ceiling"


@dataclass(frozen=True)
class Grant:
    """The rule's ceiling for a case, what the applicant asked for (None: the form does not say)
    and what the lead unit has set (None: the default)."""

    ceiling: Decimal | None
    amount: Decimal | None
    reason: str | None
    requested: Decimal | None = None
    # The amount set earlier and withdrawn by a resubmission, while nothing has been set since.
    withdrawn: Withdrawn | None = None

    @property
    def default(self) -> Decimal | None:
        """What is granted when nothing is set: the ceiling, or the amount requested if lower."""
        return default_grant(self.ceiling, self.requested)

    @property
    def capped_by_request(self) -> bool:
        """Whether the amount requested, not the rule's, is the most that may be granted."""
        return self.ceiling is not None and self.requested is not None and self.requested < self.ceiling

    @property
    def above_limit(self) -> bool:
        """Whether the amount set is above the most that may be granted (the default): a case in
        this state cannot go on notice or be approved until the amount is set again."""
        return self.amount is not None and self.default is not None and self.amount > self.default

    @property
    def effective(self) -> Decimal | None:
        """What the decision will grant if it is taken now."""
        return self.amount if self.amount is not None else self.default


def grant_of(portal: Portal, actor: Actor, application_id: int) -> Grant:
    """The ceiling and the granted amount of a case the actor may see.

    A case closed without an approval (rejected, withdrawn) grants nothing, so it has no
    amount to show: all three are None then.
    """
    with portal.reading() as session:
        return _grant(portal, session, load_visible(session, actor, application_id))


def grants_of(portal: Portal, applications: Sequence[Application]) -> dict[int, Grant]:
    """`grant_of` for cases the caller has already read within the actor's scope (a queue's
    rows), in one session: the exports give each case's amount as its page does."""
    with portal.reading() as session:
        return {cast(int, a.id): _grant(portal, session, a) for a in applications}


def _grant(portal: Portal, session: Session, application: Application) -> Grant:
    application_id = cast(int, application.id)
    _, state = workflow_of(portal, application)
    if state.final and not _approved(session, application_id):
        return Grant(None, None, None)
    benefit = (application.eligibility_trace or {}).get("benefit")
    ceiling = money_ceiling(rule_of(portal, application), benefit) if application.rule_version else None
    requested = requested_amount(portal, session, application) if ceiling is not None else None
    unset = ceiling is not None and application.granted_amount is None
    withdrawn = _last_withdrawn(session, application_id) if unset else None
    return Grant(ceiling, application.granted_amount, application.granted_reason, requested, withdrawn)


def _last_withdrawn(session: Session, application_id: int) -> Withdrawn | None:
    """The withdrawal, if the case's last word on its amount was one (not a setting since)."""
    event = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.subject_type) == "application")
        .where(col(AuditEvent.subject_id) == str(application_id))
        .where(col(AuditEvent.event).in_((SET_EVENT, WITHDRAWN_EVENT)))
        .order_by(col(AuditEvent.seq).desc())
    ).first()
    if event is None or event.event != WITHDRAWN_EVENT:
        return None
    return _withdrawn(event)


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def _withdrawn(event: AuditEvent) -> Withdrawn:
    """A `granted_amount_withdrawn` audit row, read back."""
    payload = event.payload or {}
    return Withdrawn(
        amount=Decimal(str(payload["amount"])),
        reason=payload.get("reason"),
        requested=_money(payload.get("requested")),
        default=_money(payload.get("default")),
        by_request=bool(payload.get("by_request")),
        at=event.at,
        ceiling=_money(payload.get("ceiling")),
        via="reconcile" if payload.get("via") == "reconcile" else "resubmission",
    )


def withdrawals_in(trail: Sequence[AuditEvent]) -> list[tuple[int, Withdrawn]]:
    """The withdrawals in a case's audit trail (`case_files.audit_trail`, staff only), oldest
    first, each with how many of the case's transitions preceded it: where it stands in the
    case's history. A transition's audit row is the one that names its workflow (as
    `audit_crosscheck` counts them); times cannot order them, as a pinned clock makes them equal."""
    placed, transitions = [], 0
    for event in trail:
        if event.event == WITHDRAWN_EVENT:
            placed.append((transitions, _withdrawn(event)))
        elif isinstance(event.payload, dict) and "workflow" in event.payload:
            transitions += 1
    return placed


def withdraw_above_limit(
    session: Session,
    portal: Portal,
    application: Application,
    expected_version: int,
    *,
    via: Via = "resubmission",
) -> int:
    """Withdraw the amount set on the case if the answers submitted put it above the limit.

    Called inside the use case that stored the new answers and trace (a resubmission), after
    it, or by `reconcile`: the set amount and its reason are cleared, so the default (the lower
    of the rule's amount and the new request; nothing when the rule grants no money) applies
    until the lead unit sets an amount again; the withdrawal is audited with what was withdrawn
    and why, and the lead unit's reviewers are told. Returns the case's version (unchanged when
    nothing was withdrawn).
    """
    excess = grant_excess(portal, session, application)
    if excess is None:
        return expected_version
    reason = application.granted_reason
    version = bump(
        session,
        application,
        expected_version,
        {"granted_amount": None, "granted_reason": None, "updated_at": portal.now()},
    )
    # The portal's rule withdraws it, not the enterprise: the row names the system as the actor,
    # and the submission that caused it by the answers' version.
    audit_case(
        session,
        SYSTEM_ACTOR,
        application,
        WITHDRAWN_EVENT,
        {
            "amount": excess.amount,
            "reason": reason,
            "ceiling": excess.ceiling,
            "requested": excess.requested,
            "default": excess.most,
            "by_request": excess.by_request,
            "answers_version": application.answers_version,
            "version": version,
            "via": via,
        },
    )
    params: dict[str, object] = {
        "id": application.id,
        "measure": application.measure_id,
        "amount": str(excess.amount),
        "cause": excess.cause,
    }
    if excess.most is not None:
        params["limit"] = str(excess.most)
    if via == "reconcile":
        message = "note.grant_reconciled"
    else:
        message = "note.grant_withdrawn_no_money" if excess.most is None else "note.grant_withdrawn"
    notify(
        session,
        kind="work_item",
        role="reviewer",
        bureau=application.lead_unit,
        link=f"/review/{application.id}#grant",
        message=message,
        params=params,
        dedupe_key=f"grant_withdrawn:{application.id}:{version}",
    )
    return version


@dataclass(frozen=True)
class StaleGrant:
    """An undecided case whose set amount no longer stands (`decisions.grant_excess`)."""

    application_id: int
    state: str
    stage: Label
    """The state's name as people read it (the CLI prints the English one)."""
    excess: GrantExcess


def stale_grants(portal: Portal, only: Collection[int] = ()) -> list[StaleGrant]:
    """The open, undecided cases whose set amount is above what may now be granted, by id.

    `only` narrows it to those cases; an id that is no case is NotFound. A decided case is left
    out: its decision, letter and payment carry their own amount, which a letter correction changes.
    """
    with portal.reading() as session:
        query = select(Application).where(col(Application.granted_amount).is_not(None))
        if only:
            known = set(session.exec(select(Application.id).where(col(Application.id).in_(set(only)))).all())
            missing = sorted(set(only) - known)
            if missing:
                raise NotFound("application", missing[0])
            query = query.where(col(Application.id).in_(set(only)))
        found = []
        for application in session.exec(query.order_by(col(Application.id))).all():
            stale = _stale(portal, session, application)
            if stale is not None:
                found.append(stale)
        return found


def _stale(portal: Portal, session: Session, application: Application) -> StaleGrant | None:
    _, state = workflow_of(portal, application)
    decided = session.exec(select(Decision.id).where(col(Decision.application_id) == application.id)).first()
    if state.final or decided is not None:
        return None
    excess = grant_excess(portal, session, application)
    if excess is None:
        return None
    return StaleGrant(cast(int, application.id), application.state, state.label, excess)


def reconcile(portal: Portal, application_id: int) -> StaleGrant | None:
    """Withdraw one case's stale amount as a resubmission would have (same audit, same notice,
    marked `via: reconcile`), in a transaction of its own; None when it stands after all (set
    again, or decided, meanwhile). A concurrent change of the case is StaleVersion."""
    with portal.transaction() as session:
        application = session.get(Application, application_id)
        if application is None:
            raise NotFound("application", application_id)
        stale = _stale(portal, session, application)
        if stale is None:
            return None
        withdraw_above_limit(session, portal, application, application.version, via="reconcile")
        return stale


def decided_grant(portal: Portal, actor: Actor, application_id: int) -> Grant | None:
    """What the approving decision granted, for the enterprise's own page; None before it.

    Read from the decision, not the case, so the page says what the letter says.
    """
    with portal.reading() as session:
        load_visible(session, actor, application_id)
        decision = session.exec(
            select(Decision)
            .where(col(Decision.application_id) == application_id)
            .where(col(Decision.outcome) == DecisionOutcome.APPROVED)
        ).first()
        if decision is None or decision.granted_amount is None:
            return None
        return Grant(None, Decimal(decision.granted_amount), decision.granted_reason)


def _approved(session: Session, application_id: int) -> bool:
    outcome = session.exec(
        select(Decision.outcome).where(col(Decision.application_id) == application_id)
    ).first()
    return outcome == DecisionOutcome.APPROVED


def set_granted_amount(
    portal: Portal, actor: Actor, application_id: int, amount: Decimal, reason: str, expected_version: int
) -> int:
    """Record the amount the lead unit grants; returns the case's new version.

    Refused for a measure that grants no money and from the public notice on; a field error for an
    amount above the rule's or above the amount requested, negative or finer than a fen, and for
    an amount below the lower of those two without a reason. The errors carry the limits as
    `params` (Decimal yuan), so a page can say them as money in the reader's language.
    """
    reason = reason.strip()
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        if not is_lead_unit_staff(actor, application):
            raise Refused(
                "wrong_jurisdiction",
                "仅牵头单位审核人员可以核定兑现金额",
                "only the lead unit's reviewers set the granted amount",
            )
        _, state = workflow_of(portal, application)
        if state.kind not in GRANT_OPEN_KINDS:
            raise Refused(
                "not_in_review",
                "仅在审核阶段可以核定兑现金额；公示开始后，金额以公示为准，不再变更",
                "the granted amount is set during review only; once the public notice has begun, "
                "the amount shown in it stands",
            )
        ceiling = money_ceiling(
            rule_of(portal, application), (application.eligibility_trace or {}).get("benefit")
        )
        if ceiling is None:
            raise Refused("no_money_benefit", "该政策不涉及资金兑现", "this measure grants no money")
        requested = requested_amount(portal, session, application)
        # The most that may be granted, and what is granted unless less is set: never above the request.
        by_request = requested is not None and requested < ceiling
        most = requested if requested is not None and by_request else ceiling
        limits = {"ceiling": ceiling, "maximum": most, "requested": requested}
        problems = []
        if not amount.is_finite() or amount < 0 or (amount > most and not by_request):
            problems.append(FieldProblem("granted_amount", f"must be between 0 and {most}", "range", limits))
        elif amount > most:
            problems.append(
                FieldProblem(
                    "granted_amount", f"at most the amount requested ({most})", "above_requested", limits
                )
            )
        elif amount != amount.quantize(_CENT):
            problems.append(FieldProblem("granted_amount", "at most two decimal places (fen)", "fen"))
        elif amount < most and not reason:
            # Granting less than the default is a decision against the applicant: it is explained.
            problems.append(
                FieldProblem(
                    "granted_reason",
                    "say why less than the amount requested is granted"
                    if by_request
                    else "say why less than the rule's amount is granted",
                    "below_requested" if by_request else "required",
                    limits,
                )
            )
        if len(reason) > MAX_REASON:
            problems.append(FieldProblem("granted_reason", f"at most {MAX_REASON} characters", "too_long"))
        if problems:
            raise ValidationFailed(problems)
        version = bump(
            session,
            application,
            expected_version,
            {"granted_amount": amount, "granted_reason": reason or None, "updated_at": portal.now()},
        )
        audit_case(
            session,
            actor,
            application,
            SET_EVENT,
            {"granted_amount": amount, "ceiling": ceiling, "requested": requested, "version": version},
            comment=reason or None,
        )
        return version
