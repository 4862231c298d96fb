"""`/enterprises/{uscc}`: 一企一档, one enterprise across its cases, for the staff who may see it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from portal.db.tables import EnterpriseProfile
from portal.services.context import Portal
from portal.services.enterprise_file import enterprise_file
from portal.web.case_views import label
from portal.web.i18n import Translator, request_lang
from portal.web.session_auth import StaffUser, portal_of
from portal.web.templating import render

router = APIRouter(include_in_schema=False)


def _flat(facts: dict[str, Any]) -> dict[str, object]:
    return {f"{entity}.{name}": value for entity, values in facts.items() for name, value in values.items()}


def _profile_rows(portal: Portal, profiles: list[EnterpriseProfile], lang: str) -> list[dict[str, Any]]:
    """Each version, newest first, with the labels of the facts it changed from the one before."""
    rows = []
    for newer, older in zip(profiles, [*profiles[1:], None], strict=True):
        now, before = _flat(newer.facts), _flat(older.facts) if older else {}
        changed = (
            sorted(k for k in now.keys() | before.keys() if now.get(k) != before.get(k)) if older else []
        )
        specs = [portal.pack.facts.get(name) for name in changed]
        rows.append({
            "version": newer.version,
            "at": portal.clock.wall_time(newer.created_at),
            "changed": [spec.label.get(lang) for spec in specs if spec is not None],
        })  # fmt: skip
    return rows


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
            "measure": portal.pack.versions(a.measure_id)[-1].title.get(t.lang),
            "stage": label(workflow.state(a.state).label, t.lang),
            "submitted": portal.clock.local_date(a.submitted_at) if a.submitted_at else None,
        })  # fmt: skip
    context = {
        "actor": actor,
        "enterprise": found.enterprise,
        "district": portal.city.jurisdictions.label(found.enterprise.district, t.lang),
        "profiles": _profile_rows(portal, found.profiles, t.lang),
        "cases": cases,
        "letters": [(case_id, letter) for case_id, letter in found.letters],
        "consents": found.consents,
        "objections": found.objections,
    }
    return render(request, "portal/enterprise_file.html", context)
