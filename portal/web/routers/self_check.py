"""The anonymous self-check page (政策计算器): facts in, a badge per measure out; nothing stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from portal.web.i18n import request_lang
from portal.web.security import require_csrf
from portal.web.self_check import fact_groups, parse_posted, present_results
from portal.web.session_auth import portal_of
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


def _page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    results: list[dict[str, Any]] | None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = request_lang(request)
    return render(
        request,
        "self_check.html",
        {
            "groups": fact_groups(request.app.state.pack, portal_of(request).city, lang),
            "values": values,
            # Optional entity groups open when the applicant filled or got wrong one of their facts.
            "filled": {k for k, v in values.items() if v.strip()} | set(errors),
            "errors": errors,
            "results": results,
        },
        status_code,
    )


@router.get("/self-check", response_class=HTMLResponse)
def self_check_form(request: Request) -> HTMLResponse:
    today = portal_of(request).today()
    return _page(request, {"on": today.isoformat()}, {}, None)


@router.post("/self-check", response_class=HTMLResponse)
async def self_check(request: Request) -> HTMLResponse:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    pack = request.app.state.pack
    facts, errors = parse_posted(pack, values)
    try:
        on = dt.date.fromisoformat(values.get("on", "").strip())
    except ValueError:
        on = portal_of(request).today()
        errors["on"] = "check.invalid.date"
    if errors:
        return _page(request, values, errors, None, status_code=422)
    lang = request_lang(request)
    check = pack.check(facts, on, None, lang)
    return _page(request, values, errors, present_results(pack, check, lang))
