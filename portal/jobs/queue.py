"""The procrastinate app of `PORTAL_JOBS=worker`: tasks, schedule and locks, on PostgreSQL.

- The SLA sweep runs every 15 minutes. Its queueing lock keeps at most one sweep waiting, and
  its lock makes sweeps run one after another, never overlapping, however many workers run.
- The e-mail outbox runs every minute and whenever a command has just written notifications
  (`defer_outbox`). It defers one `send_email` job per pending message, with a queueing lock
  per message; the job claims its row (FOR UPDATE SKIP LOCKED, then a timed claim), so two
  workers never send the same message. A failed SMTP delivery is retried with exponential
  backoff, and each message keeps its attempts, last error and outcome.
- Every minute the jobs of a worker that stopped beating its heartbeat (killed with -9, or its
  machine lost) are requeued, so a job never stays "doing" forever.
- A screening run started from the web is one `screening_run` job, locked per run, so a
  requeued copy never runs beside the first. Every minute the runs still waiting are deferred
  again (their queueing lock makes that a no-op for a run already queued), so a run whose
  deferral was lost still runs.
"""

from __future__ import annotations

import contextlib
import functools
import logging

from procrastinate import App, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status

from portal.db.engine import parse_database_url
from portal.jobs import OUTBOX_EVERY_MINUTES, SWEEP_EVERY_MINUTES
from portal.services.context import Portal
from portal.services.notifications import EMAIL_MAX_ATTEMPTS, pending_email, send_email
from portal.services.screening_runs import execute_run, waiting_runs
from portal.services.sla import sweep
from portal.settings import Settings

SWEEP_TASK = "portal.sla_sweep"
OUTBOX_TASK = "portal.email_outbox"
SWEEP_LOCK = "portal-sla-sweep"
OUTBOX_LOCK = "portal-email-outbox"
SEND_TASK = "portal.send_email"
STALLED_TASK = "portal.retry_stalled"
SCREENING_TASK = "portal.screening_run"
SCREENING_QUEUE_TASK = "portal.screening_queue"
# A worker beats every 10 s; one silent for this long is dead, and its running jobs go again.
STALLED_AFTER_SECONDS = 30
# Waits of 4, 8, 16, 32 and 64 s between the six attempts: an SMTP relay's restart is ridden out.
SEND_RETRY = RetryStrategy(max_attempts=EMAIL_MAX_ATTEMPTS, exponential_wait=2)

log = logging.getLogger(__name__)


class EmailNotSent(Exception):
    """One attempt at a message failed; raising it makes procrastinate retry the job."""


class JobsUnavailable(Exception):
    """The database cannot hold procrastinate's queue (it needs PostgreSQL)."""


