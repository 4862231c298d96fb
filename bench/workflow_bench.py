"""Workflow transitions per second with the audit chain, on SQLite and PostgreSQL, and the p99 of one.

Each transition is a full use case through `portal.services.applications.transition`: load and
authorise the case, build the guard context, fire the python-statemachine machine, the
versioned UPDATE, the transition row and the hash-chained audit row, one commit.

    .venv/bin/python bench/workflow_bench.py [--cases 300] [--skip-postgres]

PostgreSQL is reached at PORTAL_BENCH_POSTGRES_URL (default postgres@127.0.0.1:5432); a
throwaway database is created and dropped.
"""

import argparse
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from portal.db import migrations
from portal.db.audit import verify_chain
from portal.db.engine import make_engine
from portal.services import applications, enterprises
from portal.services.access import actor_of
from portal.services.context import Portal
from portal.settings import Settings

POSTGRES_ADMIN = os.environ.get(
    "PORTAL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
EVENTS = ("accept", "district_approve")
ANSWERS = {
    "enterprise_name": "基准企业",
    "uscc": "91350100M000100Y43",
    "compute_purchase": "10000000",
    "contact_person": "张工",
    "contact_phone": "13800138000",
    "platform_name": "广州人工智能公共算力中心",
    "contract_number": "GZAI-2025-001",
}
FACTS = {
    "enterprise": {
        "district": "tianhe",
        "ai_rd_expense": "30000000",
        "ai_revenue": "50000000",
        "certified_ai_staff": 80,
        "compute_purchase": "10000000",
    }
}


def run(template: Portal, url: str, cases: int) -> tuple[int, float, list[float]]:
    """Fire `cases` × len(EVENTS) transitions; return (count, wall seconds, per-call seconds)."""
    migrations.upgrade(url)
    portal = replace(template, engine=make_engine(url))
    try:
        _, user = enterprises.register_enterprise(
            portal,
            uscc="91350100M000100Y43",
            name="基准企业",
            district="tianhe",
            username="bench_ent",
            password="Ql7-vexa-Murn-2026",
            display_name="bench",
            verified=True,
        )
        owner = actor_of(user)
        profile = enterprises.save_profile(portal, owner, FACTS, None)
        enterprises.confirm_profile(portal, owner, profile.version)
        reviewer = actor_of(
            enterprises.create_staff_user(
                portal,
                None,
                username="bench_rev",
                password="Ql7-vexa-Murn-2026",
                display_name="rev",
                role="reviewer",
                district="tianhe",
            )
        )
        ids = []
        for _ in range(cases):
            draft = applications.create_draft(portal, owner, "subsidy.compute_voucher")
            version = draft.version
            for slot in portal.forms["subsidy.compute_voucher"].attachments.values():
                if slot.required:
                    stored = applications.store_attachment(
                        portal, owner, b"%PDF-1.4\n%%EOF\n" + slot.id.encode(),
                        content_type="application/pdf", original_name=f"{slot.id}.pdf",
                    )  # fmt: skip
                    version = applications.attach(
                        portal, owner, draft.id or 0, slot.id, int(stored.id or 0), version
                    ).version
            saved = applications.save_draft(portal, owner, draft.id or 0, ANSWERS, version)
            moved = applications.submit(portal, owner, draft.id or 0, saved.version)
            ids.append((moved.application_id, moved.version))
        timings: list[float] = []
        started = time.perf_counter()
        for event in EVENTS:
            for index, (app_id, version) in enumerate(ids):
                t0 = time.perf_counter()
                moved = applications.transition(portal, reviewer, app_id, event, None, version)
                timings.append(time.perf_counter() - t0)
                ids[index] = (app_id, moved.version)
        wall = time.perf_counter() - started
        with portal.reading() as session:
            report = verify_chain(session)
        assert report.ok, report
        return len(timings), wall, timings
    finally:
        portal.engine.dispose()


def _postgres_database() -> tuple[str, str]:
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(POSTGRES_ADMIN).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return name, make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(name: str) -> None:
    admin = make_url(POSTGRES_ADMIN).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        template = Portal.from_settings(Settings(DATABASE_URL=sqlite_url), engine=make_engine(sqlite_url))
        template.engine.dispose()
        template = replace(
            template, data_dir=Path(tmp) / "data", clock=template.clock.pinned_to(date(2026, 6, 1))
        )
        rows = [("SQLite (WAL)", *run(template, sqlite_url, args.cases))]
        if not args.skip_postgres:
            name, pg_url = _postgres_database()
            try:
                rows.append(("PostgreSQL 15", *run(template, pg_url, args.cases)))
            finally:
                _drop_postgres(name)
    print(f"{'backend':<15} {'transitions':>11} {'per second':>11} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for backend, count, wall, timings in rows:
        ordered = sorted(timings)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]
        print(
            f"{backend:<15} {count:>11} {count / wall:>11.1f} {statistics.median(ordered) * 1000:>8.2f} "
            f"{p99 * 1000:>8.2f} {ordered[-1] * 1000:>8.2f}"
        )
    print(
        "each transition: authorise, guard context, state machine, versioned UPDATE, transition row, "
        "hash-chained audit row, commit (sequential, one connection)"
    )


if __name__ == "__main__":
    main()
