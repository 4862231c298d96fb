"""The loopback load generator the HTTP benchmarks share: one uvicorn worker, an asyncio httpx client.

wrk is not installed on these machines, so the client is Python. Its own cost is the same for
every endpoint of a run, which is why each benchmark reports a ratio against `GET /healthz`
rather than trusting the absolute figures.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


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


def start_server(port: int, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Serve the real app factory on loopback; `env` carries the database, data dir and rate limit."""
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
    return subprocess.Popen(
        command, env={**os.environ, "PORTAL_SECRET_KEY": "bench-only-secret", **env}, cwd=ROOT
    )


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
    base: str,
    method: str,
    path: str,
    body: bytes | None,
    headers: Mapping[str, str],
    *,
    seconds: float,
    connections: int,
    timeout: float,
) -> Figures:
    """Keep `connections` requests in flight for `seconds`; any answer but 200 stops the run."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:

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
