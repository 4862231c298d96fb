"""Letter correction (supersede, never update), sign-in lockout, and e-mail delivery over real SMTP."""

import hashlib
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from services_helpers import PASSWORD, Driver, World
from sqlalchemy import func, select

from portal.db.audit import verify_chain
from portal.db.tables import AuditEvent, Letter, Notification, User
from portal.services import auth, corrections, decisions, metrics, notifications, sla
from portal.services.context import Portal, SmtpConfig
from portal.services.errors import Conflict, NotFound, Refused
from tests.support.smtp_sink import SUBJECT, Sink, running_sink


def test_correction_supersedes_and_keeps_the_old_letter(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()
    [old] = decisions.letters_for(portal, world.actors["ent_a"], case.app_id)
    with pytest.raises(Refused):
        corrections.correct_letter(portal, world.actors["rev_tianhe"], old.id or 0, reasons="笔误")
    new = corrections.correct_letter(
        portal, world.actors["rev_gzdev"], old.id or 0, reasons="更正企业名称笔误"
    )
    assert new.supersedes_id == old.id and new.doc_number != old.doc_number
    assert new.sha256 == hashlib.sha256(new.pdf).hexdigest()
    stored_old = decisions.get_letter(portal, world.actors["ent_a"], old.id or 0)
    assert stored_old.pdf == old.pdf and stored_old.sha256 == old.sha256
    assert decisions.verify_code(portal, old.verification_code).superseded
    assert not decisions.verify_code(portal, new.verification_code).superseded
    with pytest.raises(Conflict):
        corrections.correct_letter(portal, world.actors["rev_gzdev"], old.id or 0, reasons="再次更正")
    with pytest.raises(NotFound):
        decisions.get_letter(portal, world.actors["ent_b"], new.id or 0)
    with pytest.raises(NotFound):
        decisions.verify_code(portal, "00000-00000-00000-00000")
    with portal.reading() as session:
        assert session.execute(select(func.count()).select_from(Letter)).scalar_one() == 2
        assert verify_chain(session).ok


def test_lockout_after_repeated_failures_is_audited(portal: Portal, world: World) -> None:
    assert auth.authenticate(portal, "ent_a", PASSWORD).username == "ent_a"
    for _ in range(portal.login_max_failures):
        with pytest.raises(Refused) as refused:
            auth.authenticate(portal, "ent_a", "wrong password!")
        assert refused.value.code == "bad_credentials"
    with pytest.raises(Refused) as locked:
        auth.authenticate(portal, "ent_a", PASSWORD)
    with pytest.raises(Refused) as unknown:
        auth.authenticate(portal, "nobody", PASSWORD)
    # A locked account answers exactly as a wrong password or an unknown name does.
    assert (locked.value.code, locked.value.message_zh, locked.value.message_en) == (
        unknown.value.code,
        unknown.value.message_zh,
        unknown.value.message_en,
    )
    assert unknown.value.code == "bad_credentials"
    with portal.reading() as session:
        events = (
            session.execute(
                select(AuditEvent.event)
                .where(AuditEvent.subject_type.in_(["user", "login"]))
                .order_by(AuditEvent.seq)
            )
            .scalars()
            .all()
        )
    assert events[-8:] == [
        "login",
        *["login_failed"] * 4,
        "account_locked",
        "login_failed",  # the right password, refused while locked
        "login_failed",  # the unknown name
    ]


def test_concurrent_wrong_passwords_check_exactly_the_limit(portal: Portal, world: World) -> None:
    """20 racing guesses: only `login_max_failures` passwords are ever checked, then the lock."""
    guesses = 20

    def guess(_: int) -> str:
        try:
            auth.authenticate(portal, "ent_a", "wrong password!")
        except Refused as refused:
            return refused.code
        return "signed in"

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        answers = list(pool.map(guess, range(guesses)))
    assert answers == ["bad_credentials"] * guesses
    with portal.reading() as session:
        events = (
            session.execute(
                select(AuditEvent.event).where(
                    AuditEvent.subject_type == "user",
                    AuditEvent.subject_id == str(world.actors["ent_a"].user_id),
                )
            )
            .scalars()
            .all()
        )
        user = session.execute(select(User).where(User.username == "ent_a")).scalar_one()
    # Each checked guess is one user-subject event; the one that used up the last try locks.
    assert events.count("login_failed") + events.count("account_locked") == portal.login_max_failures
    assert events.count("account_locked") == 1
    assert user.locked_until is not None
    with pytest.raises(Refused):
        auth.authenticate(portal, "ent_a", PASSWORD)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Sink, int]]:
    with running_sink() as server:
        yield server


