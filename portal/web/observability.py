"""What operators see: a request id on every log line, JSON logs, and Prometheus metrics.

The request id comes from `X-Request-ID` when a proxy sent one (asgi-correlation-id) and is
returned in the response, so a complaint, a log line and a trace can be joined. Request counts
and latency are labelled by route template (never by raw path, which would explode the series).
Figures that must agree across instances (overdue cases, e-mail, bank queries) are read from the
database at scrape time (`portal.services.metrics`). With several worker processes, set
PROMETHEUS_MULTIPROC_DIR so that the per-process counters are summed (prometheus-client's
multiprocess mode).
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
import time
from typing import Any, TextIO

import structlog
from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.services.context import Portal
from portal.services.metrics import service_figures

REQUESTS = Counter("portal_http_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "portal_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def _add_request_id(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    request_id = correlation_id.get()
    if request_id is not None:
        event_dict["request_id"] = request_id
    return event_dict


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to `sys.stderr` as it is when a record is emitted, like the stdlib's last resort.

    A plain StreamHandler keeps the stream it was made with: configured while `sys.stderr` was a
    capture (a CLI runner, a test), it would write to that stream after it was closed.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)  # not StreamHandler's: it would fix the stream

    @property
    def stream(self) -> TextIO:  # type: ignore[override]  # read-only: always the current stderr
        return sys.stderr


def configure_logging(level: int | str = logging.INFO) -> None:
    """JSON lines on stderr for portal, uvicorn and library loggers alike, each with the request id.

    Idempotent: a second call replaces the portal's handler instead of adding another.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class MetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_tracking(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


class _ServiceFiguresCollector(Collector):
    """Database-wide gauges, read at scrape time."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def collect(self) -> Any:
        figures = service_figures(self.portal)
        overdue = GaugeMetricFamily(
            "portal_cases_overdue", "Cases past their stage deadline", labels=["workflow", "stage"]
        )
        for (workflow, stage), n in sorted(figures.overdue_by_stage.items()):
            overdue.add_metric([workflow, stage], n)
        yield overdue
        emails = GaugeMetricFamily("portal_emails", "Notifications by e-mail delivery", labels=["status"])
        emails.add_metric(["sent"], figures.emails_sent)
        emails.add_metric(["pending"], figures.emails_pending)
        emails.add_metric(["failed"], figures.emails_failed)
        yield emails
        queries = GaugeMetricFamily(
            "portal_bank_queries", "Bank API requests on the access log", labels=["outcome"]
        )
        for outcome, n in sorted(figures.bank_queries_by_outcome.items()):
            queries.add_metric([outcome], n)
        yield queries


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus exposition; off (404) unless PORTAL_METRICS_TOKEN is set, then bearer-protected."""
    secret = request.app.state.settings.metrics_token
    if secret is None:
        return Response(status_code=404)
    expected = f"Bearer {secret.get_secret_value()}".encode()
    if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    figures = CollectorRegistry()
    figures.register(_ServiceFiguresCollector(request.app.state.portal))
    return Response(generate_latest(registry) + generate_latest(figures), media_type=CONTENT_TYPE_LATEST)
