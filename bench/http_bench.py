"""Throughput and p99 of `POST /api/v1/check` against a bare `GET /healthz`, in the same run (issue 4 §7).

One uvicorn worker serves the real app on a loopback port; an asyncio httpx client keeps
`--connections` requests in flight for `--seconds` per endpoint. wrk is not installed on these
machines, so the load generator is Python: its own cost is the same for both endpoints, which
is why the ratio, not the absolute figure, is the result to read. The goal is a ratio of at
least 50%.

Run: .venv/bin/python bench/http_bench.py [--seconds 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEMO_FACTS = json.loads((ROOT / "portal" / "demo" / "enterprise.json").read_text(encoding="utf-8"))
CHECK_BODY = json.dumps({"facts": {"enterprise": DEMO_FACTS["enterprise"]}, "on": "2026-06-01"}).encode()


@dataclass(frozen=True)
class Figures:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{data_dir / 'bench.db'}",
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_SECRET_KEY": "bench-only-secret",
        # The anonymous rate limit would turn the benchmark into a 429 benchmark.
        "PORTAL_CHECK_RATE_LIMIT": "100000000",
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


def wait_ready(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server at {base} did not answer /healthz within {timeout:.0f} s")


async def load(
    base: str, method: str, path: str, body: bytes | None, seconds: float, connections: int
) -> Figures:
    latencies: list[float] = []
    headers = {"content-type": "application/json"} if body is not None else {}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10.0) as client:

        async def worker(stop_at: float) -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await client.request(method, path, content=body, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(
                        f"{method} {path} answered {response.status_code}: {response.text[:200]}"
                    )
                latencies.append(time.perf_counter() - started)

        # Warm-up: connections opened and the first requests' one-off costs paid before timing.
        await asyncio.gather(*(worker(time.perf_counter() + 1.0) for _ in range(connections)))
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
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(port, Path(tmp))
        try:
            wait_ready(base)
            bare = asyncio.run(load(base, "GET", "/healthz", None, args.seconds, args.connections))
            check = asyncio.run(
                load(base, "POST", "/api/v1/check", CHECK_BODY, args.seconds, args.connections)
            )
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
