"""Public pages: the home page with the measure catalogue, and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from portal.messages import normalise_lang
from portal.services import accounts
from portal.web.i18n import remember_language, request_lang
from portal.web.security import require_csrf
from portal.web.session_auth import optional_actor, portal_of
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only same-site paths: `//evil.example` or `https://…` would make this an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    pack = request.app.state.pack
    lang = request_lang(request)
    today = request.app.state.portal.today()
    measures = []
    for measure_id in pack.measure_ids():
        rule = pack.select(measure_id, today)
        if rule is None:
            continue
        unit = pack.units.get(rule.lead_unit) if rule.lead_unit else None
        measures.append(
            {
                "id": rule.id,
                "title": rule.title.get(lang),
                "category": rule.category,
                "unit": unit.get(lang) if unit is not None else "",
                "source": rule.source.citation(lang),
            }
        )
    return render(request, "home.html", {"measures": measures})


def _remembered(request: Request, lang: str, next: str | None) -> RedirectResponse:
    response = RedirectResponse(safe_next(next), status_code=303)
    remember_language(request, response, lang)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str | None = None) -> RedirectResponse:
    """Remember the language for a year in this browser: a preference, so a link (GET) is fine."""
    return _remembered(request, normalise_lang(code), next)


@router.post("/lang/{code}")
def switch_language_signed_in(code: str, request: Request, next: str | None = None) -> RedirectResponse:
    """A signed-in person's switch also becomes their account's language (their e-mails), so it is
    a form with the CSRF token: a link on another site cannot change it."""
    lang = normalise_lang(code)
    actor = optional_actor(request)
    if actor is not None:
        accounts.set_language(portal_of(request), actor.user_id, lang)
    return _remembered(request, lang, next)
