"""One-time messages ("flash") that tell a person what their last action did.

An action stores a message key and its parameters in the server-side session and redirects;
the next page rendered takes it out and shows it in the reader's language, so the words are
chosen when read (a zh/en pair as a parameter is resolved then too), never when written.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from portal.web.i18n import Translator

FLASH_KEY = "flash"


def flash(conn: HTTPConnection, key: str, **params: object) -> None:
    """Queue `key` for the next page; params are plain values or {"zh": …, "en": …} pairs."""
    conn.session[FLASH_KEY] = {"key": key, "params": params}


def take_flash(conn: HTTPConnection, t: Translator) -> str | None:
    """The queued message in `t`'s language, removed from the session; None when there is none."""
    if "session" not in conn.scope:
        return None
    stored: Any = conn.session.pop(FLASH_KEY, None)
    if not isinstance(stored, dict):
        return None
    params = {
        name: (value.get(t.lang) or value.get("zh", "")) if isinstance(value, dict) else value
        for name, value in dict(stored.get("params") or {}).items()
    }
    return t(str(stored["key"]), **params)