def conninfo(settings: Settings) -> str:
    """DATABASE_URL as a libpq connection string for psycopg (no SQLAlchemy driver suffix)."""
    url = parse_database_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        raise JobsUnavailable(
            "background jobs run in-process on SQLite (portal serve runs them); "
            "portal worker needs a PostgreSQL DATABASE_URL"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(settings: Settings) -> App:
    """The procrastinate app on the configured PostgreSQL, with the portal's tasks registered.

    The tasks share one `Portal` per process, built on the first job (loading the pack once).
    """
    app = App(connector=PsycopgConnector(conninfo=conninfo(settings)))
    portal = functools.cache(lambda: Portal.from_settings(settings))

    @app.periodic(cron=f"*/{SWEEP_EVERY_MINUTES} * * * *", periodic_id="sla-sweep")
    @app.task(name=SWEEP_TASK, queueing_lock=SWEEP_LOCK, lock=SWEEP_LOCK)
    def sla_sweep(timestamp: int | None = None) -> None:
        """Escalate overdue stages and fire timers once, then hand the new notices to the outbox."""
        report = sweep(portal())
        log.info(
            "sla sweep %s: %d escalated, %d advanced, %d reminded to reply, %d replies late, "
            "%d skipped, %d broken",
            report.today.isoformat(),
            len(report.escalated),
            len(report.advanced),
            len(report.reply_reminded),
            len(report.reply_overdue),
            len(report.skipped),
            len(report.broken),
        )
        defer_outbox(app)

    @app.periodic(cron=f"*/{OUTBOX_EVERY_MINUTES} * * * *", periodic_id="email-outbox")
    @app.task(name=OUTBOX_TASK)
    def email_outbox(timestamp: int | None = None, batch: int = 200) -> None:
        """Defer one sending job for each of up to `batch` pending messages."""
        deferred = 0
        for notification_id in pending_email(portal(), limit=batch):
            lock = f"portal-email-{notification_id}"
            with contextlib.suppress(AlreadyEnqueued):
                app.configure_task(SEND_TASK, queueing_lock=lock, lock=lock).defer(
                    notification_id=notification_id
                )
                deferred += 1
        log.info("e-mail outbox: %d messages deferred", deferred)

    @app.task(name=SEND_TASK, retry=SEND_RETRY)
    def send_one(notification_id: int) -> None:
        """Send one message; a failed attempt raises, so procrastinate retries it with backoff."""
        outcome = send_email(portal(), notification_id)
        if outcome == "retry":
            raise EmailNotSent(f"message {notification_id} not accepted by SMTP; retrying")
        log.info("e-mail %d: %s", notification_id, outcome)

    @app.task(name=SCREENING_TASK)
    def screening_run(run_id: int) -> None:
        """Screen one run; its lock means no other job holds the run, so a dead attempt is taken over."""
        run = execute_run(portal(), run_id, takeover=True)
        if run is not None:
            log.info("screening run %d: %s", run_id, run.status)
            if run.notified:
                defer_outbox(app)

    @app.periodic(cron="* * * * *", periodic_id="screening-queue")
    @app.task(name=SCREENING_QUEUE_TASK, queueing_lock=SCREENING_QUEUE_TASK)
    def screening_queue(timestamp: int | None = None) -> None:
        """Defer the runs still waiting (a deferral lost between the web and the queue)."""
        for run_id in waiting_runs(portal()):
            defer_screening(app, run_id)

    @app.periodic(cron="* * * * *", periodic_id="retry-stalled")
    @app.task(name=STALLED_TASK, queueing_lock=STALLED_TASK)
    async def retry_stalled(timestamp: int | None = None) -> None:
        """Requeue the jobs of a worker that stopped beating (killed, or its machine lost)."""
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS)
        for job in stalled:
            try:
                await app.job_manager.retry_job(job)
            except UniqueViolation:
                assert job.id is not None  # a job read from the queue has its id
                # The same work is queued again already (its queueing lock): end this copy so
                # its lock frees and the queued one runs.
                await app.job_manager.finish_job_by_id_async(job.id, status=Status.ABORTED, delete_job=False)
                log.warning("job %s (%s) of a dead worker superseded by a queued copy", job.id, job.task_name)
                continue
            log.warning("job %s (%s) of a dead worker requeued", job.id, job.task_name)

    return app


def defer_outbox(app: App) -> None:
    """Ask for an outbox run now; a run already waiting will send these notices too."""
    with contextlib.suppress(AlreadyEnqueued):
        app.configure_task(OUTBOX_TASK, queueing_lock=OUTBOX_LOCK).defer()


def defer_screening(app: App, run_id: int) -> None:
    """Queue one screening run; a copy already queued is enough."""
    lock = f"portal-screening-run-{run_id}"
    with contextlib.suppress(AlreadyEnqueued):
        app.configure_task(SCREENING_TASK, queueing_lock=lock, lock=lock).defer(run_id=run_id)


def defer_outbox_now(settings: Settings) -> None:
    """`defer_outbox` from a command: opens the queue just for the one insert."""
    app = make_app(settings)
    with app.open():
        defer_outbox(app)
