"""Service refusals turned into HTTP answers: one status per error class, zh/en text for people.

Routers let `ServiceError`s propagate unless they re-render a form with field errors; these
handlers then answer with the error page (or problem JSON under /api/), so no route has to
remember that a stale version is 409 or that someone else's case is 404.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from portal.services.errors import (
    BadStoredState,
    Conflict,
    Forbidden,
    NotFound,
    Refused,
    ServiceError,
    ValidationFailed,
)
from portal.web.errors import error_page, error_response, is_api, problem_response
from portal.web.i18n import request_lang
from portal.web.routers.pages import safe_next
from portal.web.session_auth import LoginRequired
from portal.web.templating import page_actor, render

log = logging.getLogger("portal.web")


def status_of(exc: ServiceError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, Conflict | Refused):
        return 409
    if isinstance(exc, ValidationFailed):
        return 422
    return 500


def message_of(exc: ServiceError, lang: str) -> str:
    """The sentence a person reads; NotFound says nothing about whether the object exists."""
    if isinstance(exc, Forbidden | Refused):
        return exc.said_in(lang)
    if isinstance(exc, NotFound):
        return "Not found." if lang == "en" else "未找到。"
    return str(exc)


async def _on_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    status = status_of(exc)
    if isinstance(exc, BadStoredState):
        # An operator's problem: logged for them, while the user sees the ordinary 500 page.
        log.error("bad stored state on %s %s: %s", request.method, request.url.path, exc)
        return error_response(request, 500, "Internal error.")
    lang = request_lang(request)
    if is_api(request):
        extra: dict[str, Any] = {}
        if isinstance(exc, Refused):
            extra["code"] = exc.code
        if isinstance(exc, Conflict) and exc.current_version is not None:
            extra["current_version"] = exc.current_version
        if isinstance(exc, ValidationFailed):
            extra["errors"] = [{"field": e.path, "message": e.message} for e in exc.errors]
        return problem_response(status, message_of(exc, "en"), **extra)
    if isinstance(exc, Forbidden | Refused | Conflict):
        # The generic page says what kind of error; the workflow's own sentence says why. A
        # conflict leads back to the page the person acted from, to see it as it is now.
        back = urlsplit(request.headers.get("referer") or "/").path
        return render(
            request,
            "errors/service_error.html",
            {
                "actor": page_actor(request),
                "status": status,
                # A refusal is no conflict with someone else: its page says the action was not taken.
                "key": "error.refused" if isinstance(exc, Refused) else f"error.{status}",
                "detail": "" if isinstance(exc, Conflict) else message_of(exc, lang),
                "back": safe_next(back),
            },
            status_code=status,
        )
    return error_page(request, request.app.state.jinja, status)


async def _on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)


def install_service_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(LoginRequired, _on_login_required)
