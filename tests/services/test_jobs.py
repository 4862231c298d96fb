"""Background jobs: procrastinate workers on PostgreSQL, the in-process runner on SQLite.

The workers are real `portal worker --drain` processes on the test database, sending to a real
SMTP sink (aiosmtpd); every wait is bounded by a count or a subprocess timeout, none is timed.
"""

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from procrastinate.exceptions import AlreadyEnqueued
from services_helpers import World
from sqlalchemy import text
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.db.tables import ScreeningRun
from portal.jobs.dispatch import run_screening
from portal.jobs.in_process import InProcessJobs, run_screening_soon
from portal.jobs.queue import OUTBOX_TASK, SCREENING_TASK, SWEEP_TASK, make_app
from portal.services import notifications
from portal.services.context import Portal
from portal.services.screening_runs import start_run
from portal.settings import Settings, get_settings
from tests.support.smtp_sink import SUBJECT, Sink, running_sink

PORTAL = str(Path(sys.executable).parent / "portal")


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with running_sink() as server:
        yield server


def _url(portal: Portal) -> str:
    return portal.engine.url.render_as_string(hide_password=False)


def _settings(portal: Portal, port: int) -> Settings:
    return Settings(DATABASE_URL=_url(portal), PORTAL_SMTP_HOST="127.0.0.1", PORTAL_SMTP_PORT=port)


def _queue_messages(portal: Portal, world: World, count: int) -> None:
    with portal.transaction() as session:
        for n in range(count):
            notifications.notify(
                session,
                recipient_user_id=world.actors["ent_a"].user_id,
                kind="test",
                message="note.listing_expiry",
                params={"name": f"message {n}", "measure": "m", "date": "2026-06-01"},
                dedupe_key=f"jobs-{n}",
            )


def _job_states(portal: Portal, ids: list[int]) -> list[str]:
    with portal.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = ANY(:ids)"), {"ids": ids}
        )
        return sorted(rows.scalars())


