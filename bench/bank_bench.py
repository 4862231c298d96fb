"""Throughput and p99 of `POST /api/v1/bank/eligibility` against a bare `GET /healthz`, same run (issue 6 §6).

The database is prepared through the real services (a bank, a key, an enterprise with a
confirmed profile and a consent), then one uvicorn worker serves the real app on loopback
and an asyncio httpx client keeps `--connections` requests in flight for `--seconds` per
endpoint. Every eligibility request is a full check: key lookup, rate limiter, consent,
profile, rule evaluation and a hash-chained access-log row committed to the database, so
the figure includes one write transaction per request. The load generator is Python (wrk is
not installed here); read the ratio rather than the absolute numbers.

Run: .venv/bin/python bench/bank_bench.py [--seconds 8] [--connections 32] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from http_bench import Figures, free_port, wait_ready  # bench/ is the script's directory

from portal.db import migrations
from portal.db.engine import make_engine
from portal.services import banks, consents, enterprises
from portal.services.context import Portal
from portal.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
USCC = "91350100M000100Y43"
PROFILE = {"is_sme": True, "on_key_support_list": True, "is_small_micro": True, "district": "tianhe"}
BODY = json.dumps(
    {
        "uscc": USCC,
        "product": "credit_risk_compensation",
        "loan": {"amount": "8000000", "term_months": 24, "pledge_kind": "none", "uses_policy_tool": True},
    }
).encode()


def prepare(settings: Settings) -> str:
    """Migrate and seed the database; returns a bank key with both scopes."""
    migrations.upgrade(settings.database_url)
    engine = make_engine(settings.database_url, pooled=False)
    try:
        portal = Portal.from_settings(settings, engine=engine)
        banks.add_bank(portal, name="基准测试银行", code="bench")
        key = banks.issue_key(portal, "bench").key
        enterprises.register_enterprise(
            portal,
            uscc=USCC,
            name="基准测试企业",
            district="tianhe",
            username="bench",
            password="bench-password-123",
            display_name="Bench",
        )
        actor = enterprises.actor_for_username(portal, "bench")
        row = enterprises.save_profile(portal, actor, {"enterprise": PROFILE}, None)
        enterprises.confirm_profile(portal, actor, row.version)
        consents.grant_consent(portal, actor, bank_code="bench", products=["credit_risk_compensation"])
        return key
    finally:
        engine.dispose()


def start_server(port: int, settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": str(settings.data_dir),
        "PORTAL_SECRET_KEY": "bench-only-secret",
        # The per-key limit (60/min) would make this a 429 benchmark.
        "PORTAL_BANK_RATE_LIMIT": "100000000",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "portal.web.app:make_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(command, env=env, cwd=ROOT)


async def load(
    base: str,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    seconds: float,
    connections: int,
) -> Figures:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:

        async def worker(stop_at: float) -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await client.request(method, path, content=body, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(
                        f"{method} {path} answered {response.status_code}: {response.text[:200]}"
                    )
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker(time.perf_counter() + 1.0) for _ in range(connections)))  # warm-up
        latencies.clear()
        began = time.perf_counter()
        await asyncio.gather(*(worker(began + seconds) for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return Figures(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bank_bench.db'}"
        settings = Settings(database_url=url, data_dir=Path(tmp))
        key = prepare(settings)
        server = start_server(port, settings)
        try:
            wait_ready(base)
            bare = asyncio.run(load(base, "GET", "/healthz", None, {}, args.seconds, args.connections))
            headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
            check = asyncio.run(
                load(base, "POST", "/api/v1/bank/eligibility", BODY, headers, args.seconds, args.connections)
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    backend = url.split(":", 1)[0]
    print(f"1 uvicorn worker, {backend}, {args.connections} connections, {args.seconds:.0f} s per endpoint")
    print(f"{'endpoint':<32}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for name, figures in (("GET /healthz", bare), ("POST /api/v1/bank/eligibility", check)):
        print(f"{name:<32}{figures.per_second:>12.0f}{figures.p50_ms:>10.1f}{figures.p99_ms:>10.1f}")
    print(f"ratio eligibility/healthz: {check.per_second / bare.per_second:.0%}")


if __name__ == "__main__":
    main()
