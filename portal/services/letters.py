"""Stored letters seen from outside the review: the owner's download, public verification, re-rendering.

Issuing letters belongs to `portal.services.decisions`, correcting them to
`portal.services.corrections`; this module only reads.
A stored letter is never rewritten (the database refuses UPDATE and DELETE on it), so
re-rendering returns new bytes for inspection and leaves the stored ones alone.
"""

import hashlib
import hmac
from dataclasses import dataclass
from typing import cast

from sqlmodel import Session, col, select

from portal import documents  # documents.render_letter loads WeasyPrint on first use, not here
from portal.db.tables import Application, AuditEvent, Decision, Letter, Listing, ListingEvent, Transition
from portal.documents.model import LISTING_LETTER_KINDS, Language, LetterKind
from portal.services.context import Portal
from portal.services.decisions import LetterInfo, disbursing_states, letter_data, verify_code
from portal.services.errors import BadStoredState, NotFound
from portal.services.listings import subject_of
from portal.workflows import Actor

CORRECTION_EVENT = "letter_corrected"
# The audit payload key of a correction's corrected text. A correction issued before it was kept
# has none: it printed its reason for correcting as its text, and a re-render prints it so again.
OPINION_KEY = "opinion"


@dataclass(frozen=True)
class UploadCheck:
    """The answer to "is this PDF the one issued under this code?"."""

    letter: LetterInfo
    uploaded_sha256: str
    matches: bool
    other: tuple[str, str] | None = None
    """(verification code, document number) of another issued letter that the file is, byte for
    byte: a genuine letter checked on the wrong page is told apart from an altered one."""


@dataclass(frozen=True)
class Rerendered:
    """A letter rendered again from the stored decision, beside the stored letter's identity."""

    letter_id: int
    doc_number: str
    lang: str
    stored_sha256: str
    pdf: bytes
    sha256: str

    @property
    def identical(self) -> bool:
        """True when the re-render reproduces the stored bytes exactly (same data, same template)."""
        return self.sha256 == self.stored_sha256


def owned_letter(portal: Portal, actor: Actor, application_id: int, letter_id: int) -> Letter:
    """A letter of `application_id` for the enterprise that applied; NotFound for everyone else.

    Reviewers read letters through the case file; this is the enterprise's own download, so
    it answers only the owner, and a letter of another case is as absent as a missing one.
    """
    with portal.reading() as session:
        row = session.exec(
            select(Letter, Application)
            .join(Decision, col(Decision.id) == Letter.decision_id)
            .join(Application, col(Application.id) == Decision.application_id)
            .where(Letter.id == letter_id, Application.id == application_id)
        ).first()
        if row is None:
            raise NotFound("letter", letter_id)
        letter, application = row
        if actor.role != "enterprise" or actor.enterprise_id != application.enterprise_id:
            raise NotFound("letter", letter_id)
        return letter


def verify_upload(portal: Portal, code: str, uploaded_sha256: str) -> UploadCheck:
    """Compare an uploaded file's sha256 with the issued letter's, in constant time.

    Byte-for-byte identity is the only claim made: a re-saved, re-printed or re-signed copy
    of a genuine letter does not match, and the page says so.
    """
    info = verify_code(portal, code)
    digest = uploaded_sha256.lower()
    matches = hmac.compare_digest(digest.encode("ascii"), info.sha256.encode("ascii"))
    other = None
    if not matches:
        with portal.reading() as session:
            found = session.exec(
                select(Letter.verification_code, Letter.doc_number).where(col(Letter.sha256) == digest)
            ).first()
        other = (found[0], found[1]) if found is not None else None
    return UploadCheck(letter=info, uploaded_sha256=digest, matches=matches, other=other)


def sha256_hex(data: bytes) -> str:
    """The digest form stored with every letter (lower-case hex)."""
    return hashlib.sha256(data).hexdigest()


