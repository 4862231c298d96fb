"""The enterprise's own pages: its profile (versioned facts); its badges are on the catalogue.

The profile form is generated from facts.yaml like the anonymous self-check, but it is stored:
each save is a new, confirmed version, and submitted applications keep pointing at the version
they were submitted with. The catalogue (routers/catalogue.py) judges each measure on the latest one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from portal.db.tables import Enterprise
from portal.services import enterprises
from portal.services.case_files import enterprises_by_id
from portal.services.enterprises import profile_facts
from portal.services.errors import ValidationFailed
from portal.services.payee import set_account
from portal.services.payee_accounts import PayeeAccount, kept_account
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.security import require_csrf
from portal.web.self_check import fact_groups, message_of, parse_posted
from portal.web.session_auth import EnterpriseUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


def own_enterprise(request: Request, actor: Actor) -> Enterprise:
    assert actor.enterprise_id is not None
    return enterprises_by_id(portal_of(request), {actor.enterprise_id})[actor.enterprise_id]


def stored_form(value: object) -> object:
    """A parsed fact in its JSON form: exact decimals as strings, dates as ISO text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def form_values(facts: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Stored facts as the strings the inputs show, keyed by qualified fact name."""
    values: dict[str, str] = {}
    for entity, named in facts.items():
        for name, value in named.items():
            values[f"{entity}.{name}"] = (
                ("true" if value else "false") if isinstance(value, bool) else str(value)
            )
    return values


def _profile_page(
    request: Request,
    actor: Actor,
    enterprise: Enterprise,
    values: dict[str, str],
    errors: dict[str, str],
    version: int | None,
    *,
    payee: PayeeForm | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    city = portal_of(request).city
    # The register's identity overrides whatever the form says, so it is shown, not offered.
    registered = {
        city.name_fact: enterprise.name,
        city.code_fact: enterprise.uscc,
        city.jurisdictions.fact: enterprise.district,
    }
    context = {
        "actor": actor,
        "enterprise": enterprise,
        "groups": fact_groups(portal_of(request).pack, city, Translator(request_lang(request))),
        "locked": set(registered),
        "values": {**values, **registered},
        "errors": errors,
        "version": version,
        "payee": payee or PayeeForm(kept=kept_account(enterprise)),
    }
    return render(request, "portal/profile.html", context, status_code=status_code)


@dataclass(frozen=True)
class PayeeForm:
    """The profile's 收款账户 section: the kept account, or what was typed and what is wrong with it."""

    kept: PayeeAccount | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


def _current_profile(
    request: Request, actor: Actor, enterprise: Enterprise
) -> tuple[dict[str, str], int | None]:
    profile = enterprises.latest_profile(portal_of(request), actor)
    facts = profile_facts(portal_of(request).city, profile, enterprise)
    return form_values(facts), (profile.version if profile else None)


@router.get("/profile", response_class=HTMLResponse)
def profile_form(request: Request, actor: EnterpriseUser) -> HTMLResponse:
    enterprise = own_enterprise(request, actor)
    values, version = _current_profile(request, actor, enterprise)
    payee = PayeeForm(kept=kept_account(enterprise))
    return _profile_page(request, actor, enterprise, values, {}, version, payee=payee)


@router.post("/profile/payee", response_class=HTMLResponse)
def save_payee(
    request: Request, actor: EnterpriseUser, bank_name: str = Form(""), account_number: str = Form("")
) -> Response:
    """The account the enterprise is paid into, kept for every case it is granted money on."""
    try:
        set_account(portal_of(request), actor, bank_name, account_number, request_lang(request))
    except ValidationFailed as failed:
        typed = {"bank_name": bank_name, "account_number": account_number}
        payee = PayeeForm(values=typed, errors={p.path: p.message for p in failed.errors})
        enterprise = own_enterprise(request, actor)
        values, version = _current_profile(request, actor, enterprise)
        return _profile_page(request, actor, enterprise, values, {}, version, payee=payee, status_code=422)
    flash(request, "payee.saved")
    return RedirectResponse("/profile#payee", status_code=303)


@router.post("/profile", response_class=HTMLResponse)
async def save_profile(request: Request, actor: EnterpriseUser) -> Response:
    form = await request.form()
    # The form is read on the event loop; the database work runs in the thread pool.
    return await run_in_threadpool(_save_profile, request, actor, form)


def _save_profile(request: Request, actor: EnterpriseUser, form: FormData) -> Response:
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    portal = portal_of(request)
    t = Translator(request_lang(request))
    parsed, errors = parse_posted(portal.pack, values, portal.today(), t)
    latest = enterprises.latest_profile(portal, actor)
    version = latest.version if latest else None
    if errors:
        return _profile_page(
            request, actor, own_enterprise(request, actor), values, errors, version, status_code=422
        )
    facts = {entity: {k: stored_form(v) for k, v in named.items()} for entity, named in parsed.items()}
    try:
        saved = enterprises.save_confirmed_profile(portal, actor, facts, version)
    except ValidationFailed as failed:
        errors = {p.path: t(message_of(p.code, "text")) for p in failed.errors}
        return _profile_page(
            request, actor, own_enterprise(request, actor), values, errors, version, status_code=422
        )
    flash(request, "profile.saved", version=saved.version)
    return RedirectResponse("/profile", status_code=303)
