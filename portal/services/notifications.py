"""In-app notifications, and their delivery by e-mail when SMTP is configured.

A notification is stored as a message key with language-neutral parameters and rendered when
read: in the inbox in the reader's language, and in each e-mail in its recipient's (the
account's chosen language, or the one a member of the public used on the page they wrote from).

Writing a notification is part of the use case's transaction; sending mail is not, because
an SMTP server must never be able to roll back a decision. Each pending message is then
claimed, sent outside any transaction, and settled: `emailed_at`, or after the last attempt
`email_failed_at`, with the attempt count and the last error kept on the row.
"""

import smtplib
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from email.message import EmailMessage
from typing import Any, Literal, Required, TypedDict, Unpack, cast

from sqlalchemy import ColumnElement, Table, insert, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from portal.db.audit import session_now
from portal.db.tables import Application, Notification, User
from portal.documents.formatting import format_amount
from portal.locales import long_date
from portal.messages import Lang, catalogue, normalise_lang
from portal.services.context import Portal
from portal.services.errors import NotFound
from portal.workflows import Actor

_TABLE: Table = Notification.__table__  # type: ignore[attr-defined]
# Built once: a statement object keeps its cache key, a new one per message computes it again.
_INSERT = insert(_TABLE)

# 免申即享 screening notices: one per (measure, rule version, enterprise), so a re-run tells nobody twice.
SCREENING_KIND = "screening"


def screening_prefix(measure_id: str) -> str:
    """The start of every screening notice's dedupe key for one measure (the dashboard counts by it)."""
    return f"{SCREENING_KIND}:{measure_id}:"


def screening_key(measure_id: str, version: str, enterprise_id: int) -> str:
    return f"{screening_prefix(measure_id)}{version}:{enterprise_id}"


class NoteFields(TypedDict, total=False):
    """What a notification says and to whom: the keywords of `note` and `notify`."""

    kind: Required[str]
    message: Required[str]
    params: Mapping[str, object] | None
    recipient_user_id: int | None
    enterprise_id: int | None
    role: str | None
    district: str | None
    bureau: str | None
    link: str | None
    dedupe_key: str | None
    email: str | None
    lang: str | None


def note(**fields: Unpack[NoteFields]) -> dict[str, object]:
    """One notification row to insert; a message the catalogue lacks is a ValueError.

    Only the catalogue key `message` and language-neutral `params` are stored (ids, state and
    enum names, ISO dates, amounts as strings); each reader, and each e-mail's recipient, gets
    them in their own language (`note_text`). `params["id"]`, where present, is always the
    application the note is about, so the inbox can give its reference number. `email`
    addresses someone without an account (an objector, a registrant) in `lang`.
    """
    message = fields["message"]
    if f"{message}.title" not in catalogue() or f"{message}.body" not in catalogue():
        raise ValueError(f"no message {message!r} in the catalogue")
    email = fields.get("email")
    params = fields.get("params")
    return {
        "recipient_user_id": fields.get("recipient_user_id"),
        "enterprise_id": fields.get("enterprise_id"),
        "role": fields.get("role"),
        "district": fields.get("district"),
        "bureau": fields.get("bureau"),
        "kind": fields["kind"],
        "link": fields.get("link"),
        "dedupe_key": fields.get("dedupe_key"),
        "email": email,
        "lang": normalise_lang(fields.get("lang")) if email is not None else None,
        "message": message,
        "params": dict(params) if params is not None else None,
    }


def notify(session: Session, **fields: Unpack[NoteFields]) -> bool:
    """Queue one notification (see `note`), stamped by the use case's clock as its audit rows are;
    with a `dedupe_key` already used, do nothing and return False."""
    row = {**note(**fields), "created_at": session_now(session)}
    dedupe_key = fields.get("dedupe_key")
    if dedupe_key is None:
        session.connection().execute(_INSERT, row)
        return True
    existing = session.exec(select(Notification.id).where(col(Notification.dedupe_key) == dedupe_key)).first()
    if existing is not None:
        return False
    # A concurrent writer may have used the key since the check; the savepoint keeps the
    # surrounding use case alive when the unique index says so.
    try:
        with session.begin_nested():
            session.connection().execute(_INSERT, row)
    except IntegrityError:
        return False
    return True


def notify_all(session: Session, rows: Sequence[Mapping[str, object]]) -> None:
    """Queue `note` rows without a dedupe key in one statement: one execution instead of one each."""
    if rows:
        now = session_now(session)
        session.connection().execute(_INSERT, [{**row, "created_at": now} for row in rows])


