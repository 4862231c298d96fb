"""`portal worker`: run the background jobs (SLA sweep, e-mail outbox) from procrastinate's queue.

Only with `PORTAL_JOBS=worker` (the default on PostgreSQL); on SQLite `portal serve` runs the
jobs itself. procrastinate is imported here, inside the command, so other commands never pay for it.
"""

import logging
from typing import Annotated

import typer

from portal.cli.bootstrap import fail, settings


def worker(
    concurrency: Annotated[
        int, typer.Option(metavar="N", min=1, help="Jobs run at once by this process.")
    ] = 1,
    drain: Annotated[
        bool, typer.Option("--drain", help="Exit once the queue is empty instead of waiting for new jobs.")
    ] = False,
) -> None:
    """Run queued and periodic jobs until stopped (SIGINT/SIGTERM finish the jobs in progress)."""
    from portal.db.engine import DatabaseURLError
    from portal.jobs.queue import JobsUnavailable, make_app

    config = settings()
    try:
        app = make_app(config)
    except (JobsUnavailable, DatabaseURLError) as exc:
        raise fail(str(exc), 2) from None
    if config.jobs_runner != "worker":
        raise fail("PORTAL_JOBS=in-process: portal serve runs the background jobs, no worker is needed", 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.run_worker(concurrency=concurrency, wait=not drain)
