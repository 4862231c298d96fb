"""`POST /api/v1/check`: the rule engine's `portal check --json` over HTTP, anonymous and rate-limited.

The body is parsed by hand with `parse_float=Decimal` because FastAPI's JSON parsing turns
money into binary floats before any model sees it; the answer is exactly `pack.check(...)`,
encoded by orjson (compact, UTF-8): the stdlib encoder took longer than the check itself.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NoReturn

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from portal.rules import FactError
from portal.web.errors import Problem
from portal.web.json_body import read_object

router = APIRouter(prefix="/api/v1", tags=["check"])
_FIELDS = frozenset({"facts", "on", "measures", "lang"})

_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["facts"],
    "additionalProperties": False,
    "properties": {
        "facts": {
            "type": "object",
            "description": "Facts keyed by entity (enterprise, loan, talent, product, project), "
            "named as in rules/facts.yaml. Money as a JSON number or decimal string.",
            "additionalProperties": {"type": "object"},
        },
        "on": {"type": "string", "format": "date", "description": "Evaluation date; default today"},
        "measures": {"type": "array", "items": {"type": "string"}},
        "lang": {"type": "string", "enum": ["zh", "en"], "default": "zh"},
    },
}


def _reject(status: int, detail: str, **extra: Any) -> NoReturn:
    raise Problem(status, detail, **extra)


def _on(value: object, today: dt.date) -> dt.date:
    if value is None:
        return today
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    _reject(422, "`on` must be a date as YYYY-MM-DD.", field="on")


def _measures(value: object, known: set[str]) -> list[str] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and all(isinstance(m, str) for m in value)):
        _reject(422, "`measures` must be a list of measure ids.", field="measures")
    unknown = [m for m in value if m not in known]
    if unknown:
        _reject(422, f"Unknown measure id(s): {', '.join(unknown)}.", field="measures")
    return value


def _json_default(value: object) -> str:
    """Money as exact decimal text (orjson writes dates itself)."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@router.post(
    "/check",
    summary="Check eligibility for the policy measures",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _REQUEST_SCHEMA}}}
    },
    responses={
        200: {"description": "The same document as `portal check --json`"},
        422: {"description": "A bad fact (named in `fact`) or a bad request member (named in `field`)"},
        429: {"description": "Rate limit exceeded; see Retry-After"},
    },
)
async def check(request: Request) -> Response:
    client = request.client.host if request.client else "unknown"
    retry_after = request.app.state.check_limiter.hit(client)
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
        raise Problem(429, "Too many checks from this address; wait and retry.", headers=headers)
    doc = await read_object(request, required={"facts"}, allowed=_FIELDS)
    pack = request.app.state.pack
    on = _on(doc.get("on"), request.app.state.portal.today())
    measures = _measures(doc.get("measures"), set(pack.measure_ids()))
    lang = doc.get("lang", "zh")
    if lang not in ("zh", "en"):
        _reject(422, "`lang` must be zh or en.", field="lang")
    try:
        result = pack.check(doc["facts"], on, measures, lang)  # parses the facts once, here
    except FactError as exc:
        _reject(422, f"{exc.fact}: {exc.message}", fact=exc.fact)
    return Response(orjson.dumps(result, default=_json_default), media_type="application/json")
