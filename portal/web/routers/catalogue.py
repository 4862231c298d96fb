"""The policy catalogue (政策库): public, with a page per measure; a signed-in enterprise also sees
its badge on each (eligible, more information needed, not eligible) and what would make it pass.

Anyone may read what a measure gives, who may apply, how, with which documents, on which legal
source and through which unit, before deciding to register: GOV.UK's "find, then start".
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from portal.services.catalogue import catalogue_for, measure_entry, public_catalogue
from portal.web.case_views import label
from portal.web.catalogue_views import entry_view
from portal.web.i18n import Translator, request_lang
from portal.web.security import require_csrf
from portal.web.self_check import OUTCOME_ORDER, present_results
from portal.web.session_auth import Visitor, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


def _badges(request: Request, actor: Actor | None, measures: list[str] | None) -> dict[str, Any]:
    """An enterprise's results by measure, and its profile version; nothing for anyone else."""
    if actor is None or actor.role != "enterprise" or actor.enterprise_id is None:
        return {"results": {}, "version": None, "enterprise": False, "open_cases": {}}
    portal = portal_of(request)
    lang = request_lang(request)
    found = catalogue_for(portal, actor, lang, measures)
    results = present_results(portal.pack, found.check, lang)
    return {
        "results": {r["measure"]: r for r in results},
        "version": found.profile.version if found.profile else None,
        "enterprise": True,
        "open_cases": {
            measure: [
                {"id": case.id, "stage": label(portal.workflows[case.workflow].state(case.state).label, lang)}
                for case in cases
            ]
            for measure, cases in found.open_cases.items()
        },
    }


@router.get("/catalogue", response_class=HTMLResponse)
def catalogue(request: Request, actor: Visitor) -> HTMLResponse:
    t = Translator(request_lang(request))
    entries = [entry_view(entry, t) for entry in public_catalogue(portal_of(request))]
    badges = _badges(request, actor, None)
    results = badges["results"]
    if results:  # an enterprise sees what it can apply for first
        outcomes = {measure: r["outcome"] for measure, r in results.items()}
        entries.sort(key=lambda e: OUTCOME_ORDER.get(outcomes.get(e["id"], ""), 9))
    context = {"actor": actor, "entries": entries, **badges}
    return render(request, "portal/catalogue.html", context)


@router.get("/catalogue/{measure_id}", response_class=HTMLResponse)
def measure_page(measure_id: str, request: Request, actor: Visitor) -> HTMLResponse:
    entry = measure_entry(portal_of(request), measure_id)
    if entry is None:
        raise HTTPException(status_code=404)
    t = Translator(request_lang(request))
    badges = _badges(request, actor, [measure_id])
    context = {
        "actor": actor,
        "m": entry_view(entry, t),
        "result": badges["results"].get(measure_id),
        "version": badges["version"],
        "enterprise": badges["enterprise"],
        "open_cases": badges["open_cases"],
    }
    return render(request, "portal/measure.html", context)