def test_escalation_is_emailed_once(portal: Portal, world: World, smtp_server: tuple[Sink, int]) -> None:
    inbox, port = smtp_server
    mailing = replace(portal, smtp=SmtpConfig("127.0.0.1", port, "noreply@portal.test"))
    case = Driver(mailing, world)
    case.submit()
    notifications.deliver_email(mailing)
    inbox.messages.clear()
    mailing.today_override = mailing.today().replace(day=10)
    assert sla.sweep(mailing).escalated == [case.app_id]
    assert notifications.deliver_email(mailing) == 1
    assert notifications.deliver_email(mailing) == 0
    [raw] = inbox.messages
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "gzdev@example.test"
    assert str(mail["Subject"]).startswith("超期督办")
    # The case as its pages name it (#N), in the mail and in each reader's inbox.
    assert mail.get_content().startswith(f"申报 #{case.app_id}（")
    unread = notifications.inbox(mailing, world.actors["rev_gzdev"], unread_only=True)
    [overdue] = [n for n in unread if n.kind == "escalation"]
    [to_do] = notifications.inbox(mailing, world.actors["rev_tianhe"])  # the district's work item
    for told in (overdue, to_do):
        assert notifications.note_text(mailing, told, "zh")[1].startswith(f"申报 #{case.app_id}（")
        assert notifications.note_text(mailing, told, "en")[1].startswith(f"Application #{case.app_id} (")
    assert not any(n.kind == "escalation" for n in notifications.inbox(mailing, world.actors["rev_gzsti"]))


def test_two_concurrent_deliveries_send_each_message_once(
    portal: Portal, world: World, smtp_server: tuple[Sink, int]
) -> None:
    """Two sweeps racing over one outbox (the multi-instance bug): every e-mail goes out once."""
    inbox, port = smtp_server
    mailing = replace(portal, smtp=SmtpConfig("127.0.0.1", port, "noreply@portal.test"))
    notifications.deliver_email(mailing)  # whatever the cast's set-up queued
    inbox.messages.clear()
    with mailing.transaction() as session:
        for n in range(30):
            notifications.notify(
                session,
                recipient_user_id=world.actors["ent_a"].user_id,
                kind="test",
                message="note.listing_expiry",
                params={"name": f"message {n}", "measure": "m", "date": "2026-06-01"},
                dedupe_key=f"race-{n}",
            )
    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(pool.map(lambda _: notifications.deliver_email(mailing, batch=10), range(6)))
    subjects = sorted(message_from_bytes(m, policy=policy.default)["Subject"] for m in inbox.messages)
    assert subjects == sorted(f"{SUBJECT}message {n}" for n in range(30))
    assert sum(sent) == 30


def _one_message(portal: Portal, world: World, key: str) -> int:
    with portal.transaction() as session:
        notifications.notify(
            session,
            recipient_user_id=world.actors["ent_a"].user_id,
            kind="test",
            message="note.listing_expiry",
            params={"name": f"message {key}", "measure": "m", "date": "2026-06-01"},
            dedupe_key=key,
        )
    with portal.reading() as session:
        row = session.execute(select(Notification).where(Notification.dedupe_key == key)).scalar_one()
        return int(row.id or 0)


def _outcome(portal: Portal, notification_id: int) -> tuple[bool, bool, int, str | None]:
    with portal.reading() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        sent, failed = row.emailed_at is not None, row.email_failed_at is not None
        return sent, failed, row.email_attempts, row.email_error


def test_each_message_keeps_its_attempts_and_gives_up_after_the_last(
    portal: Portal, world: World, smtp_server: tuple[Sink, int]
) -> None:
    inbox, port = smtp_server
    mailing = replace(portal, smtp=SmtpConfig("127.0.0.1", port, "noreply@portal.test"))
    notifications.deliver_email(mailing)  # whatever the cast's set-up queued
    message = _one_message(portal, world, "outcome-1")
    with socket.socket() as probe:  # a port nobody listens on: the relay is down
        probe.bind(("127.0.0.1", 0))
        down = replace(portal, smtp=SmtpConfig("127.0.0.1", probe.getsockname()[1], "noreply@portal.test"))
    assert notifications.send_email(down, message, max_attempts=2) == "retry"
    sent, failed, attempts, error = _outcome(portal, message)
    assert (sent, failed, attempts) == (False, False, 1) and error and "Connection" in error
    assert notifications.send_email(down, message, max_attempts=2) == "failed"
    assert _outcome(portal, message)[:3] == (False, True, 2)
    # Given up: neither the outbox nor a later sender touches it again.
    assert message not in notifications.pending_email(mailing)
    assert notifications.send_email(mailing, message) == "skipped"
    assert not any(b"outcome-1" in m for m in inbox.messages)
    assert metrics.service_figures(portal).emails_failed == 1


def test_a_crashed_senders_claim_runs_out_and_the_message_goes_once(
    portal: Portal, world: World, smtp_server: tuple[Sink, int]
) -> None:
    inbox, port = smtp_server
    mailing = replace(portal, smtp=SmtpConfig("127.0.0.1", port, "noreply@portal.test"))
    notifications.deliver_email(mailing)
    inbox.messages.clear()
    held, lapsed = _one_message(portal, world, "claimed-1"), _one_message(portal, world, "claimed-2")
    # Two senders that died mid-send: one claim still runs, the other has run out.
    assert notifications._claim(mailing, held) is not None
    assert notifications._claim(mailing, lapsed, claim=timedelta(seconds=-1)) is not None
    assert notifications.pending_email(mailing) == [lapsed]
    assert notifications.deliver_email(mailing) == 1
    assert notifications.deliver_email(mailing) == 0
    assert len(inbox.messages) == 1 and b"claimed-2" in inbox.messages[0]
    assert _outcome(portal, lapsed)[:3] == (True, False, 2)
    assert _outcome(portal, held)[:3] == (False, False, 1)
