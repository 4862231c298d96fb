"""The experts' pages: their assigned cases, the no-conflict declaration, then the rubric scores.

Until the declaration is signed the page shows nothing of the application but its title; the
service refuses the documents too, so the order cannot be skipped by typing a URL.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from portal.services import applications as app_service
from portal.services import experts as expert_service
from portal.services.access import get_application_for, list_applications_for
from portal.services.errors import ValidationFailed
from portal.web.case_views import case_row
from portal.web.i18n import Translator, request_lang
from portal.web.params import FormVersion, PathId
from portal.web.security import require_csrf
from portal.web.session_auth import ExpertUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


@router.get("/expert", response_class=HTMLResponse)
def my_cases(request: Request, actor: ExpertUser) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    rows = [
        case_row(a, portal.workflows, portal.pack, portal.city, portal.calendar, t, portal.today())
        for a in list_applications_for(portal, actor)
    ]
    return render(request, "portal/expert_cases.html", {"actor": actor, "cases": rows})


def _page(
    request: Request,
    actor: Actor,
    application_id: int,
    values: dict[str, str],
    errors: list[str],
    *,
    scored: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    portal = portal_of(request)
    lang = request_lang(request)
    t = Translator(lang)
    application = get_application_for(portal, actor, application_id)
    allowed = {e.name for e in app_service.allowed_events(portal, actor, application_id)}
    rubric = [
        {"id": c.id, "label": c.label.en if lang == "en" else c.label.zh, "max": 100}
        for c in portal.rubric.criteria
    ]
    context = {
        "actor": actor,
        "case": case_row(
            application, portal.workflows, portal.pack, portal.city, portal.calendar, t, portal.today()
        ),
        "declared": expert_service.DECLARE_EVENT not in allowed,
        "scored": scored or (expert_service.SCORE_EVENT not in allowed),
        "rubric": rubric,
        "values": values,
        "errors": errors,
    }
    return render(request, "portal/expert_case.html", context, status_code=status_code)


@router.get("/expert/{application_id}", response_class=HTMLResponse)
def case(request: Request, actor: ExpertUser, application_id: PathId) -> HTMLResponse:
    return _page(request, actor, application_id, {}, [])


@router.post("/expert/{application_id}/declare")
def declare(
    request: Request,
    actor: ExpertUser,
    application_id: PathId,
    expected_version: FormVersion,
    confirm: str = Form(""),
) -> Response:
    t = Translator(request_lang(request))
    if confirm != "true":
        return _page(request, actor, application_id, {}, [t("expert.must_confirm")], status_code=422)
    expert_service.declare(
        portal_of(request), actor, application_id, t("expert.declaration_text"), expected_version
    )
    return RedirectResponse(f"/expert/{application_id}", status_code=303)


@router.post("/expert/{application_id}/score", response_class=HTMLResponse)
async def score(
    request: Request,
    actor: ExpertUser,
    application_id: PathId,
    expected_version: FormVersion,
) -> Response:
    portal = portal_of(request)
    form = await request.form()
    values = {c.id: str(form.get(f"score:{c.id}", "")).strip() for c in portal.rubric.criteria}
    scores: dict[str, Decimal] = {}
    errors: list[str] = []
    for criterion in portal.rubric.criteria:
        try:
            value = Decimal(values[criterion.id])
        except InvalidOperation:
            errors.append(f"{criterion.label.zh} / {criterion.label.en}: 0–100")
            continue
        if not (0 <= value <= 100):
            errors.append(f"{criterion.label.zh} / {criterion.label.en}: 0–100")
            continue
        scores[criterion.id] = value
    if errors:
        return _page(request, actor, application_id, values, errors, status_code=422)
    try:
        await run_in_threadpool(expert_service.score, portal, actor, application_id, scores, expected_version)
    except ValidationFailed as failed:
        return _page(
            request, actor, application_id, values, [p.message for p in failed.errors], status_code=422
        )
    return _page(request, actor, application_id, values, [], scored=True)
