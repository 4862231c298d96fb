"""Throughput and p99 of `POST /api/v1/check` against a bare `GET /healthz`, in the same run (issue 4 §7).

One uvicorn worker serves the real app on a loopback port; an asyncio httpx client keeps
`--connections` requests in flight for `--seconds` per endpoint (bench/_loopback.py). The
ratio, not the absolute figure, is the result to read. The goal is a ratio of at least 50%.

Run: .venv/bin/python bench/http_bench.py [--seconds 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import tempfile
from pathlib import Path

from _loopback import ROOT, free_port, load, start_server, wait_ready  # bench/ is the script's directory

DEMO_FACTS = json.loads((ROOT / "portal" / "demo" / "enterprise.json").read_text(encoding="utf-8"))
CHECK_BODY = json.dumps({"facts": {"enterprise": DEMO_FACTS["enterprise"]}, "on": "2026-06-01"}).encode()


def _env(data_dir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{data_dir / 'bench.db'}",
        "PORTAL_DATA_DIR": str(data_dir),
        # The anonymous rate limit would turn the benchmark into a 429 benchmark.
        "PORTAL_CHECK_RATE_LIMIT": "100000000",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(port, _env(Path(tmp)))
        load_for = functools.partial(
            load, base, seconds=args.seconds, connections=args.connections, timeout=10.0
        )
        try:
            wait_ready(base)
            bare = asyncio.run(load_for("GET", "/healthz", None, {}))
            json_headers = {"content-type": "application/json"}
            check = asyncio.run(load_for("POST", "/api/v1/check", CHECK_BODY, json_headers))
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(
        f"1 uvicorn worker, {args.connections} connections, {args.seconds:.0f} s per endpoint (httpx client)"
    )
    print(f"{'endpoint':<22}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for name, figures in (("GET /healthz", bare), ("POST /api/v1/check", check)):
        print(f"{name:<22}{figures.per_second:>12.0f}{figures.p50_ms:>10.1f}{figures.p99_ms:>10.1f}")
    ratio = check.per_second / bare.per_second
    print(f"ratio check/healthz: {ratio:.0%} (goal: at least 50%)")


if __name__ == "__main__":
    main()
