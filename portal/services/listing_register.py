"""Entering a public register: part of the approving decision's transaction.

Which measures put an approval on public record, in which register and for how long, is the
rule file's `listing:` block; nothing here names a measure. A renewal application approved
later extends the entry it was started from, which keeps its number and its URL.
"""

from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import Application, ApplicationAnswers, Decision, Letter, Listing, ListingEvent
from portal.rules import Rule
from portal.rules.listing import ListingSpec
from portal.services.context import Portal
from portal.workflows import Actor

LISTED, SUSPENDED, EXPIRED, REVOKED = "listed", "suspended", "expired", "revoked"


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def listing_rule(portal: Portal, application: Application) -> Rule | None:
    """The rule version the application was judged on, if the pack still has it."""
    return next(
        (r for r in portal.pack.versions(application.measure_id) if r.version == application.rule_version),
        None,
    )


def submitted_answers(session: Session, application_id: int) -> dict[str, Any]:
    """The answers of the application's latest submission (what the decision was made on)."""
    row = session.exec(
        select(ApplicationAnswers)
        .where(col(ApplicationAnswers.application_id) == application_id)
        .where(col(ApplicationAnswers.submitted).is_(True))
        .order_by(col(ApplicationAnswers.version).desc())
    ).first()
    return dict(row.answers) if row is not None else {}


def _text(answers: dict[str, Any], spec: ListingSpec, column: str) -> str | None:
    field = spec.fields.get(column)
    value = answers.get(field) if field is not None else None
    if value is None or value == "":
        return None
    return str(value).strip()


def _money_granted(rule: Rule, decision: Decision) -> Decimal | None:
    """The money the decision grants (its benefit lines of type money), or None for a status."""
    amounts = [
        Decimal(str(value))
        for name, value in (decision.benefit or {}).items()
        if name in rule.benefit and rule.benefit[name].type == "money"
    ]
    return sum(amounts, Decimal(0)) if amounts else None


def record_event(
    session: Session,
    portal: Portal,
    listing: Listing,
    event: str,
    actor: Actor | None,
    *,
    reasons: str | None = None,
    letter: Letter | None = None,
    application_id: int | None = None,
    payload: dict[str, object] | None = None,
) -> ListingEvent:
    """One step of the entry's public history, and its audit row, in the caller's transaction."""
    actor_id = actor.user_id if actor is not None and actor.role != "system" else None
    row = ListingEvent(
        listing_id=cast(int, listing.id),
        event=event,
        at=portal.now(),
        actor_id=actor_id,
        reasons=reasons,
        letter_id=letter.id if letter is not None else None,
        application_id=application_id,
        expires_on=listing.expires_on,
    )
    session.add(row)
    append_audit(
        session,
        actor_id=actor_id,
        actor_role=actor.role if actor is not None else "system",
        subject_type="listing",
        subject_id=cast(int, listing.id),
        event=f"listing_{event}",
        from_state=None,
        to_state=listing.status,
        comment=reasons,
        payload={
            "measure_id": listing.measure_id,
            "status": listing.status,
            "expires_on": listing.expires_on,
            "letter": None if letter is None else {"id": letter.id, "doc_number": letter.doc_number},
            **(payload or {}),
        },
    )
    return row


def enter_register(
    session: Session,
    portal: Portal,
    *,
    application: Application,
    decision: Decision,
    letter: Letter,
    actor: Actor,
) -> Listing | None:
    """Create (or, for a renewal, extend) the register entry an approval implies; None if none."""
    rule = listing_rule(portal, application)
    if rule is None or rule.listing is None:
        return None
    spec = rule.listing
    today = portal.today()
    renewed = session.exec(
        select(Listing).where(col(Listing.renewal_application_id) == application.id)
    ).first()
    answers = submitted_answers(session, cast(int, application.id))
    if renewed is not None:
        base = max(renewed.expires_on or today, today)
        renewed.expires_on = add_years(base, spec.valid_years) if spec.valid_years else None
        # A renewal extends the term; it does not lift a suspension made meanwhile.
        renewed.status = SUSPENDED if renewed.status == SUSPENDED else LISTED
        renewed.summary = _text(answers, spec, "summary") or renewed.summary
        renewed.specs = _text(answers, spec, "specs") or renewed.specs
        renewed.letter_id = cast(int, letter.id)
        renewed.doc_number = letter.doc_number
        renewed.verification_code = letter.verification_code
        renewed.renewal_application_id = None
        renewed.version += 1
        renewed.updated_at = portal.now()
        session.add(renewed)
        session.flush()
        record_event(session, portal, renewed, "renewed", actor, letter=letter, application_id=application.id)
        return renewed
    listing = Listing(
        application_id=cast(int, application.id),
        measure_id=application.measure_id,
        register_kind=spec.register,
        enterprise_id=application.enterprise_id,
        district=application.district,
        name=_text(answers, spec, "name") or rule.title.zh,
        kind=_text(answers, spec, "kind"),
        track=_text(answers, spec, "track"),
        summary=_text(answers, spec, "summary"),
        specs=_text(answers, spec, "specs"),
        letter_id=cast(int, letter.id),
        doc_number=letter.doc_number,
        verification_code=letter.verification_code,
        listed_on=today,
        expires_on=add_years(today, spec.valid_years) if spec.valid_years else None,
        status=LISTED,
        amount=_money_granted(rule, decision),
        created_at=portal.now(),
        updated_at=portal.now(),
    )
    session.add(listing)
    session.flush()
    record_event(session, portal, listing, "listed", actor, letter=letter, application_id=application.id)
    return listing
