"""Throughput and p99 of `POST /api/v1/bank/eligibility` against a bare `GET /healthz`, same run (issue 6 §6).

The database is prepared through the real services (a bank, a key, an enterprise with a
confirmed profile and a consent), then one uvicorn worker serves the real app on loopback
and an asyncio httpx client keeps `--connections` requests in flight for `--seconds` per
endpoint (bench/_loopback.py). Every eligibility request is a full check: key lookup, rate limiter, consent,
profile, rule evaluation and a hash-chained access-log row committed to the database, so
the figure includes one write transaction per request. Read the ratio rather than the
absolute numbers.

Run: .venv/bin/python bench/bank_bench.py [--seconds 8] [--connections 32] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import tempfile
from pathlib import Path

from _loopback import free_port, load, start_server, wait_ready  # bench/ is the script's directory

from portal.db import migrations
from portal.db.engine import make_engine
from portal.services import banks, consents, enterprises
from portal.services.context import Portal
from portal.settings import Settings

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
            password="Ql7-vexa-Murn-2026",
            display_name="Bench",
            verified=True,
        )
        actor = enterprises.actor_for_username(portal, "bench")
        row = enterprises.save_profile(portal, actor, {"enterprise": PROFILE}, None)
        enterprises.confirm_profile(portal, actor, row.version)
        consents.grant_consent(portal, actor, bank_code="bench", products=["credit_risk_compensation"])
        return key
    finally:
        engine.dispose()


def _env(settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "PORTAL_DATA_DIR": str(settings.data_dir),
        # The per-key limit (60/min) would make this a 429 benchmark.
        "PORTAL_BANK_RATE_LIMIT": "100000000",
    }


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
        server = start_server(port, _env(settings))
        load_for = functools.partial(
            load, base, seconds=args.seconds, connections=args.connections, timeout=30.0
        )
        try:
            wait_ready(base)
            bare = asyncio.run(load_for("GET", "/healthz", None, {}))
            headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
            check = asyncio.run(load_for("POST", "/api/v1/bank/eligibility", BODY, headers))
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
