"""Hand a screening run started from the web to whoever runs the jobs (`PORTAL_JOBS`).

`worker`: one procrastinate job, run by a `portal worker`; `in-process`: a thread of this
process, at once. If the queue cannot take it, the run ends `failed` with a message saying so,
rather than waiting for a periodic pass that may never come.
"""

from __future__ import annotations

import logging

from portal.services.context import Portal
from portal.services.screening_runs import queue_unavailable
from portal.settings import Settings

log = logging.getLogger(__name__)


def run_screening(settings: Settings, portal: Portal, run_id: int) -> None:
    """Queue (worker) or start (in-process) the run `run_id`."""
    if settings.jobs_runner == "in-process":
        from portal.jobs.in_process import run_screening_soon

        run_screening_soon(portal, run_id)
        return
    from procrastinate.exceptions import ProcrastinateException

    from portal.jobs.queue import defer_screening, make_app

    app = make_app(settings)
    try:
        with app.open():
            defer_screening(app, run_id)
    except (ProcrastinateException, OSError) as exc:
        log.error("screening run %s not queued: %s", run_id, exc)
        queue_unavailable(portal, run_id)
