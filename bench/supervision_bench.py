"""The supervision dashboard (/supervision) over HTTP on PostgreSQL with 100,000 generated cases.

A throwaway database is migrated and filled with a generated year (tests/support/supervision_data.py:
cases walked through their workflows with transitions, decisions, expert panels, objections,
screening notices, bank queries and loans). The real app is served by uvicorn on loopback and a
city-wide and a district supervisor sign in; the figure is the whole answer of
`GET /supervision` (every aggregate, the page rendered), timed from the client, the median of
`--runs` after one warm-up. Goal (issue 12 §2): at most 1 s.

    .venv/bin/python bench/supervision_bench.py [--cases 100000] [--runs 5]

PostgreSQL is reached at PORTAL_BENCH_POSTGRES_URL (default postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import workflow_bench  # noqa: E402
from _loopback import free_port, start_server, wait_ready  # noqa: E402

from portal.db import migrations  # noqa: E402
from portal.db.engine import make_engine  # noqa: E402
from portal.services.context import Portal  # noqa: E402
from portal.services.enterprises import create_staff_user  # noqa: E402
from portal.settings import Settings  # noqa: E402
from tests.support.supervision_data import generate  # noqa: E402

TODAY = date(2026, 11, 27)
PASSWORD = "Bench-Supervisor-2026!"
GOAL_SECONDS = 1.0


@dataclass(frozen=True)
class Timing:
    who: str
    first: float
    median: float
    p_max: float


def fill(url: str, data: Path, cases: int) -> float:
    """Migrate and generate; returns the seconds the generation took."""
    migrations.upgrade(url)
    portal = Portal.from_settings(
        Settings(DATABASE_URL=url, PORTAL_DATA_DIR=str(data)), engine=make_engine(url)
    )
    portal = replace(portal, clock=portal.clock.pinned_to(TODAY))
    try:
        started = time.perf_counter()
        generate(portal, cases, escalations=500, queries=2_000)
        took = time.perf_counter() - started
        for username, district in (("bench_city", None), ("bench_tianhe", "tianhe")):
            create_staff_user(
                portal, None, username=username, password=PASSWORD, display_name=username,
                role="supervisor", district=district,
            )  # fmt: skip
        with portal.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        return took
    finally:
        portal.engine.dispose()


def _sign_in(client: httpx.Client, username: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 303, answer.text[:300]


def time_page(base: str, username: str, runs: int, path: str = "/supervision") -> Timing:
    with httpx.Client(base_url=base, timeout=60.0, follow_redirects=False) as client:
        _sign_in(client, username)
        seconds = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            answer = client.get(path)
            seconds.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text[:300]
    return Timing(username, seconds[0], statistics.median(seconds[1:]), max(seconds[1:]))


def measure(cases: int, runs: int) -> tuple[float, list[Timing]]:
    name, url = workflow_bench._postgres_database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            generated = fill(url, Path(tmp), cases)
            port = free_port()
            server = start_server(
                port,
                {
                    "DATABASE_URL": url,
                    "PORTAL_DATA_DIR": tmp,
                    "PORTAL_TODAY": TODAY.isoformat(),
                    "PORTAL_LOGIN_IP_RATE_LIMIT": "10000",
                },
            )
            try:
                base = f"http://127.0.0.1:{port}"
                wait_ready(base, timeout=120)
                timings = [
                    time_page(base, "bench_city", runs),
                    time_page(base, "bench_tianhe", runs),
                    time_page(base, "bench_city", runs, "/supervision/cases?set=received"),
                ]
            finally:
                server.terminate()
                server.wait(timeout=30)
        return generated, timings
    finally:
        workflow_bench._drop_postgres(name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    generated, timings = measure(args.cases, args.runs)
    print(f"generated {args.cases:,} cases in {generated:.0f} s")
    for timing, what in zip(
        timings, ("dashboard, city", "dashboard, one district", "drill-down, city"), strict=True
    ):
        print(
            f"{what}: median {timing.median * 1000:.0f} ms (first {timing.first * 1000:.0f} ms, "
            f"slowest {timing.p_max * 1000:.0f} ms); goal ≤ {GOAL_SECONDS * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
