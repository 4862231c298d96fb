"""`portal serve` writes JSON lines only, the access line with the request id (issue 13 §6).

uvicorn configures its own plain-text logging unless told not to; this runs the real command,
so a regression there shows up as a line that is not JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.smtp_sink import free_port

PORTAL = str(Path(sys.executable).parent / "portal")
REQUEST_ID = "7d444840-9dc0-4a0b-8d55-0b1f5b2c4a10"


def _serve(tmp_path: Path, **extra: str) -> list[dict[str, object]]:
    """Start `portal serve`, ask /healthz once with a request id, stop it; its log lines, parsed."""
    database = f"sqlite:///{tmp_path / 'portal.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_SECRET_KEY": "serve-logs-test-secret",
        **extra,
    }
    subprocess.run([PORTAL, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([PORTAL, "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
        try:
            for _ in range(300):  # bounded by polls, not timed
                try:
                    answer = httpx.get(
                        f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": REQUEST_ID}, timeout=2
                    )
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise AssertionError(log.read_text())
            assert answer.status_code == 200 and answer.headers["x-request-id"] == REQUEST_ID
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = [line for line in log.read_text("utf-8").splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # a plain-text line fails here


def test_every_line_is_json_and_the_access_line_carries_the_request_id(tmp_path: Path) -> None:
    records = _serve(tmp_path)
    access = [r for r in records if r.get("logger") == "uvicorn.access"]
    assert access and access[-1]["request_id"] == REQUEST_ID
    assert "GET /healthz" in str(access[-1]["event"])
    assert all({"level", "timestamp", "event"} <= r.keys() for r in records)


def test_the_access_lines_can_be_left_to_the_proxy(tmp_path: Path) -> None:
    quiet = _serve(tmp_path, PORTAL_ACCESS_LOG="false")
    assert quiet and not [r for r in quiet if r.get("logger") == "uvicorn.access"]
    warnings_only = _serve(tmp_path, PORTAL_LOG_LEVEL="warning")
    assert all(r["level"] in ("warning", "error", "critical") for r in warnings_only)
