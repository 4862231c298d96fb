"""One boundary check for every string a request carries: no control or bidi-override characters.

PostgreSQL refuses NUL in text (psycopg raises DataError, a 500), SQLite stores it, and bidi
overrides make a name or file name read differently from what it is ("scan\\u202efdp.hta" shows
as "scanath.pdf"). So every route refuses them before any service sees the value: C0 controls
and DEL everywhere (tab, CR and LF only inside bodies, where text may span lines), and the bidi
embedding, override and isolate characters everywhere. The answer is a 422 naming the field:
problem JSON under /api/, the zh/en error page elsewhere.

Multipart bodies are checked by the CSRF dependency after the upload size guard, so that a huge
upload is refused before anything parses it (see `portal.web.security`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from fastapi import Request

from portal.text_rules import (
    MULTI_LINE_BAD,
    SINGLE_LINE_BAD,
    escapes_refused,
    first_refused,
    first_refused_member,
)


class HostileText(Exception):
    """A refused character in `field`; `portal.web.errors` answers it with a 422."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field
        self.detail = (
            f"`{field}` contains a control or bidirectional-override character, which is not accepted."
        )


def _refuse(field: str) -> HostileText:
    return HostileText(field)


def check_fields(items: Iterable[tuple[str, object]], *, multi_line: bool) -> None:
    """Refuse the first field whose name or text value holds a refused character."""
    refused = first_refused(items, multi_line=multi_line)
    if refused is not None:
        raise _refuse(refused)


async def reject_hostile_text(request: Request) -> None:
    """App-wide dependency: the path, the query string, and urlencoded or JSON bodies."""
    if SINGLE_LINE_BAD.search(request.scope["path"]):
        raise _refuse("(path)")
    check_fields(request.query_params.multi_items(), multi_line=False)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        check_fields((await request.form()).multi_items(), multi_line=True)
    elif "json" in content_type:
        text = (await request.body()).decode("utf-8", errors="replace")
        if MULTI_LINE_BAD.search(text) or escapes_refused(text):
            raise _refuse(_first_bad_member(text))


def _first_bad_member(text: str) -> str:
    """The dotted path of the first refused string in a JSON body (found only on the bad path)."""
    try:
        document = json.loads(text)
    except ValueError:
        return "(body)"
    member = first_refused_member(document)
    return "(body)" if member is None or member == "(document)" else member
