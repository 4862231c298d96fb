"""Background jobs: the periodic SLA sweep and the e-mail outbox.

Each job only calls a service (`portal.services.sla.sweep`, `portal.services.notifications.
deliver_email`); the rules stay there. Who runs them is the `PORTAL_JOBS` setting:

- `worker` (the default on PostgreSQL): procrastinate queues them in PostgreSQL and
  `portal worker` processes run them (`portal.jobs.queue`);
- `in-process` (the default on SQLite): a thread of `portal serve` runs the same services on a
  timer (`portal.jobs.in_process`), so `make run` needs no other service.

Nothing here is imported by `import portal.cli`: procrastinate loads only for the commands that
use it.
"""

# How often the jobs run, in both modes (the worker's crontab says the same).
SWEEP_EVERY_MINUTES = 15
OUTBOX_EVERY_MINUTES = 1
