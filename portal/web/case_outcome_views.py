"""What the reviewers' case page shows beside the file: the expert panel, the granted amount, the letters."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from portal.db.tables import Application
from portal.services import applications as app_service
from portal.services import assignment, corrections, decisions, grants, notices, payments
from portal.services import experts as expert_service
from portal.services.access import is_lead_unit_staff
from portal.services.cases import OBJECTION_DECISIONS
from portal.services.context import Portal
from portal.web.case_views import label
from portal.web.i18n import Translator, request_lang
from portal.web.session_auth import portal_of
from portal.workflows import Actor


def outcome_context(request: Request, actor: Actor, application: Application) -> dict[str, Any]:
    """What the case page shows about the money granted and the letters issued."""
    portal = portal_of(request)
    assert application.id is not None
    grant = grants.grant_of(portal, actor, application.id)
    kind = portal.workflows[application.workflow].state(application.state).kind
    return {
        "grant": grant,
        "grant_notes": _grant_notes(portal, grant, Translator(request_lang(request))),
        # Only the lead unit sets the amount: nobody else is shown a form the service would refuse.
        "grant_open": grant.ceiling is not None
        and kind in decisions.GRANT_OPEN_KINDS
        and is_lead_unit_staff(actor, application),
        "letters": decisions.letters_for(portal, actor, application.id),
        # The text each letter's correction starts from; only the lead unit corrects letters.
        "correction_starts": corrections.correction_starts(portal, actor, application.id)
        if is_lead_unit_staff(actor, application)
        else {},
        # A refused correction: its letter, field errors and what was typed (the route sets it).
        "correcting": None,
        "grant_errors": {},
        "grant_values": {},
        # The reason box asks why the amount is below the request, or below the rule's ceiling.
        "grant_reason_label": "grant.field.granted_reason_requested"
        if grant.capped_by_request
        else "grant.field.granted_reason",
    }


def _grant_notes(portal: Portal, grant: grants.Grant, t: Translator) -> list[str]:
    """Why the amount granted is not what was set earlier, or why it cannot stand, in words."""
    notes = []
    withdrawn = grant.withdrawn
    if withdrawn is not None:
        words = {
            "amount": t.money(withdrawn.amount),
            "at": portal.clock.in_words(withdrawn.at, t.lang),
            "requested": t.money(withdrawn.requested),
            "ceiling": t.money(grant.ceiling),
            "default": t.money(withdrawn.default),
        }
        key = "grant.withdrawn.requested" if withdrawn.by_request else "grant.withdrawn.ceiling"
        notes.append(t(key, **words))
        if withdrawn.reason:
            notes.append(t("grant.withdrawn.reason", reason=withdrawn.reason))
    elif grant.above_limit:
        # Set before amounts were checked against a changed request: it cannot go on notice as it is.
        key = "grant.above_requested" if grant.capped_by_request else "grant.above_ceiling"
        notes.append(t(key, amount=t.money(grant.amount), default=t.money(grant.default)))
    return notes


def panel_context(request: Request, actor: Actor, application: Application) -> dict[str, Any]:
    """The panel (once anyone is assigned), and whether this reviewer may change it."""
    portal = portal_of(request)
    assert application.id is not None
    view = expert_service.panel_view(portal, actor, application.id)
    if not view.members:
        return {"panel": None}
    lang = request_lang(request)
    rubric = portal.rubric_for(application.measure_id)
    kind = portal.workflows[application.workflow].state(application.state).kind
    actions = is_lead_unit_staff(actor, application) and kind == "expert"
    return {
        "panel": view,
        "panel_actions": actions,
        "roster": expert_service.panel_candidates(portal, actor, application.id) if actions else [],
        "rubric_labels": [
            {"id": c.id, "label": label(c.label, lang), "weight": c.weight} for c in rubric.criteria
        ],
        "pass_mark": rubric.pass_mark,
    }


def notice_context(request: Request, actor: Actor, application: Application) -> dict[str, Any]:
    """Objections to the case (they name the objector, so staff only) and whether it may close now.

    While one is pending, the page says how to decide it only to a reviewer who is offered the
    deciding actions, and that the case is held to anyone else; once decided, it says the outcome.
    """
    portal = portal_of(request)
    assert application.id is not None
    objections = notices.objections_of(portal, actor, application.id)
    pending = any(o.sustained is None for o in objections)
    offered = pending and any(
        e.name in OBJECTION_DECISIONS for e in app_service.allowed_events(portal, actor, application.id)
    )
    # One deciding action settles every objection pending then: one line per decision.
    decided = sorted(
        {(o.decided_at, o.sustained) for o in objections if o.sustained is not None and o.decided_at},
        key=lambda d: d[0],
    )
    return {
        "objections": objections,
        "objections_pending": pending,
        "objection_actions_offered": offered,
        "objection_decisions": [{"at": at, "upheld": upheld} for at, upheld in decided],
        "notice_closable": notices.notice_closable(portal, actor, application.id),
    }


def ownership_context(request: Request, actor: Actor, application: Application) -> dict[str, Any]:
    """Who holds the case, and the colleagues it can be given to (a closed case is nobody's work);
    an open case nobody but its holder can take says so rather than offering an empty choice."""
    portal = portal_of(request)
    assert application.id is not None
    holder = application.assignee_id
    closed = assignment.is_closed(portal, application)
    others = [c for c in assignment.colleagues(portal, actor, application.id) if c.id != holder]
    return {
        "closed": closed,
        "may_claim": assignment.may_claim(portal, actor, application),
        "holder_id": holder,
        "holder_name": assignment.holder_names(portal, {holder}).get(holder, "") if holder else "",
        "colleagues": others,
        "nobody_else": not closed and not others,
    }


def payment_context(request: Request, actor: Actor, application: Application) -> dict[str, Any]:
    """The case's payment attempts in words, newest first: the batch, when, the amount, and for a
    payment the bank reported failed its reason and what to do (its disbursement is held)."""
    portal = portal_of(request)
    assert application.id is not None
    t = Translator(request_lang(request))
    rows = []
    for attempt in payments.case_payments(portal, actor, application.id):
        at = portal.clock.in_words(attempt.settled_at or attempt.added_at, t.lang)
        words = {"batch": attempt.batch_id, "at": at, "amount": t.money(attempt.amount)}
        if attempt.outcome == "failed":
            reason = attempt.bank_message or t("pay.case.no_reason")
            key = "pay.case.failed" if attempt.held_as_failed else "pay.case.failed_before"
            text = t(key, reason=reason, **words)
        else:
            text = t(f"pay.case.{attempt.outcome}", **words)
        rows.append({
            "text": text,
            "held": attempt.held_as_failed,
            "batch_id": attempt.batch_id if attempt.batch_reachable else None,
        })  # fmt: skip
    return {"payments": rows}


def own_payment_context(request: Request, actor: Actor, application: Application) -> list[dict[str, Any]]:
    """The enterprise's own words for its case's payment attempts, newest first: money on its way,
    paid, or a payment the bank reported failed, with the bank's explanation and what to do
    (check the account it is paid into; the bureau pays again) until a new attempt is under way.

    Batch numbers stay off this page: they are the bureau's bookkeeping, not the enterprise's.
    """
    portal = portal_of(request)
    assert application.id is not None
    t = Translator(request_lang(request))
    attempts = payments.case_payments(portal, actor, application.id)
    rows = []
    for index, attempt in enumerate(attempts):
        at = portal.clock.in_words(attempt.settled_at or attempt.added_at, t.lang)
        words = {"at": at, "amount": t.money(attempt.amount)}
        retried = any(a.outcome == "failed" for a in attempts[index + 1 :])
        if attempt.outcome == "failed":
            reason = attempt.bank_message or t("reason.none_given")
            key = "pay.own.failed" if attempt.held_as_failed else "pay.own.failed_before"
            text = t(key, reason=reason, **words)
        elif attempt.outcome == "pending":
            text = t("pay.own.retry" if retried else "pay.own.pending", **words)
        else:
            text = t("pay.own.paid", **words)
        rows.append({"text": text, "failed": attempt.held_as_failed, "newest": index == 0})
    return rows
