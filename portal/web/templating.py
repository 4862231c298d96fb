"""Jinja2 set up once per app: autoescape always on, and a `render` helper that gives every
template the language, translator, CSRF token and language-switch link it needs.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.requests import HTTPConnection

from portal.messages import LANGS
from portal.services.access import actor_for_user
from portal.services.banks import bank_name
from portal.web.flash import take_flash
from portal.web.i18n import Translator, request_lang
from portal.web.navigation import menu
from portal.web.security import CSRF_FIELD, csrf_token
from portal.web.session_store import HANDLE_KEY
from portal.workflows import Actor

TEMPLATES_DIR = Path(__file__).with_name("templates")


def make_environment() -> jinja2.Environment:
    """Autoescape is forced on for every template, whatever its extension: user text is hostile."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _signed_in(conn: HTTPConnection) -> bool:
    handle = conn.scope.get(HANDLE_KEY)
    return handle is not None and handle.user_id is not None


def page_actor(conn: HTTPConnection) -> Actor | None:
    """Who is signed in, so an error page keeps their navigation; None if nobody or unknowable."""
    handle = conn.scope.get(HANDLE_KEY)
    if handle is None or handle.user_id is None:
        return None
    try:
        return actor_for_user(conn.app.state.portal, handle.user_id)
    except Exception:  # the error being answered may be the database itself: show the plain nav
        return None


def base_context(conn: HTTPConnection) -> dict[str, Any]:
    """What the base layout needs; usable without a session (error pages render outside it)."""
    lang = request_lang(conn)
    other = LANGS[1 - LANGS.index(lang)]
    here = conn.url.path + (f"?{conn.url.query}" if conn.url.query else "")
    return {
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh" else "en",
        "t": Translator(lang),
        # An instant in the pack's time zone and the reader's words, beside `t.date`'s dates.
        "local_time": partial(conn.app.state.portal.clock.in_words, lang=lang),
        # A partner bank's name (its Chinese name and its English one, or None) in the reader's words.
        "bank_name": partial(bank_name, lang=lang),
        "switch_lang_url": f"/lang/{other}?next={quote(here, safe='')}",
        "current_path": conn.url.path,
        # The session middleware has already looked the session up: no query here.
        "signed_in": _signed_in(conn),
        "csrf_field": CSRF_FIELD,
        "session_idle_seconds": conn.app.state.settings.session_idle_minutes * 60,
        # The pack's city: the site's name and the labels of enum values (districts, tracks, ...).
        "city": conn.app.state.portal.city,
        # The signed-in person's menu: only the pages they may open.
        "nav_menu": partial(menu, conn.app.state.portal),
        # Sign-in and verification through an OpenID Connect provider, when one is configured.
        "oidc_enabled": conn.app.state.settings.oidc_issuer is not None,
        # What the last action did (portal.web.flash); only `render` takes it from the session.
        "flash": [],
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page; `csrf_token()` is lazy so pages without forms set no session cookie."""
    env: jinja2.Environment = request.app.state.jinja
    base = base_context(request)
    base["flash"] = take_flash(request, base["t"])
    if base["signed_in"] and "actor" not in context:
        # A public page (home, notices) keeps the signed-in person's own menu.
        base["actor"] = page_actor(request)
    page = env.get_template(template).render(
        **base,
        csrf_token=lambda: csrf_token(request),
        # Set by the enterprise-role dependency: every page of an unverified enterprise says so.
        enterprise_unverified=getattr(request.state, "enterprise_unverified", False),
        **context,
    )
    return HTMLResponse(page, status_code=status_code, headers=headers)
