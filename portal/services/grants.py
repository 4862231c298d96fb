"""The granted amount (核定兑现金额): what the lead unit decides to pay, at or below the rule's amount
and never above what the applicant asked for.

A rule computes an amount or a cap; where the form names the answer that states the amount
requested (`requested_amount_field`), the lower of the two is the most that may be granted and
what is granted unless the bureau sets less. The bureau grants that or less, and says why when it
is less. The amount is set on the case while it is under review, shown by the public notice, and
copied onto the decision the approving transition records. Once the notice has begun the
amount is what the public was shown, so it no longer changes.

A set amount stands only while it is within that limit. When a resubmission changes it (the
enterprise asks for less in its amendment, or the rule's amount is recomputed lower), the set
amount is withdrawn in the same transaction and audited as `granted_amount_withdrawn`: the case
is back at the default until the lead unit sets an amount again, and its page says why. Entering
the notice or the approval with an amount above the limit is refused besides
(`decisions.refuse_grant_above_limit`).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from portal.db.tables import Application, AuditEvent, Decision, DecisionOutcome
from portal.services.access import is_lead_unit_staff, load_visible
from portal.services.cases import audit_case, bump, workflow_of
from portal.services.context import Portal
from portal.services.decisions import (
    GRANT_OPEN_KINDS,
    default_grant,
    grant_excess,
    money_ceiling,
    requested_amount,
    rule_of,
)
from portal.services.errors import FieldProblem, Refused, ValidationFailed
from portal.services.notifications import notify
from portal.workflows import Actor
from portal.workflows.context import SYSTEM_ACTOR

SET_EVENT, WITHDRAWN_EVENT = "granted_amount_set", "granted_amount_withdrawn"
_CENT = Decimal("0.01")
MAX_REASON = 2000


@dataclass(frozen=True)
class Withdrawn:
    """An amount the lead unit set that a later submission put above what may be granted.

    `by_request`: the amount requested fell below it (else the rule's amount did); `default` is
    what is granted now unless the lead unit sets an amount again.
    """

    amount: Decimal
    reason: str | None
    requested: Decimal | None
    default: Decimal
    by_request: bool
    at: datetime


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
        application = load_visible(session, actor, application_id)
        _, state = workflow_of(portal, application)
        if state.final and not _approved(session, application_id):
            return Grant(None, None, None)
        benefit = (application.eligibility_trace or {}).get("benefit")
        ceiling = money_ceiling(rule_of(portal, application), benefit) if application.rule_version else None
        requested = requested_amount(portal, session, application) if ceiling is not None else None
        withdrawn = (
            _last_withdrawn(session, application_id)
            if ceiling is not None and application.granted_amount is None
            else None
        )
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
    payload = event.payload or {}
    requested = payload.get("requested")
    return Withdrawn(
        amount=Decimal(str(payload["amount"])),
        reason=payload.get("reason"),
        requested=Decimal(str(requested)) if requested is not None else None,
        default=Decimal(str(payload["default"])),
        by_request=bool(payload.get("by_request")),
        at=event.at,
    )


def withdraw_above_limit(
    session: Session, portal: Portal, application: Application, expected_version: int
) -> int:
    """Withdraw the amount set on the case if the answers just submitted put it above the limit.

    Called inside the use case that stored the new answers and trace (a resubmission), after
    it: the set amount and its reason are cleared, so the default (the lower of the rule's
    amount and the new request) applies until the lead unit sets an amount again; the
    withdrawal is audited with what was withdrawn and why, and the lead unit's reviewers are
    told. Returns the case's version (unchanged when nothing was withdrawn).
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
        },
    )
    notify(
        session,
        kind="work_item",
        role="reviewer",
        bureau=application.lead_unit,
        link=f"/review/{application.id}#grant",
        message="note.grant_withdrawn",
        params={
            "id": application.id,
            "measure": application.measure_id,
            "amount": str(excess.amount),
            "limit": str(excess.most),
            "cause": "requested" if excess.by_request else "ceiling",
        },
        dedupe_key=f"grant_withdrawn:{application.id}:{version}",
    )
    return version


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