# Parameters holding an ISO date, shown as each language writes a date.
_DATE_PARAMS = frozenset({"date", "deadline", "last_day"})
# Parameters holding free text someone typed, which may be empty.
_TEXT_PARAMS = frozenset({"comment", "reasons"})
# Parameters holding yuan as a decimal string, shown as each language writes money.
_MONEY_PARAMS = frozenset({"amount", "limit"})


def _words(portal: Portal, message: str, params: Mapping[str, Any], lang: Lang) -> dict[str, object]:
    """Language-neutral parameters as words in `lang`.

    `measure` becomes its title, `district` its name, `state` (of `workflow`) its stage's label,
    a date param a date, an amount yuan, and any value with a catalogue entry
    `<message>.<param>.<value>` (an outcome, an action, a sentence chosen by the case) that entry,
    with the other words it names filled in.
    """
    texts = catalogue()
    words: dict[str, object] = dict(params)
    chosen: list[str] = []
    for name, value in params.items():
        enum_key = f"{message}.{name}.{value}"
        if enum_key in texts:
            words[name] = texts[enum_key][lang]
            chosen.append(name)
        elif name in _DATE_PARAMS and isinstance(value, str):
            with suppress(ValueError):  # a date that is not one reads as stored
                words[name] = long_date(date.fromisoformat(value), lang)
        elif name in _TEXT_PARAMS and not value:
            words[name] = texts["reason.none_given"][lang]
        elif name in _MONEY_PARAMS and isinstance(value, str):
            with suppress(InvalidOperation):  # an amount that is not one reads as stored
                words[name] = format_amount(Decimal(value), "money", lang)
    measure = params.get("measure")
    if isinstance(measure, str) and measure in portal.pack.measure_ids():
        versions = portal.pack.versions(measure)
        words["measure"] = versions[-1].title.get(lang)
    district = params.get("district")
    if isinstance(district, str) and district in portal.city.jurisdictions.labels:
        words["district"] = portal.city.jurisdictions.label(district, lang)
    sections = params.get("sections")
    if isinstance(sections, list) and isinstance(measure, str):
        words["sections"] = _section_titles(portal, measure, sections, lang)
    workflow = portal.workflows.get(str(params.get("workflow", "")))
    state = params.get("state")
    if workflow is not None and state in {s.name for s in workflow.states}:
        label = workflow.state(str(state)).label
        words["state"] = label.en if lang == "en" else label.zh
    for name in chosen:  # a chosen sentence may name other words ("{state}", "{last_day}")
        words[name] = str(words[name]).format_map({k: v for k, v in words.items() if k != name})
    return words


def _section_titles(portal: Portal, measure: str, sections: list[object], lang: Lang) -> str:
    """The form's sections by title, in the form's order; none listed means the whole form."""
    form = portal.forms.get(measure)
    texts = catalogue()
    if form is None or not sections:
        return texts["note.sections.all"][lang]
    titles = [s.title.en if lang == "en" else s.title.zh for s in form.sections if s.id in sections]
    return (", " if lang == "en" else "、").join(titles) or texts["note.sections.all"][lang]


def note_text(portal: Portal, note: Notification, lang: Lang, *, settled: bool = False) -> tuple[str, str]:
    """A note's title and body in `lang`; a note written before message keys has only its Chinese.

    A `settled` work item (see `settled_work`) says that it no longer waits, in its own words.
    """
    if note.message is None or f"{note.message}.title" not in catalogue():
        return note.title or "", note.body or ""
    message = SETTLED_MESSAGE if settled else note.message
    words = _words(portal, message, note.params or {}, lang)
    texts = catalogue()
    typed = [str(v) for k, v in (note.params or {}).items() if k in _TEXT_PARAMS and v]
    return (
        _one_stop(texts[f"{message}.title"][lang].format(**words), typed),
        _one_stop(texts[f"{message}.body"][lang].format(**words), typed),
    )


_SENTENCE_ENDS = ("。", "！", "？", ".", "!", "?")


def _one_stop(text: str, typed: Sequence[str]) -> str:
    """`text` with no second full stop after a typed reason that ends its own sentence
    (理由：…请重新上传。。 reads 理由：…请重新上传。): the message puts one after it."""
    for value in typed:
        if value.endswith(_SENTENCE_ENDS):
            text = text.replace(f"{value}。", value).replace(f"{value}.", value)
    return text


def case_of(note: Notification) -> int | None:
    """The application a note is about, if it is about one (`params["id"]`, see `notify`)."""
    case = (note.params or {}).get("id") if note.message is not None else None
    return case if isinstance(case, int) else None


