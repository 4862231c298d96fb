"""Reading a JSON request body by hand, for the APIs that take money.

FastAPI's own parsing turns every JSON number into a binary float before a model sees it, so
these routes read the bytes themselves and parse with `parse_float=Decimal`. Every way a body
can be wrong is a problem response naming the member at fault.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Set
from decimal import Decimal
from typing import Any, NoReturn

from fastapi import Request

from portal.web.errors import Problem

MAX_BODY_BYTES = 256 * 1024  # a full FACTS.json is a few KB; anything near this is abuse


def refuse_constant(name: str) -> NoReturn:
    """`parse_constant` hook: NaN and Infinity are no amounts of money."""
    raise ValueError(f"{name} is not a number")


def sends_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def read_limited(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refusing (413) as soon as it passes `limit` instead of buffering it whole."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"The body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(raw: bytes, *, parse_float: Callable[[str], Decimal] = Decimal) -> object:
    """The body as JSON with exact decimals: 400 when it is not JSON at all.

    A number that `parse_float` or `refuse_constant` will not take (NaN, an exponent) raises
    ValueError for the caller to answer as it documents.
    """
    try:
        return json.loads(raw, parse_float=parse_float, parse_constant=refuse_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Problem(400, f"The body is not valid JSON: {exc}") from None


def parse_object(raw: bytes, *, required: Set[str], allowed: Set[str]) -> dict[str, Any]:
    """A JSON object with exact decimals, only `allowed` members and every `required` one."""
    try:
        doc = decode_json(raw)
    except ValueError as exc:
        raise Problem(400, f"The body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise Problem(422, "The body must be a JSON object.", field="body")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise Problem(422, f"Unknown member(s): {', '.join(unknown)}.", field=unknown[0])
    missing = sorted(required - set(doc))
    if missing:
        raise Problem(422, f"`{missing[0]}` is required.", field=missing[0])
    return doc


async def read_object(request: Request, *, required: Set[str], allowed: Set[str]) -> dict[str, Any]:
    """Media type (415), size (413), then `parse_object`: the order a client fixes them in."""
    if not sends_json(request):
        raise Problem(415, "Send the body as application/json.")
    return parse_object(await read_limited(request), required=required, allowed=allowed)
