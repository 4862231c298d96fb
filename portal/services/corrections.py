"""Correcting a letter: a new letter that supersedes the old one, which stays as it was issued.

A letter is never rewritten. The correction prints the corrected text as its opinion (审核意见,
理由 or 说明) and opens by naming the letter it replaces, by number and day, with the reason
for correcting it. Both texts are kept on the correction's audit event, so a re-render prints
them again.
"""

from typing import cast

from sqlmodel import col, select

from portal.db.audit import append_audit
from portal.db.tables import Decision, Letter
from portal.documents.model import Language, LetterKind
from portal.services.access import is_lead_unit_staff, load_visible
from portal.services.context import Portal
from portal.services.decisions import issue_letter
from portal.services.errors import Conflict, FieldProblem, NotFound, Refused, ValidationFailed
from portal.services.letters import CORRECTION_EVENT, OPINION_KEY, opinion_of, subject_printed
from portal.workflows import Actor

# A disbursement notice's 说明 may be empty; every other letter states its opinion or reasons.
OPINION_OPTIONAL = frozenset({"disbursement"})


def correction_starts(portal: Portal, actor: Actor, application_id: int) -> dict[int, str]:
    """For each letter of the case that may be corrected (no correction replaces it yet), the
    text its correction starts from: the opinion the letter printed."""
    with portal.reading() as session:
        load_visible(session, actor, application_id)
        letters = session.exec(
            select(Letter)
            .join(Decision, col(Decision.id) == Letter.decision_id)
            .where(Decision.application_id == application_id)
        ).all()
        replaced = {letter.supersedes_id for letter in letters}
        return {
            cast(int, letter.id): opinion_of(session, portal, letter)
            for letter in letters
            if letter.id not in replaced
        }


def correct_letter(
    portal: Portal,
    actor: Actor,
    letter_id: int,
    *,
    reasons: str,
    opinion: str | None = None,
    lang: Language | None = None,
) -> Letter:
    """Issue a corrected letter that supersedes `letter_id`; the old one stays, unchanged.

    `opinion` is the corrected text the new letter prints as its opinion (None: the old letter's,
    e.g. a letter issued again in the other language); `reasons` says why the letter is corrected.
    Only a reviewer of the measure's lead unit (or an admin) corrects letters.
    """
    with portal.transaction() as session:
        old = session.get(Letter, letter_id)
        if old is None:
            raise NotFound("letter", letter_id)
        decision = session.get_one(Decision, old.decision_id)
        application = load_visible(session, actor, decision.application_id)
        if not is_lead_unit_staff(actor, application):
            raise Refused(
                "wrong_jurisdiction", "仅牵头单位可更正文书", "only the lead unit may correct a letter"
            )
        newer = session.exec(select(Letter.id).where(Letter.supersedes_id == old.id)).first()
        if newer is not None:
            raise Conflict(f"letter {letter_id} is already superseded; correct the newest letter instead")
        text = opinion_of(session, portal, old) if opinion is None else opinion.strip()
        problems = []
        if not text and old.kind not in OPINION_OPTIONAL:
            problems.append(FieldProblem("opinion", "the corrected letter must state its text", "required"))
        if not reasons.strip():
            problems.append(FieldProblem("reasons", "a correction must state its reasons", "required"))
        if problems:
            raise ValidationFailed(problems)
        letter = issue_letter(
            session,
            portal,
            application=application,
            decision=decision,
            kind=cast(LetterKind, old.kind),
            issued_by=actor.user_id,
            lang=lang or cast(Language, old.lang),
            reasons=text,
            supersedes=old,
            correction_reason=reasons.strip(),
            subject=subject_printed(session, old),
        )
        append_audit(
            session,
            actor_id=actor.user_id,
            actor_role=actor.role,
            subject_type="letter",
            subject_id=cast(int, letter.id),
            event=CORRECTION_EVENT,
            comment=reasons.strip(),
            payload={
                "supersedes": old.id,
                "doc_number": letter.doc_number,
                "sha256": letter.sha256,
                OPINION_KEY: text,
            },
        )
        return letter