def _addressed_to(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause of "notifications this actor receives"."""
    clauses = [col(Notification.recipient_user_id) == actor.user_id]
    if actor.enterprise_id is not None:
        clauses.append(col(Notification.enterprise_id) == actor.enterprise_id)
    clauses.append(
        (col(Notification.role) == actor.role)
        & or_(col(Notification.district).is_(None), col(Notification.district) == actor.district)
        & or_(col(Notification.bureau).is_(None), col(Notification.bureau) == actor.bureau)
    )
    return or_(*clauses)


def inbox(portal: Portal, actor: Actor, *, unread_only: bool = False, limit: int = 100) -> list[Notification]:
    """The actor's notifications, newest first."""
    query = select(Notification).where(_addressed_to(actor))
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    query = query.order_by(col(Notification.created_at).desc(), col(Notification.id).desc()).limit(limit)
    with portal.reading() as session:
        return list(session.exec(query).all())


WORK_ITEM = "work_item"
# What a work item whose case has moved on reads as, in place of its own message.
SETTLED_MESSAGE = "note.work_settled"


def _stage_of(note: Notification) -> tuple[int, str] | None:
    """The case and stage a work item asks someone to act at, when it names both."""
    case, state = case_of(note), (note.params or {}).get("state")
    if note.kind != WORK_ITEM or case is None or not isinstance(state, str):
        return None
    return case, state


def settled_work(portal: Portal, notes: Sequence[Notification]) -> set[int]:
    """The ids of the work items among `notes` that wait for nobody any more.

    A work item is about one case at one stage. It waits while the case is still at that stage
    and it is the newest of its kind for that case and stage; once the case has moved on (or was
    withdrawn, or closed), or the case came back to the stage and a newer item says so, it is
    done. The cases' stages are read as they are now, so nothing has to settle the items.
    """
    staged = {n.id: at for n in notes if n.id is not None and (at := _stage_of(n)) is not None}
    if not staged:
        return set()
    with portal.reading() as session:
        now_at = dict(
            session.exec(
                select(col(Application.id), col(Application.state)).where(
                    col(Application.id).in_({case for case, _ in staged.values()})
                )
            ).all()
        )
    settled, newest = set[int](), set[tuple[int, str, str | None]]()
    for note in sorted(notes, key=lambda n: (n.created_at, n.id or 0), reverse=True):
        if note.id not in staged:
            continue
        case, state = staged[note.id]
        key = (case, state, note.message)
        if now_at.get(case) != state or key in newest:
            settled.add(note.id)
        newest.add(key)
    return settled


def mark_read(portal: Portal, actor: Actor, notification_id: int) -> None:
    """Mark one of the actor's notifications read; someone else's is NotFound."""
    with portal.transaction() as session:
        row = session.exec(
            select(Notification).where(Notification.id == notification_id).where(_addressed_to(actor))
        ).first()
        if row is None:
            raise NotFound("notification", notification_id)
        if row.read_at is None:
            row.read_at = portal.now()
            session.add(row)


def _recipients(session: Session, note: Notification) -> list[tuple[str, Lang]]:
    """Where a notification goes, each address with its reader's language: its own address in
    the language its sender gave, or its active users' addresses in each account's language."""
    if note.email is not None:
        return [(note.email, normalise_lang(note.lang))]
    query = select(User).where(col(User.active).is_(True)).where(col(User.email).is_not(None))
    if note.recipient_user_id is not None:
        query = query.where(User.id == note.recipient_user_id)
    elif note.enterprise_id is not None:
        query = query.where(User.enterprise_id == note.enterprise_id)
    else:
        query = query.where(User.role == note.role)
        if note.district is not None:
            query = query.where(User.district == note.district)
        if note.bureau is not None:
            query = query.where(User.bureau == note.bureau)
    return [(str(user.email), normalise_lang(user.locale)) for user in session.exec(query).all()]


EMAIL_MAX_ATTEMPTS = 6
# How long a sender's claim on one message lasts: several SMTP timeouts (10 s each), and short
# enough that a killed sender's message goes out again within the next minutes.
EMAIL_CLAIM = timedelta(seconds=60)
SendOutcome = Literal["sent", "retry", "failed", "skipped"]


@dataclass(frozen=True)
class _Letter:
    """One recipient's copy, in their language."""

    address: str
    subject: str
    body: str


@dataclass(frozen=True)
class _Outgoing:
    """One claimed message, composed inside the claim's transaction and sent after it."""

    letters: list[_Letter]
    attempt: int


def pending_email(portal: Portal, *, limit: int = 200) -> list[int]:
    """Messages still to send, oldest first: neither sent nor given up, and not claimed now."""
    if portal.smtp is None:
        return []
    with portal.reading() as session:
        return [
            cast(int, n)
            for n in session.exec(
                select(col(Notification.id))
                .where(col(Notification.emailed_at).is_(None))
                .where(col(Notification.email_failed_at).is_(None))
                .where(_unclaimed(portal))
                .order_by(col(Notification.id))
                .limit(limit)
            ).all()
        ]


def _unclaimed(portal: Portal) -> ColumnElement[bool]:
    return or_(
        col(Notification.email_claimed_until).is_(None),
        col(Notification.email_claimed_until) < portal.clock.real_now(),
    )


def _claim(portal: Portal, notification_id: int, *, claim: timedelta = EMAIL_CLAIM) -> _Outgoing | None:
    """Claim one pending message (FOR UPDATE SKIP LOCKED) and count the attempt, then commit.

    The claim commits before anything is sent, so the SMTP conversation holds no row lock and
    no transaction, and a second sender finds the message claimed and leaves it alone. A claim
    runs on real time even under a pinned day, so a dead sender's claim always runs out.
    """
    with portal.transaction() as session:
        note = session.exec(
            select(Notification)
            .where(col(Notification.id) == notification_id)
            .where(col(Notification.emailed_at).is_(None))
            .where(col(Notification.email_failed_at).is_(None))
            .where(_unclaimed(portal))
            .with_for_update(skip_locked=True)
        ).first()
        if note is None:
            return None
        note.email_attempts += 1
        note.email_claimed_until = portal.clock.real_now() + claim
        session.add(note)
        letters = []
        for address, lang in _recipients(session, note):
            subject, body = note_text(portal, note, lang)
            if note.link is not None:
                body = f"{body}\n\n{portal.public_base_url}{note.link}"
            letters.append(_Letter(address, subject, body))
        return _Outgoing(letters, note.email_attempts)


def _settle(portal: Portal, notification_id: int, error: str | None, *, give_up: bool) -> None:
    """Record how the attempt ended and release the claim."""
    with portal.transaction() as session:
        note = session.get(Notification, notification_id)
        if note is None:
            return
        note.email_claimed_until = None
        note.email_error = error
        if error is None:
            note.emailed_at = portal.now()
        elif give_up:
            note.email_failed_at = portal.now()
        session.add(note)


def send_email(
    portal: Portal, notification_id: int, *, max_attempts: int = EMAIL_MAX_ATTEMPTS
) -> SendOutcome:
    """Send one message to its recipients: sent, to be retried, failed for good, or not ours.

    Delivery is at least once: a sender killed between SMTP's acceptance and `_settle` leaves a
    claim that runs out, and the message goes again. The attempt count, the last error and the
    outcome stay on the row for the operators (`/metrics`) and for the retry's backoff.
    """
    if portal.smtp is None:
        return "skipped"
    outgoing = _claim(portal, notification_id)
    if outgoing is None:
        return "skipped"
    try:
        if outgoing.letters:
            with smtplib.SMTP(portal.smtp.host, portal.smtp.port, timeout=10) as smtp:
                domain = portal.smtp.sender.rpartition("@")[2] or "portal.invalid"
                for index, letter in enumerate(outgoing.letters):
                    message = EmailMessage()
                    # The same id on every attempt: a resend after a crash is recognisably the
                    # same message to the recipient's mail system, which keeps one copy.
                    message["Message-ID"] = f"<notification-{notification_id}.{index}@{domain}>"
                    message["From"] = portal.smtp.sender
                    message["To"] = letter.address
                    message["Subject"] = letter.subject
                    message.set_content(letter.body)
                    smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        give_up = outgoing.attempt >= max_attempts
        _settle(portal, notification_id, f"{type(exc).__name__}: {exc}"[:500], give_up=give_up)
        return "failed" if give_up else "retry"
    _settle(portal, notification_id, None, give_up=False)
    return "sent"


def deliver_email(portal: Portal, *, batch: int = 200) -> int:
    """Send up to `batch` pending messages one by one; returns how many were sent (0 without SMTP).

    The in-process runner and `portal sla sweep` use this; `portal worker` runs one job per
    message instead (`portal.jobs.queue`). Each message is claimed on its own, so two callers
    at once send disjoint messages, never one twice.
    """
    return sum(send_email(portal, n) == "sent" for n in pending_email(portal, limit=batch))
