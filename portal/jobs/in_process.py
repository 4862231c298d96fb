"""The jobs of `PORTAL_JOBS=in-process` (the SQLite default): a thread of `portal serve`.

It calls the same services as the worker's tasks, on the same schedule: the outbox every
minute, the SLA sweep every 15 minutes, both once at start. A screening run started from the
web runs at once in a thread of its own (`run_screening_soon`); the tick runs any run still
waiting (queued when the server stopped, or left by a runner that died). SQLite's write lock serialises it
with the web requests. A failing run is logged and retried on the next tick; the thread stops
with the server.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable

from portal.jobs import OUTBOX_EVERY_MINUTES, SWEEP_EVERY_MINUTES
from portal.services.context import Portal
from portal.services.notifications import deliver_email
from portal.services.screening_runs import execute_run, waiting_runs
from portal.services.sla import sweep

log = logging.getLogger(__name__)


class InProcessJobs:
    """Runs the sweep and the outbox on a timer in a daemon thread until `stop()`."""

    def __init__(self, portal: Portal, *, tick_seconds: float = 60.0 * OUTBOX_EVERY_MINUTES) -> None:
        # The server's own portal: a second one would load the pack again while requests are
        # served (seconds of the interpreter's lock: the slowest answers waited on it) and
        # would write through another engine, around the in-process queue for SQLite's lock.
        self._portal = portal
        self._tick_seconds = tick_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="portal-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop and wait for the run in progress, if any, to finish."""
        self._stopping.set()
        self._thread.join()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        portal = self._portal
        sweep_every_ticks = SWEEP_EVERY_MINUTES // OUTBOX_EVERY_MINUTES
        tick = 0
        while not self._stopping.is_set():
            if tick % sweep_every_ticks == 0:
                self._attempt("sla sweep", lambda: sweep(portal))
            for run_id in waiting_runs(portal):
                self._attempt(f"screening run {run_id}", functools.partial(execute_run, portal, run_id))
            self._attempt("e-mail outbox", lambda: deliver_email(portal))
            tick += 1
            self._stopping.wait(self._tick_seconds)

    @staticmethod
    def _attempt(name: str, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception:  # a background loop outlives one failed run
            log.exception("%s failed; the next run retries", name)


def run_screening_soon(portal: Portal, run_id: int) -> threading.Thread:
    """Start a screening run now, in a thread of this process (the run's claim keeps it single)."""
    thread = threading.Thread(
        target=InProcessJobs._attempt,
        args=(f"screening run {run_id}", functools.partial(execute_run, portal, run_id)),
        name=f"portal-screening-{run_id}",
        daemon=True,
    )
    thread.start()
    return thread
