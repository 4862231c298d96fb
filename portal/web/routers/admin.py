"""The administrator's page: every account with its role, district and lead unit, and new staff."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.services import enterprises
from portal.services.case_files import list_users
from portal.services.errors import ValidationFailed
from portal.web.i18n import Translator, request_lang
from portal.web.routers.auth import district_options
from portal.web.security import require_csrf
from portal.web.session_auth import AdminUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
STAFF_ROLES = ("reviewer", "expert", "admin")


def _page(
    request: Request, actor: Actor, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    now = datetime.now(UTC)
    users = [
        {
            **u.model_dump(exclude={"password_hash"}),
            "locked": u.locked_until is not None and u.locked_until > now,
        }
        for u in list_users(portal, actor)
    ]
    context = {
        "actor": actor,
        "users": users,
        "values": values,
        "errors": errors,
        "roles": [(r, t(f"role.{r}")) for r in STAFF_ROLES],
        "districts": district_options(request, t),
        "bureaus": [(code, names.get(t.lang, code)) for code, names in portal.pack.units.items()],
    }
    return render(request, "portal/admin_users.html", context, status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, actor: AdminUser) -> HTMLResponse:
    return _page(request, actor, {}, {})


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(request: Request, actor: AdminUser) -> Response:
    form = await request.form()
    values = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    t = Translator(request_lang(request))
    errors = {
        name: t("auth.error.required")
        for name in ("username", "display_name", "role", "password")
        if not values.get(name)
    }
    if errors:
        return _page(request, actor, values, errors, status_code=422)
    try:
        enterprises.create_staff_user(
            portal_of(request),
            actor,
            username=values["username"],
            password=values["password"],
            display_name=values["display_name"],
            role=values["role"],
            district=values.get("district") or None,
            bureau=values.get("bureau") or None,
        )
    except ValidationFailed as failed:
        return _page(request, actor, values, {p.path: p.message for p in failed.errors}, status_code=422)
    return RedirectResponse("/admin/users", status_code=303)
