"""Request ids, JSON logs and /metrics, as an operator meets them."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from portal.settings import Settings
from portal.web.app import create_app
from portal.web.observability import configure_logging


def test_the_request_id_is_kept_from_the_proxy_or_made_and_returned(client: TestClient) -> None:
    sent = client.get("/healthz", headers={"X-Request-ID": "0f8fad5b-d9cb-469f-a165-70867728950e"})
    assert sent.headers["x-request-id"] == "0f8fad5b-d9cb-469f-a165-70867728950e"
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) >= 32 and made != sent.headers["x-request-id"]


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """The root logger, given back afterwards with the handlers and level it had."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_log_lines_are_json_with_the_request_id(
    web_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging()
    app = create_app(web_settings)
    with TestClient(app, raise_server_exceptions=False) as c:

        @app.get("/_log_probe")
        def probe() -> dict[str, str]:
            logging.getLogger("portal.test").info("probe %s", "ran")
            return {}

        c.get("/_log_probe", headers={"X-Request-ID": "5c7a0b5e-3c1a-4e0b-9a39-2d0f1c7e6b11"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    probe_line = next(line for line in lines if line.get("event") == "probe ran")
    assert probe_line["request_id"] == "5c7a0b5e-3c1a-4e0b-9a39-2d0f1c7e6b11"
    assert probe_line["level"] == "info"


def test_logging_configured_under_a_closed_capture_writes_to_the_current_stderr(
    root_logging: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CLI runner captures stderr while the app configures logging, then closes its stream; a later
    record (an SMTP thread's, say) goes to stderr as it is then, not to "--- Logging error ---"."""
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    configure_logging()
    configure_logging()  # twice, as two apps in one process do
    captured.close()
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    logging.getLogger("portal.test").warning("after %s", "the runner")
    assert "Logging error" not in now.getvalue()
    [line] = [json.loads(line) for line in now.getvalue().splitlines()]
    assert line["event"] == "after the runner" and line["level"] == "warning"
    assert len(root_logging.handlers) == 1


def test_metrics_are_off_without_a_token_and_protected_with_one(web_settings: Settings) -> None:
    with TestClient(create_app(web_settings)) as off:
        assert off.get("/metrics").status_code == 404
    settings = web_settings.model_copy(update={"metrics_token": SecretStr("scrape-me")})
    with TestClient(create_app(settings)) as on:
        assert on.get("/metrics").status_code == 401
        assert on.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        on.get("/api/v1/bank/loans/1")
        on.post("/api/v1/check", json={"facts": {"enterprise": {"employees": 10}}})
        text = on.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).text
    assert 'portal_http_requests_total{method="POST",route="/api/v1/check",status="200"}' in text
    assert 'route="/api/v1/bank/loans/{loan_id}"' in text
    assert "portal_http_request_seconds_bucket" in text
    assert 'portal_emails{status="sent"}' in text
    assert "portal_cases_overdue" in text
