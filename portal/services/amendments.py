"""Returning a case for amendment with the form sections the enterprise must change.

The workflow event carries only a comment; which sections are reopened is recorded in the
same transition's audit payload, so the request and its scope are one tamper-evident row and
the enterprise's form can reopen exactly those sections and nothing else.
"""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from portal.db.tables import AuditEvent
from portal.services.access import load_visible
from portal.services.cases import REOPENED_KEY, Moved, advance
from portal.services.context import Portal
from portal.services.errors import FieldProblem, ValidationFailed
from portal.workflows import Actor

RETURN_EVENT = "return_for_amendment"


def return_for_amendment(
    portal: Portal,
    actor: Actor,
    application_id: int,
    *,
    sections: Sequence[str],
    comment: str | None,
    expected_version: int,
) -> Moved:
    """Fire `return_for_amendment`, recording the sections to reopen (all of them when empty)."""
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        form = portal.forms.get(application.measure_id)
        known = [s.id for s in form.sections] if form is not None else []
        unknown = [s for s in sections if s not in known]
        if unknown:
            raise ValidationFailed([FieldProblem("sections", f"the form has no section {unknown[0]!r}")])
        chosen = list(dict.fromkeys(sections)) or known
        return advance(
            session,
            portal,
            application,
            actor,
            RETURN_EVENT,
            comment=comment,
            expected_version=expected_version,
            audit_payload={REOPENED_KEY: chosen},
        )


def reopened_sections(portal: Portal, actor: Actor, application_id: int) -> list[str] | None:
    """The sections the latest return asked to amend; None when the case was never returned
    this way (then the whole form is open, as for a draft)."""
    with portal.reading() as session:
        load_visible(session, actor, application_id)
        return reopened_in(session, application_id)


def reopened_in(session: Session, application_id: int) -> list[str] | None:
    """`reopened_sections` inside a use case's own transaction (the caller has checked access)."""
    event = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.subject_type) == "application")
        .where(col(AuditEvent.subject_id) == str(application_id))
        .where(col(AuditEvent.event) == RETURN_EVENT)
        .order_by(col(AuditEvent.seq).desc())
    ).first()
    return _sections(event.payload) if event is not None else None


def reopened_per_return(portal: Portal, actor: Actor, application_id: int) -> list[list[str] | None]:
    """The sections each return for amendment reopened, oldest first (None: the whole form).

    One entry per `return_for_amendment` transition, in the same order, since every transition
    writes one audit row under its event's name: the case history pairs them up by position.
    """
    with portal.reading() as session:
        load_visible(session, actor, application_id)
        payloads = session.exec(
            select(AuditEvent.payload)
            .where(col(AuditEvent.subject_type) == "application")
            .where(col(AuditEvent.subject_id) == str(application_id))
            .where(col(AuditEvent.event) == RETURN_EVENT)
            .order_by(col(AuditEvent.seq))
        ).all()
    return [_sections(payload) for payload in payloads]


def _sections(payload: object) -> list[str] | None:
    sections = payload.get(REOPENED_KEY) if isinstance(payload, dict) else None
    return [str(s) for s in sections] if isinstance(sections, list) else None
