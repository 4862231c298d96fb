"""Server-side sessions for the web app: `request.session` backed by the `web_session` table.

Replaces Starlette's signed-cookie sessions. The cookie holds only an opaque random token; the
signed-in account and any session data live in the database, so any instance can end a session
and every other instance refuses the old cookie at once. An anonymous visitor's token has no
row (it only binds their CSRF token), so anonymous traffic never writes. Database work runs in a
worker thread, never on the event loop, and only for requests that carry a cookie or change the
session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.services import web_sessions
from portal.services.context import Portal
from portal.services.web_sessions import SessionTimeouts

SESSION_COOKIE = "portal_session"
HANDLE_KEY = "portal.session"
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass
class SessionHandle:
    """This request's session: its token, its account, and what sign-in or sign-out asked for."""

    token: str | None = None
    user_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    stored: bool = False
    saved: dict[str, Any] = field(default_factory=dict)
    signing_in: int | None = None
    signing_out: bool = False
    minted: bool = False

    def ensure_token(self) -> str:
        """This visitor's token, minting an anonymous one (a cookie, no row) if there is none."""
        if self.token is None:
            self.token = web_sessions.new_token()
            self.minted = True
        return self.token

    def sign_in(self, user_id: int) -> None:
        """Start a new session for `user_id` as the response goes out; the token rotates."""
        self.data.clear()
        self.user_id = user_id
        self.signing_in = user_id
        self.signing_out = False

    def sign_out(self) -> None:
        """End this session on every instance as the response goes out."""
        self.data.clear()
        self.user_id = None
        self.signing_in = None
        self.signing_out = True


def session_handle(conn: HTTPConnection) -> SessionHandle:
    handle: SessionHandle = conn.scope[HANDLE_KEY]
    return handle


class ServerSessionMiddleware:
    """Loads the session before the app runs and stores what changed as the response starts."""

    def __init__(self, app: ASGIApp, *, timeouts: SessionTimeouts, https: bool) -> None:
        self.app = app
        self.timeouts = timeouts
        self.cookie_flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if https else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        # Read per request: tests and the demo may swap the app's Portal after start-up.
        portal: Portal = scope["app"].state.portal
        handle, dead_cookie = await self._load(portal, HTTPConnection(scope).cookies.get(SESSION_COOKIE))
        scope["session"] = handle.data
        scope[HANDLE_KEY] = handle

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Most answers (the public API, a page that changed nothing) have nothing to store:
                # no hop to a worker thread for them.
                if handle.signing_out or handle.signing_in is not None or handle.data != handle.saved:
                    cookie = await to_thread.run_sync(self._persist, portal, handle)
                else:
                    cookie = handle.token if handle.minted else None
                if cookie is None and dead_cookie and handle.token is None:
                    cookie = ""
                if cookie is not None:
                    expiry = "; Max-Age=0" if cookie == "" else ""
                    MutableHeaders(scope=message).append(
                        "set-cookie", f"{SESSION_COOKIE}={cookie}{self.cookie_flags}{expiry}"
                    )
            await send(message)

        await self.app(scope, receive, send_with_session)

    async def _load(self, portal: Portal, token: str | None) -> tuple[SessionHandle, bool]:
        """The handle for this cookie, and whether the cookie named a session that has ended."""
        if token is None or not _TOKEN_SHAPE.fullmatch(token):
            return SessionHandle(), token is not None
        live = await to_thread.run_sync(web_sessions.resolve, portal, token, self.timeouts)
        if live is None:
            return SessionHandle(), True
        return SessionHandle(token, live.user_id, live.data, live.stored, dict(live.data)), False

    def _persist(self, portal: Portal, handle: SessionHandle) -> str | None:
        """The cookie value to set ("" deletes it), or None to leave the cookie as it is."""
        if handle.signing_out:
            if handle.token is not None and handle.stored:
                web_sessions.end(portal, handle.token)
            return ""
        if handle.signing_in is not None:
            replaces = handle.token if handle.stored else None
            return web_sessions.start(portal, handle.signing_in, handle.data, replaces=replaces)
        if handle.data != handle.saved:
            token = handle.ensure_token()
            if handle.stored:
                web_sessions.save_data(portal, token, handle.data)
            else:
                web_sessions.store(portal, token, handle.data)
        return handle.token if handle.minted else None
