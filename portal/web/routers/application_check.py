"""Check your answers, then submit, then the confirmation: the last steps of an application.

The check page reads back every section with a change link, and the submit button on it carries
the version the applicant checked, so answers changed in another tab meanwhile give the 409 page
instead of sending something the applicant never saw. The confirmation names the reference, who
handles the case next and by when.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from portal.services import applications as app_service
from portal.services import enterprises, verification
from portal.services.access import get_application_for
from portal.services.amendments import reopened_sections
from portal.services.enterprises import PROFILE_NOT_CONFIRMED
from portal.services.errors import Refused, ValidationFailed
from portal.services.verified import UNVERIFIED
from portal.web.application_steps import check_sections
from portal.web.case_views import case_row
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import FormVersion, PathId
from portal.web.routers.applications import (
    attached_names,
    editable,
    field_errors,
    form_page,
    latest_answers,
    spec_for,
    submission_problems,
)
from portal.web.security import require_csrf
from portal.web.session_auth import EnterpriseUser, portal_of
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


@router.get("/applications/{application_id}/check", response_class=HTMLResponse)
def check_answers(request: Request, actor: EnterpriseUser, application_id: PathId) -> Response:
    return _check_page(request, actor, application_id)


def _check_page(
    request: Request,
    actor: EnterpriseUser,
    application_id: int,
    *,
    refusal: str | None = None,
    profile_refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    """The answers read back; an unverified enterprise, or one that has saved no profile yet, is
    told up front where to go and offered no submit button the service would refuse (`refusal`,
    `profile_refusal`: it was pressed anyway, in a tab opened before)."""
    portal = portal_of(request)
    t = Translator(request_lang(request))
    application = get_application_for(portal, actor, application_id)
    if not editable(portal, application):
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    spec = spec_for(request, application)
    answers = latest_answers(request, actor, application_id)
    attached = attached_names(portal, actor, application_id)
    in_amendment = portal.workflows[application.workflow].state(application.state).kind == "amendment"
    reopen = reopened_sections(portal, actor, application_id) if in_amendment else None
    problems = submission_problems(portal, actor, application_id, spec, answers, attached, t)
    sections = check_sections(spec, answers, attached, t, reopen, problems)
    standing = verification.status_of(portal, actor)
    context = {
        "actor": actor,
        "case": case_row(portal, application, t),
        "spec": spec,
        "sections": sections,
        # Derived from the rows' problems: the answers are validated once per page.
        "unfinished": {s.id for s in sections if s.problems},
        "problem_rows": [row for section in sections for row in section.problems],
        "verified": standing.verified,
        "verification_pending": standing.pending,
        "refusal": refusal,
        "profile_saved": enterprises.has_confirmed_profile(portal, actor),
        "profile_refusal": profile_refusal,
    }
    return render(request, "portal/check_answers.html", context, status_code=status_code)


@router.post("/applications/{application_id}/submit")
async def submit_checked(
    request: Request, actor: EnterpriseUser, application_id: PathId, expected_version: FormVersion
) -> Response:
    return await run_in_threadpool(_submit, request, actor, application_id, expected_version)


def _submit(request: Request, actor: EnterpriseUser, application_id: int, version: int) -> Response:
    """Submit what was checked; a missing answer sends the applicant back to the form, marked."""
    portal = portal_of(request)
    lang = request_lang(request)
    t = Translator(lang)
    try:
        app_service.submit(portal, actor, application_id, version, lang=lang)
    except (ValidationFailed, Refused) as failed:
        application = get_application_for(portal, actor, application_id)
        spec = spec_for(request, application)
        answers = latest_answers(request, actor, application_id)
        if isinstance(failed, ValidationFailed):
            errors = field_errors(failed, [], t)
            return form_page(request, actor, application, spec, answers, errors, status_code=422)
        if failed.code == UNVERIFIED:  # pressed in a tab opened before: the page says where to go
            return _check_page(request, actor, application_id, refusal=failed.said_in(lang), status_code=409)
        if failed.code == PROFILE_NOT_CONFIRMED:
            return _check_page(
                request, actor, application_id, profile_refusal=failed.said_in(lang), status_code=409
            )
        return form_page(request, actor, application, spec, answers, {}, refusal=failed, status_code=409)
    flash(request, "apply.flash.submitted", id=application_id)
    return RedirectResponse(f"/applications/{application_id}/submitted", status_code=303)


@router.get("/applications/{application_id}/submitted", response_class=HTMLResponse)
def submitted(request: Request, actor: EnterpriseUser, application_id: PathId) -> Response:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    application = get_application_for(portal, actor, application_id)
    if editable(portal, application) or application.submitted_at is None:
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    case = case_row(portal, application, t)
    return render(request, "portal/submitted.html", {"actor": actor, "case": case})
