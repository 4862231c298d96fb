"""免申即享 and screening notices from the enterprise's side: confirm a grant the screening opened,
or start an application the notice suggested (the form opens prefilled from the profile).

Thin: the confirmation is `services.auto_grant.confirm`, the draft `services.applications.create_draft`.
Registered before the applications router so `/applications/start` is not read as a case id.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.services import auto_grant
from portal.services.access import get_application_for
from portal.services.catalogue import catalogue_for
from portal.services.channels import catalogue_channels
from portal.services.enterprises import latest_profile
from portal.services.errors import NotFound, ValidationFailed
from portal.web.flash import flash
from portal.web.i18n import request_lang
from portal.web.params import PathId
from portal.web.security import require_csrf
from portal.web.self_check import present_results
from portal.web.session_auth import EnterpriseUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


@router.get("/applications/start", response_class=HTMLResponse)
def start_page(request: Request, actor: EnterpriseUser, measure: str = "") -> HTMLResponse:
    portal = portal_of(request)
    known = measure in portal.pack.measure_ids()
    channel = catalogue_channels(portal, [measure]).get(measure) if known else None
    rule = portal.pack.select(measure, portal.today()) if channel is not None else None
    if channel is None or rule is None or not channel.can_apply:
        raise NotFound("measure", measure)
    # The enterprise's own evaluation, as its catalogue card shows it: the page never claims more.
    lang = request_lang(request)
    found = catalogue_for(portal, actor, lang, [measure])
    (result,) = present_results(portal.pack, found.check, lang)
    version = found.profile.version if found.profile is not None else None
    context = {
        "actor": actor,
        "measure": measure,
        "title": rule.title,
        "channel": channel,
        "result": result,
        "version": version,
    }
    return render(request, "portal/start_application.html", context)


def _confirm_page(
    request: Request,
    actor: Actor,
    application_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    portal = portal_of(request)
    application = get_application_for(portal, actor, application_id)
    rule = portal.pack.select(application.measure_id, portal.today())
    profile = latest_profile(portal, actor)
    context = {
        "actor": actor,
        "case": application,
        "title": rule.title if rule is not None else None,
        "benefits": auto_grant.offered_benefits(portal, actor, application_id),
        "profile_version": profile.version if profile is not None else None,
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "portal/confirm_grant.html", context, status_code=status_code)


@router.get("/applications/{application_id}/confirm", response_class=HTMLResponse)
def confirm_form(request: Request, actor: EnterpriseUser, application_id: PathId) -> Response:
    application = get_application_for(portal_of(request), actor, application_id)
    if not auto_grant.is_awaiting(portal_of(request), application):
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    return _confirm_page(request, actor, application_id)


@router.post("/applications/{application_id}/confirm", response_class=HTMLResponse)
def confirm(
    request: Request,
    actor: EnterpriseUser,
    application_id: PathId,
    expected_version: int = Form(...),
    bank_name: str = Form(""),
    account_number: str = Form(""),
) -> Response:
    try:
        auto_grant.confirm(
            portal_of(request),
            actor,
            application_id,
            bank_name=bank_name,
            account_number=account_number,
            expected_version=expected_version,
            lang=request_lang(request),
        )
    except ValidationFailed as failed:
        errors = {p.path: p.message for p in failed.errors}
        values = {"bank_name": bank_name, "account_number": account_number}
        return _confirm_page(request, actor, application_id, values=values, errors=errors, status_code=422)
    flash(request, "grant.flash.confirmed", id=application_id)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)
