"""Every error answered the same way: a zh/en page for people, RFC 9457 problem JSON for /api/.

No stack trace ever reaches a client. Unexpected exceptions are logged with a short reference
that the 500 page shows, so a clerk can quote it to support.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, cast

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.web.input_guard import HostileText
from portal.web.plain_errors import plain_message
from portal.web.problem_types import problem_type
from portal.web.security import CSRF_REFUSED, csrf_token
from portal.web.templating import base_context, page_actor

log = logging.getLogger("portal.web")
PROBLEM_MEDIA_TYPE = "application/problem+json"
# Statuses with their own wording in the catalogue; any other 4xx/5xx falls back to 400/500 texts.
PAGE_STATUSES = frozenset({400, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503})
# The stable `code` of an API problem raised by the framework rather than a route (an unknown
# path, a method the path lacks, a malformed path parameter): the bank API promises a code on
# every refusal, and these are spelled as its own (docs/bank-api.md).
FRAMEWORK_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "rate_limited",
}


class Problem(Exception):
    """Raised by routes for a precise 4xx; `extra` members (e.g. `fact`) go into the JSON body."""

    def __init__(
        self, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def framework_code(status: int) -> str:
    return FRAMEWORK_CODES.get(status, "bad_request")


def is_api(conn: HTTPConnection) -> bool:
    return conn.url.path.startswith("/api/")


def problem_response(
    status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    title = HTTPStatus(status).phrase
    body = {
        # Published as the status's slug (`/problems/not-found`); the page it links lists the codes
        # that come with the status, each with its own page (docs/bank-api.md).
        "type": problem_type(status),
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def layout_context(conn: HTTPConnection) -> dict[str, Any]:
    """What the signed-in layout needs on a page rendered outside a route (errors)."""
    return {
        **base_context(conn),
        "actor": page_actor(conn),
        "csrf_token": lambda: csrf_token(cast("Request", conn)),
        "enterprise_unverified": False,
    }


def error_page(
    conn: HTTPConnection,
    env: jinja2.Environment,
    status: int,
    reference: str | None = None,
    key: str | None = None,
) -> HTMLResponse:
    shown = status if status in PAGE_STATUSES else (500 if status >= 500 else 400)
    html = env.get_template("errors/error.html").render(
        **layout_context(conn), status=status, key=key or f"error.{shown}", reference=reference
    )
    return HTMLResponse(html, status_code=status)


def error_response(
    conn: HTTPConnection, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """The answer for an error: problem JSON under /api/, else the zh/en page for `status`."""
    if is_api(conn):
        return problem_response(status, detail, headers=headers, **extra)
    # A stale form (its token no longer matches the session) is not a lack of rights: saying
    # "reload and try again" is right for it and misleading for a refusal.
    expired = "error.expired" if status == 403 and detail == CSRF_REFUSED else None
    response = error_page(conn, conn.app.state.jinja, status, key=expired)
    response.headers.update(headers or {})
    return response


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    status = exc.status_code
    coded = {"code": framework_code(status)} if 400 <= status < 500 else {}
    return error_response(request, status, detail, headers=dict(exc.headers or {}), **coded)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return error_response(request, exc.status, exc.detail, headers=exc.headers, **exc.extra)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not is_api(request):
        wrong = {str(e.get("loc", ("body",))[0]) for e in exc.errors()}
        # A page's address that names no page (/applications/abc) is a page not found, and one
        # whose query cannot be read (?archived=maybe) has nothing the reader could correct:
        # "correct it and try again" is for a form they filled in.
        if wrong == {"path"}:
            return error_page(request, request.app.state.jinja, 404)
        if wrong <= {"path", "query"} and request.method in ("GET", "HEAD"):
            return error_page(request, request.app.state.jinja, 400, key="error.address")
    # Only the location and message: FastAPI's raw errors echo the input, which may be large.
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": plain_message(e)}
        for e in exc.errors()
    ]
    detail = "; ".join(_part_in_words(e["loc"], plain_message(e)) for e in exc.errors())
    return error_response(
        request, 422, f"The request is not valid: {detail}.", code=framework_code(422), errors=errors
    )


_PARTS = {"path": "in the path", "query": "in the query string", "header": "header", "cookie": "cookie"}


def _part_in_words(loc: Sequence[object], message: str) -> str:
    """`path.loan_id` with "must be a whole number" as "`loan_id` in the path must be a whole number"."""
    if len(loc) >= 2 and str(loc[0]) in _PARTS:
        return f"`{'.'.join(str(p) for p in loc[1:])}` {_PARTS[str(loc[0])]} {message}"
    return f"{'.'.join(str(p) for p in loc) or 'body'}: {message}"


async def _on_hostile_text(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HostileText)
    return error_response(request, 422, exc.detail, field=exc.field)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HostileText, _on_hostile_text)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)


class UnhandledErrorMiddleware:
    """Turns any uncaught exception into a 500 page or problem, logged with a reference.

    It sits inside the security-headers middleware (unlike Starlette's ServerErrorMiddleware),
    so 500 answers carry the same headers as every other answer.
    """

    def __init__(self, app: ASGIApp, env: jinja2.Environment) -> None:
        self.app = app
        self.env = env

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            reference = secrets.token_hex(4)
            log.exception("unhandled error, reference %s, %s %s", reference, scope["method"], scope["path"])
            if started:
                raise
            conn = HTTPConnection(scope)
            response: Response
            if is_api(conn):
                response = problem_response(500, "Internal error.", reference=reference)
            else:
                response = error_page(conn, self.env, 500, reference)
            await response(scope, receive, send)
