"""One-time messages ("flash") that tell a person what their last action did.

An action stores a message key and its parameters in the server-side session and redirects;
the next page rendered takes them out and shows them in the reader's language, so the words are
chosen when read (a zh/en pair as a parameter is resolved then too), never when written. One
action may say more than one thing (a file reused, then the draft saved): they show in order.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from portal.web.i18n import Translator

FLASH_KEY = "flash"


def flash(conn: HTTPConnection, key: str, **params: object) -> None:
    """Queue `key` for the next page; params are plain values or {"zh": …, "en": …} pairs."""
    queued: Any = conn.session.get(FLASH_KEY)
    kept = list(queued) if isinstance(queued, list) else []
    conn.session[FLASH_KEY] = [*kept, {"key": key, "params": params}]


def take_flash(conn: HTTPConnection, t: Translator) -> list[str]:
    """The queued messages in `t`'s language, removed from the session (none: an empty list)."""
    if "session" not in conn.scope:
        return []
    stored: Any = conn.session.pop(FLASH_KEY, None)
    if not isinstance(stored, list):
        return []
    return [_said(item, t) for item in stored if isinstance(item, dict)]


def _said(item: dict[str, Any], t: Translator) -> str:
    params = {
        name: (value.get(t.lang) or value.get("zh", "")) if isinstance(value, dict) else value
        for name, value in dict(item.get("params") or {}).items()
    }
    return t(str(item["key"]), **params)