def rerender_letter(
    portal: Portal, decision_id: int, *, letter_id: int | None = None, lang: Language | None = None
) -> Rerendered:
    """Render one of a decision's letters again, without storing anything.

    `letter_id` picks the letter (default: the decision's newest); `lang` renders it in the
    other language. The letter keeps its document number, verification code and date, so a
    re-render in the stored language must equal the stored bytes unless the template or the
    pack changed since it was issued.
    """
    with portal.reading() as session:
        decision = session.get(Decision, decision_id)
        if decision is None:
            raise NotFound("decision", decision_id)
        query = select(Letter).where(Letter.decision_id == decision_id)
        if letter_id is not None:
            query = query.where(Letter.id == letter_id)
        letter = session.exec(query.order_by(col(Letter.id).desc())).first()
        if letter is None:
            raise NotFound("letter", letter_id if letter_id is not None else f"of decision {decision_id}")
        application = session.get(Application, decision.application_id)
        if application is None:
            raise BadStoredState("decision", decision_id, "its application row is missing")
        older = session.get(Letter, letter.supersedes_id) if letter.supersedes_id is not None else None
        correction = _correction_event(session, letter)
        data = letter_data(
            session,
            portal,
            application=application,
            decision=decision,
            kind=cast(LetterKind, letter.kind),
            lang=lang or cast(Language, letter.lang),
            reasons=_reasons_printed(session, portal, letter, application),
            doc_number=letter.doc_number,
            verification_code=letter.verification_code,
            issued_on=portal.clock.local_date(letter.issued_at),
            supersedes=older,
            correction_reason=_correction_reason(correction),
            subject=subject_printed(session, letter),
        )
        pdf = documents.render_letter(data)
        return Rerendered(
            letter_id=cast(int, letter.id),
            doc_number=letter.doc_number,
            lang=data.lang,
            stored_sha256=letter.sha256,
            pdf=pdf,
            sha256=sha256_hex(pdf),
        )


def _listing_event(session: Session, letter: Letter) -> ListingEvent | None:
    """The register-entry step a suspension, reinstatement or revocation letter was issued for
    (for a correction of one, the step the letter it corrects was issued for)."""
    if letter.kind not in LISTING_LETTER_KINDS:
        return None
    while letter.supersedes_id is not None:
        letter = session.get_one(Letter, letter.supersedes_id)
    event = session.exec(select(ListingEvent).where(ListingEvent.letter_id == letter.id)).first()
    if event is None:
        raise BadStoredState("letter", letter.id, "a listing letter without its listing event")
    return event


def subject_printed(session: Session, letter: Letter) -> str | None:
    """What a letter about a register entry acts on (None for other letters)."""
    event = _listing_event(session, letter)
    if event is None:
        return None
    listing = session.get(Listing, event.listing_id)
    assert listing is not None  # the event's foreign key
    return subject_of(listing)


def _correction_event(session: Session, letter: Letter) -> AuditEvent | None:
    """The audit event of a correction (None for a letter that corrects none)."""
    if letter.supersedes_id is None:
        return None
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.subject_type == "letter",
            AuditEvent.subject_id == str(letter.id),
            AuditEvent.event == CORRECTION_EVENT,
        )
    ).first()
    if event is None or event.comment is None:
        raise BadStoredState("letter", letter.id, "a correction without its audit event")
    return event


def _correction_reason(correction: AuditEvent | None) -> str | None:
    """Why a correction corrects, as it prints it; None for a letter that corrects none, or for a
    correction that printed its reason as its text (issued before the two were kept apart)."""
    if correction is None or OPINION_KEY not in (correction.payload or {}):
        return None
    return correction.comment


def _reasons_printed(
    session: Session, portal: Portal, letter: Letter, application: Application
) -> str | None:
    """The reasons a letter printed when they were not the decision's own (None: the decision's).

    A correction prints the corrected text kept on its audit event; a listing letter its step's
    reasons; a disbursement notice the disbursing transition's comment, if it had one.
    """
    correction = _correction_event(session, letter)
    if correction is not None:
        return str((correction.payload or {}).get(OPINION_KEY, correction.comment))
    event = _listing_event(session, letter)
    if event is not None:
        return event.reasons
    if letter.kind == "disbursement":
        comment = session.exec(
            select(Transition.comment)
            .where(
                Transition.application_id == application.id,
                col(Transition.to_state).in_(disbursing_states(portal, application)),
            )
            .order_by(col(Transition.id).desc())
        ).first()
        return comment or None
    return None


def opinion_of(session: Session, portal: Portal, letter: Letter) -> str:
    """The text a letter printed as its opinion (审核意见, 理由 or 说明), which a correction of it
    starts from: without the reason for granting less, which the decision keeps and every
    approval letter prints after it."""
    decision = session.get_one(Decision, letter.decision_id)
    application = session.get_one(Application, decision.application_id)
    printed = _reasons_printed(session, portal, letter, application)
    if printed is None and letter.kind != "disbursement":
        printed = decision.reasons
    return printed or ""
