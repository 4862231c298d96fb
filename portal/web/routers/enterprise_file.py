"""`/enterprises/{uscc}`: 一企一档, one enterprise across its cases, for the staff who may see it;
and `/enterprises/{uscc}/registration`, where the administrator records a change of registration."""

from __future__ import annotations

from itertools import zip_longest
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.db.tables import EnterpriseProfile
from portal.rules.facts import FactSpec
from portal.services.context import Portal
from portal.services.enterprise_file import enterprise_file
from portal.services.errors import ValidationFailed
from portal.services.registered_identity import RegistrationChange, change_registration, registration_of
from portal.web.account_errors import worded_errors
from portal.web.case_views import fact_labels, label, measure_title
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.routers.auth import district_options
from portal.web.security import require_csrf
from portal.web.session_auth import AdminUser, StaffUser, portal_of
from portal.web.templating import render

router = APIRouter(include_in_schema=False)


def _flat(facts: dict[str, Any]) -> dict[str, object]:
    return {f"{entity}.{name}": value for entity, values in facts.items() for name, value in values.items()}


def _fact_text(portal: Portal, spec: FactSpec, value: object, t: Translator) -> str:
    """A fact's value as a person reads it: yes/no, the enum's label, amounts grouped; "—" when unset."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("check.yes") if value else t("check.no")
    if spec.type == "enum":
        return portal.city.value_label(spec.qualified, str(value), t.lang)
    if spec.type == "money":
        return t.number(str(value))
    return str(value)


def _profile_rows(portal: Portal, profiles: list[EnterpriseProfile], t: Translator) -> list[dict[str, Any]]:
    """Each version, newest first, with each fact it changed: its label, the old and the new value."""
    rows = []
    for newer, older in zip_longest(profiles, profiles[1:]):
        now, before = _flat(newer.facts), _flat(older.facts) if older else {}
        changed = []
        for name in sorted(now.keys() | before.keys()) if older else []:
            spec = portal.pack.facts.get(name)
            if spec is None or now.get(name) == before.get(name):
                continue
            changed.append({
                "label": spec.label.get(t.lang),
                "old": _fact_text(portal, spec, before.get(name), t),
                "new": _fact_text(portal, spec, now.get(name), t),
            })  # fmt: skip
        rows.append(
            {
                "version": newer.version,
                "at": portal.clock.in_words(newer.created_at, t.lang),
                "changed": changed,
            }
        )
    return rows


def _change_text(portal: Portal, change: RegistrationChange, t: Translator) -> dict[str, str]:
    """One recorded change in words: what became what, and on what grounds."""
    parts = []
    if change.name[0] != change.name[1]:
        parts.append(t("efile.registration.name_change", old=change.name[0], new=change.name[1]))
    if change.district[0] != change.district[1]:
        old, new = (portal.city.jurisdictions.label(d, t.lang) for d in change.district)
        parts.append(t("efile.registration.district_change", old=old, new=new))
    return {
        "at": portal.clock.in_words(change.at, t.lang),
        "by": change.by,
        "what": t("efile.sep").join(parts),
        "reason": change.reason,
    }


@router.get("/enterprises/{uscc}", response_class=HTMLResponse)
def enterprise_page(request: Request, actor: StaffUser, uscc: str) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    found = enterprise_file(portal, actor, uscc[:18])
    cases = []
    for a in found.applications:
        workflow = portal.workflows[a.workflow]
        cases.append({
            "id": a.id,
            "measure": measure_title(portal.pack, a.measure_id, t.lang),
            "stage": label(workflow.state(a.state).label, t.lang),
            "submitted": portal.clock.local_date(a.submitted_at) if a.submitted_at else None,
        })  # fmt: skip
    context = {
        "actor": actor,
        "enterprise": found.enterprise,
        "district": portal.city.jurisdictions.label(found.enterprise.district, t.lang),
        "profiles": _profile_rows(portal, found.profiles, t),
        "cases": cases,
        "letters": [(case_id, letter) for case_id, letter in found.letters],
        "consents": found.consents,
        "objections": found.objections,
        "queries": [
            {"entry": e, "facts": fact_labels(portal.pack, e.facts_read, t.lang)} for e in found.bank_queries
        ],
        "hits": [
            (measure_title(portal.pack, h.measure_id, t.lang), h.notified_at) for h in found.screening_hits
        ],
        "reused": found.reused_files,
        "registration_changes": [_change_text(portal, c, t) for c in found.registration_changes],
    }
    return render(request, "portal/enterprise_file.html", context)


_REGISTRATION_FIELDS = ("name", "district", "reason")


def _registration_page(
    request: Request,
    actor: AdminUser,
    uscc: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    enterprise = registration_of(portal_of(request), actor, uscc[:18].upper())
    context = {
        "actor": actor,
        "enterprise": enterprise,
        "values": values or {"name": enterprise.name, "district": enterprise.district, "reason": ""},
        "errors": errors or {},
        "districts": district_options(request, Translator(request_lang(request))),
    }
    return render(request, "portal/registration_change.html", context, status_code=422 if errors else 200)


@router.get("/enterprises/{uscc}/registration", response_class=HTMLResponse)
def registration_form(request: Request, actor: AdminUser, uscc: str) -> HTMLResponse:
    return _registration_page(request, actor, uscc)


@router.post(
    "/enterprises/{uscc}/registration",
    response_class=HTMLResponse,
    dependencies=[Depends(require_csrf)],
)
def record_registration_change(
    request: Request,
    actor: AdminUser,
    uscc: str,
    name: Annotated[str, Form(max_length=500)] = "",
    district: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record a new registered name or district, with its grounds; the enterprise is told."""
    t = Translator(request_lang(request))
    values = {"name": name, "district": district, "reason": reason}
    try:
        enterprise = change_registration(
            portal_of(request), actor, uscc[:18].upper(), name=name, district=district, reason=reason
        )
    except ValidationFailed as failed:
        errors = worded_errors(failed, t, _REGISTRATION_FIELDS)
        return _registration_page(request, actor, uscc, values, errors)
    flash(request, "efile.registration.done", name=enterprise.name)
    return RedirectResponse(f"/enterprises/{enterprise.uscc}", status_code=303)
