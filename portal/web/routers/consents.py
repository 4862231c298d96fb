"""The enterprise's side of the bank API: its consents to banks, and "谁查询了我的信息".

Plain HTML forms under the router-wide CSRF check; the enterprise is the signed-in user's
own, so no id in a URL can reach another enterprise's consents.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from portal.services import bank_access, banks, consents, verification
from portal.services.errors import Refused, ValidationFailed
from portal.web.case_views import fact_labels
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import PathId
from portal.web.security import require_csrf
from portal.web.session_auth import EnterpriseUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)

LABELS = {"bank": "consents.field.bank", "products": "consents.field.products", "days": "consents.field.days"}


def _consents_page(
    request: Request,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    chosen: dict[str, Any] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page; an unverified enterprise is told why it cannot grant a consent yet, and where it
    verifies itself, instead of being offered a form the service would refuse on submit."""
    portal = portal_of(request)
    standing = verification.status_of(portal, actor)
    context = {
        "actor": actor,
        "verified": standing.verified,
        "verification_pending": standing.pending,
        "refusal": refusal,
        "consents": consents.consents_for(portal, actor),
        "banks": banks.active_banks(portal),
        "products": list(portal.city.banking.products),
        "default_days": consents.DEFAULT_CONSENT_DAYS,
        "errors": errors or {},
        "error_labels": LABELS,
        "chosen": chosen or {"bank": "", "products": [], "days": str(consents.DEFAULT_CONSENT_DAYS)},
    }
    return render(request, "banks/consents.html", context, status_code=status_code)


@router.get("/consents", response_class=HTMLResponse)
def consent_list(request: Request, actor: EnterpriseUser) -> HTMLResponse:
    return _consents_page(request, actor)


@router.post("/consents", response_class=HTMLResponse)
async def grant(request: Request, actor: EnterpriseUser) -> Response:
    form = await request.form()
    # The form is read on the event loop; the database work runs in the thread pool.
    return await run_in_threadpool(_grant, request, actor, form)


def _grant(request: Request, actor: EnterpriseUser, form: FormData) -> Response:
    bank = form.get("bank")
    products = [p for p in form.getlist("products") if isinstance(p, str)]
    days_text = form.get("days")
    chosen = {"bank": bank, "products": products, "days": days_text}
    days = int(days_text) if isinstance(days_text, str) and days_text.strip().isdigit() else 0
    try:
        consents.grant_consent(
            portal_of(request),
            actor,
            bank_code=bank if isinstance(bank, str) else "",
            products=products,
            days=days,
        )
    except ValidationFailed as failed:
        t = Translator(request_lang(request))
        errors = {p.path: t(f"consents.error.{p.code}", **p.params) for p in failed.errors}
        return _consents_page(request, actor, errors=errors, chosen=chosen, status_code=422)
    except Refused as refused:
        # A post the page did not offer (an unverified enterprise): the page again, saying why.
        message = refused.said_in(request_lang(request))
        return _consents_page(request, actor, chosen=chosen, refusal=message, status_code=409)
    flash(request, "consents.done.granted")
    return RedirectResponse("/consents", status_code=303)


@router.post("/consents/{consent_id}/revoke")
def revoke(request: Request, consent_id: PathId, actor: EnterpriseUser) -> RedirectResponse:
    consents.revoke_consent(portal_of(request), actor, consent_id)
    flash(request, "consents.done.revoked")
    return RedirectResponse("/consents", status_code=303)


@router.get("/access-log", response_class=HTMLResponse)
def access_log(request: Request, actor: EnterpriseUser) -> HTMLResponse:
    portal = portal_of(request)
    lang = request_lang(request)
    entries = [
        {"entry": e, "facts": fact_labels(portal.pack, e.facts_read, lang)}
        for e in bank_access.access_log_for(portal, actor)
    ]
    context = {"actor": actor, "entries": entries}
    return render(request, "banks/access_log.html", context)
