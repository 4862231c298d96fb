"""The public self-check page (政策计算器): facts in, a badge per measure out.

The answers are not stored; each measure's outcome is, for the supervision dashboard's
self-check funnel (with the enterprise when one is signed in).

`?measure=` narrows it to one measure (the catalogue's "check if you qualify"): the form asks only
for the facts that measure reads, and the result leads on to the measure's page and its apply step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from portal.rules import Rule
from portal.services.self_checks import record_self_check
from portal.web.i18n import Translator, request_lang
from portal.web.security import require_csrf
from portal.web.self_check import coverage, fact_groups, parse_posted, present_results, unchecked_measures
from portal.web.session_auth import optional_actor, portal_of
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


def _measure(request: Request, measure_id: str | None) -> Rule | None:
    """The measure in force today that the check is narrowed to, if one is asked for and known."""
    pack = portal_of(request).pack
    if not measure_id or measure_id not in pack.measure_ids():
        return None
    rule: Rule | None = pack.select(measure_id, portal_of(request).today())
    return rule


def _page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    results: list[dict[str, Any]] | None,
    measure: Rule | None,
    status_code: int = 200,
    unchecked: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    lang = request_lang(request)
    only = frozenset(measure.compiled.inputs()) if measure is not None and measure.compiled else None
    portal = portal_of(request)
    t = Translator(lang)
    covers = coverage(portal.pack, portal.city, portal.today(), t) if measure is None else None
    return render(
        request,
        "self_check.html",
        {
            "groups": fact_groups(request.app.state.pack, portal.city, t, only),
            "values": values,
            # Optional entity groups open when the applicant filled or got wrong one of their facts.
            "filled": {k for k, v in values.items() if v.strip()} | set(errors),
            "errors": errors,
            "results": results,
            "unchecked": unchecked or [],
            "coverage": covers,
            "measure": {"id": measure.id, "title": measure.title.get(lang)} if measure is not None else None,
        },
        status_code,
    )


@router.get("/self-check", response_class=HTMLResponse)
def self_check_form(request: Request, measure: str | None = None) -> HTMLResponse:
    today = portal_of(request).today()
    return _page(request, {"on": today.isoformat()}, {}, None, _measure(request, measure))


@router.post("/self-check", response_class=HTMLResponse)
async def self_check(request: Request) -> HTMLResponse:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k not in ("csrf_token", "measure")}
    measure_field = form.get("measure")
    measure = _measure(request, measure_field if isinstance(measure_field, str) else None)
    # Each check writes its outcomes: the page shares the check API's quota per client address.
    client = request.client.host if request.client else "unknown"
    retry_after = request.app.state.check_limiter.hit(client)
    if retry_after is not None:
        t = Translator(request_lang(request))
        busy = _page(request, values, {"form": t("check.error.rate_limited")}, None, measure, status_code=429)
        busy.headers["Retry-After"] = str(retry_after)
        return busy
    pack = request.app.state.pack
    t = Translator(request_lang(request))
    facts, errors = parse_posted(pack, values, portal_of(request).today(), t)
    try:
        on = dt.date.fromisoformat(values.get("on", "").strip())
    except ValueError:
        on = portal_of(request).today()
        errors["on"] = t("check.invalid.date")
    if errors:
        return _page(request, values, errors, None, measure, status_code=422)
    lang = request_lang(request)
    if measure is not None:  # asked by id, a measure is always answered, with what it still needs
        facts = {measure.applies_to: {}, **facts}
    check = pack.check(facts, on, [measure.id] if measure is not None else None, lang)
    await run_in_threadpool(lambda: record_self_check(portal_of(request), optional_actor(request), check))
    unchecked = unchecked_measures(pack, portal_of(request).city, check, t) if measure is None else None
    return _page(request, values, errors, present_results(pack, check, lang), measure, unchecked=unchecked)