def _run_workers(portal: Portal, port: int, count: int) -> None:
    """`count` `portal worker --drain` processes at once, each until the queue is empty."""
    env = {
        **os.environ,
        "DATABASE_URL": _url(portal),
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(port),
    }
    env.pop("PORTAL_JOBS", None)
    workers = [
        subprocess.Popen(
            [PORTAL, "worker", "--drain"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(count)
    ]
    for process in workers:
        output, _ = process.communicate(timeout=180)
        assert process.returncode == 0, output.decode()


def _only_postgres(portal: Portal) -> None:
    if portal.engine.dialect.name != "postgresql":
        pytest.skip("procrastinate's queue lives in PostgreSQL; SQLite runs the jobs in-process")


def test_two_workers_run_the_sweep_and_send_each_email_once(
    portal: Portal, world: World, sink: tuple[Sink, int]
) -> None:
    _only_postgres(portal)
    inbox, port = sink
    settings = _settings(portal, port)
    _queue_messages(portal, world, 30)
    queue = make_app(settings)
    with queue.open():
        # Six small outbox jobs, so that the two workers really do run them side by side.
        ids = [queue.configure_task(OUTBOX_TASK).defer(batch=5) for _ in range(6)]
        ids.append(queue.configure_task(SWEEP_TASK).defer())
    assert _job_states(portal, ids) == ["todo"] * 7

    _run_workers(portal, port, 2)

    assert _job_states(portal, ids) == ["succeeded"] * 7
    subjects = inbox.subjects()
    assert all(subjects[f"{SUBJECT}message {n}"] == 1 for n in range(30)), subjects
    assert max(inbox.deliveries().values()) == 1  # the cast's notices and escalations: once each too
    with portal.engine.connect() as connection:
        pending = connection.execute(text("SELECT count(*) FROM notification WHERE emailed_at IS NULL"))
        assert pending.scalar_one() == 0


def test_the_queueing_lock_keeps_one_sweep_waiting(portal: Portal, sink: tuple[Sink, int]) -> None:
    _only_postgres(portal)
    _, port = sink
    queue = make_app(_settings(portal, port))
    with queue.open():
        first = queue.configure_task(SWEEP_TASK).defer()
        with pytest.raises(AlreadyEnqueued):
            queue.configure_task(SWEEP_TASK).defer()
    _run_workers(portal, port, 2)
    with portal.engine.connect() as connection:
        sweeps = connection.execute(
            text("SELECT id, status::text FROM procrastinate_jobs WHERE task_name = :t"), {"t": SWEEP_TASK}
        ).all()
    # The one deferred sweep ran; the periodic schedule may add its own, never a running pair.
    assert (first, "succeeded") in sweeps
    assert all(status == "succeeded" for _, status in sweeps)


def test_the_sweep_and_the_outbox_hold_one_lock_each(portal: Portal, sink: tuple[Sink, int]) -> None:
    """Sweeps never overlap: every sweep job carries the same lock, which PostgreSQL keeps unique."""
    _only_postgres(portal)
    _, port = sink
    queue = make_app(_settings(portal, port))
    with queue.open():
        job_id = queue.configure_task(SWEEP_TASK).defer()
    with portal.engine.connect() as connection:
        lock, queueing_lock = connection.execute(
            text("SELECT lock, queueing_lock FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
        ).one()
    assert lock == queueing_lock == "portal-sla-sweep"


def test_in_process_jobs_send_the_outbox_on_sqlite(
    portal: Portal, world: World, sink: tuple[Sink, int]
) -> None:
    if portal.engine.dialect.name != "sqlite":
        pytest.skip("the in-process runner is the SQLite default")
    inbox, port = sink
    _queue_messages(portal, world, 3)
    mailing = Portal.from_settings(_settings(portal, port))
    jobs = InProcessJobs(mailing, tick_seconds=0.05)
    pause = threading.Event()
    jobs.start()
    try:
        for _ in range(400):  # bounded: a few ticks are enough
            if all(inbox.subjects()[f"{SUBJECT}message {n}"] for n in range(3)):
                break
            pause.wait(0.05)
    finally:
        jobs.stop()
        mailing.engine.dispose()
    assert not jobs.running
    subjects = inbox.subjects()
    assert [subjects[f"{SUBJECT}message {n}"] for n in range(3)] == [1, 1, 1]


@pytest.fixture
def sqlite_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/portal.db")
    monkeypatch.delenv("PORTAL_JOBS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_worker_refuses_on_sqlite(sqlite_settings: None) -> None:
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    [line] = _error_lines(result.output)
    assert "in-process on SQLite" in line


def _error_lines(output: str) -> list[str]:
    """The CLI's error lines. Log records of procrastinate's task registration (INFO) can reach the
    runner's output when an earlier test in the same process configured logging to stdout; the
    refusal itself must still be one line."""
    return [line for line in output.strip().splitlines() if line.startswith("error:")]


def test_worker_refuses_when_the_jobs_run_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    monkeypatch.setenv("PORTAL_JOBS", "in-process")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["worker"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    [line] = _error_lines(result.output)
    assert "PORTAL_JOBS=in-process" in line


def test_serve_refuses_a_worker_on_sqlite(sqlite_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing would run the jobs: the worker needs PostgreSQL and serve leaves them to it."""
    monkeypatch.setenv("PORTAL_JOBS", "worker")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    assert result.exit_code == 2
    [line] = _error_lines(result.output)
    assert "PORTAL_JOBS=worker needs a PostgreSQL DATABASE_URL" in line


def test_a_screening_run_from_the_web_runs_in_a_portal_worker(
    portal: Portal, world: World, sink: tuple[Sink, int]
) -> None:
    """The web's dispatch defers one `portal.screening_run` job; a real worker process runs it."""
    _only_postgres(portal)
    _, port = sink
    run = start_run(portal, world.actors["admin"], upload=None, measures=[], notify=True)
    assert run.id is not None
    run_screening(_settings(portal, port), portal, run.id)
    with portal.engine.connect() as connection:
        [(status, lock)] = connection.execute(
            text("SELECT status::text, lock FROM procrastinate_jobs WHERE task_name = :t"),
            {"t": SCREENING_TASK},
        ).all()
    assert (status, lock) == ("todo", f"portal-screening-run-{run.id}")

    _run_workers(portal, port, 1)

    with portal.reading() as session:
        done = session.get(ScreeningRun, run.id)
    assert done is not None and done.status == "succeeded" and done.rows_done == done.rows_total == 2
    assert done.notified is not None and done.notified > 0
    with portal.engine.connect() as connection:
        pending = connection.execute(
            text("SELECT count(*) FROM notification WHERE kind = 'screening' AND emailed_at IS NULL")
        )
        assert pending.scalar_one() == 0  # the job asked the outbox to send its notices at once


def test_a_screening_run_on_sqlite_runs_in_a_thread_of_the_server(portal: Portal, world: World) -> None:
    if portal.engine.dialect.name != "sqlite":
        pytest.skip("the in-process runner is the SQLite default")
    run = start_run(portal, world.actors["admin"], upload=None, measures=[], notify=False)
    assert run.id is not None
    run_screening_soon(portal, run.id).join(timeout=120)
    with portal.reading() as session:
        done = session.get(ScreeningRun, run.id)
    assert done is not None and done.status == "succeeded" and done.rows_done == 2
