"""Security defaults every page gets without asking: strict headers, sessions and CSRF tokens.

Headers are added by a pure ASGI middleware so that error pages, static files and API answers
all carry them. CSRF uses the synchroniser-token pattern: a random token lives in the signed
session cookie and every unsafe request must echo it in a `csrf_token` form field or an
`X-CSRF-Token` header.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Final

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.web.input_guard import check_fields
from portal.web.session_store import session_handle

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)
_HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
_HSTS: Final = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
CSRF_REFUSED: Final = "CSRF token missing or invalid"


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response, unless a route already set one."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = (*_HEADERS, _HSTS) if https else _HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _expected_csrf(request: Request, session_token: str) -> str:
    secret: bytes = request.app.state.csrf_secret
    return hmac.new(secret, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """This session's CSRF token; templates put it in every form. Sign-in rotates it."""
    return _expected_csrf(request, session_handle(request).ensure_token())


async def require_csrf(request: Request) -> None:
    """Dependency: reject an unsafe request whose token does not match the session's (403).

    Routers that serve pages declare it once at router level, so a new POST route is protected
    without remembering to. The form is parsed here and cached by Starlette for the endpoint.
    """
    if request.method in SAFE_METHODS:
        return
    session_token = session_handle(request).token
    sent = request.headers.get(CSRF_HEADER)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        # Parsed here, after the upload size guard: its text fields get the boundary check too.
        form = await request.form()
        check_fields(form.multi_items(), multi_line=True)
        if sent is None:
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    elif sent is None and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not (
        session_token is not None
        and sent
        and hmac.compare_digest(_expected_csrf(request, session_token).encode(), sent.encode())
    ):
        raise HTTPException(status_code=403, detail=CSRF_REFUSED)


def body_within(max_bytes: int) -> Callable[[Request], Awaitable[None]]:
    """Dependency factory: refuse an unsafe request over `max_bytes` from its Content-Length.

    Starlette spools multipart files to disk with no size limit, so an upload route must refuse
    a huge body before anything (the CSRF check included) reads it; list it first.
    """

    async def dependency(request: Request) -> None:
        if request.method in SAFE_METHODS:
            return
        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit():
            raise HTTPException(status_code=411, detail="Content-Length is required.")
        if int(declared) > max_bytes:
            raise HTTPException(status_code=413, detail=f"The request is over {max_bytes} bytes.")

    return dependency
