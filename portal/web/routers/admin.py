"""The administrator's page: every account with its role, district, lead unit or enterprise (a search
narrows them by user name, name or enterprise name), and new staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from portal.services import accounts, enterprises
from portal.services.case_files import list_users
from portal.services.errors import ValidationFailed
from portal.web.account_errors import worded_errors
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.routers.auth import district_options
from portal.web.security import require_csrf
from portal.web.session_auth import AdminUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
STAFF_ROLES = ("reviewer", "expert", "supervisor", "admin")
FORM_FIELDS = ("username", "display_name", "role", "district", "bureau", "password")


def _choices(request: Request, t: Translator) -> dict[str, list[tuple[str, str]]]:
    """The role, district and lead-unit options of the new-account and edit forms, as labels."""
    units = portal_of(request).pack.units
    return {
        "roles": [(r, t(f"role.{r}")) for r in STAFF_ROLES],
        "districts": district_options(request, t),
        "bureaus": [(code, names.get(t.lang, code)) for code, names in units.items()],
    }


def _page(
    request: Request,
    actor: Actor,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
    search: str = "",
) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    now = portal.now()
    users = [
        {
            **row.user.model_dump(exclude={"password_hash"}),
            "locked": row.user.locked_until is not None and row.user.locked_until > now,
            "enterprise": row.enterprise,
            "joining": row.joining,
        }
        for row in list_users(portal, actor, search)
    ]
    choices = _choices(request, t)
    context = {
        "actor": actor,
        "district_names": dict(choices["districts"]),
        "bureau_names": dict(choices["bureaus"]),
        "users": users,
        "q": search.strip(),
        "values": values,
        "errors": errors,
        **choices,
    }
    return render(request, "portal/admin_users.html", context, status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, actor: AdminUser, q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    return _page(request, actor, {}, {}, search=q)


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(request: Request, actor: AdminUser) -> Response:
    form = await request.form()
    # The form is read on the event loop; the database work runs in the thread pool.
    return await run_in_threadpool(_create_user, request, actor, form)


def _create_user(request: Request, actor: AdminUser, form: FormData) -> Response:
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
        created = enterprises.create_staff_user(
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
        errors = worded_errors(failed, t, FORM_FIELDS)
        return _page(request, actor, values, errors, status_code=422)
    flash(request, "admin.created", username=created.username, role=t(f"role.{created.role}"))
    return RedirectResponse("/admin/users", status_code=303)


AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/admin/users/{user_id}/unlock")
def unlock_user(request: Request, actor: AdminUser, user_id: AccountId) -> RedirectResponse:
    flash(request, "admin.done.unlocked", username=accounts.unlock(portal_of(request), actor, user_id))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/sign-out")
def sign_out_everywhere(request: Request, actor: AdminUser, user_id: AccountId) -> RedirectResponse:
    username, ended = accounts.end_sessions(portal_of(request), actor, user_id)
    flash(request, "admin.done.signed_out", username=username, n=ended)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/disable")
def disable_user(request: Request, actor: AdminUser, user_id: AccountId) -> RedirectResponse:
    flash(
        request,
        "admin.done.disabled",
        username=accounts.set_active(portal_of(request), actor, user_id, active=False),
    )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/enable")
def enable_user(request: Request, actor: AdminUser, user_id: AccountId) -> RedirectResponse:
    flash(
        request,
        "admin.done.enabled",
        username=accounts.set_active(portal_of(request), actor, user_id, active=True),
    )
    return RedirectResponse("/admin/users", status_code=303)


def _edit_page(
    request: Request,
    actor: Actor,
    user_id: int,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    user = accounts.staff_account(portal, actor, user_id)
    shown = values or {
        "display_name": user.display_name,
        "role": user.role,
        "district": user.district or "",
        "bureau": user.bureau or "",
    }
    context = {
        "actor": actor,
        "user": user,
        "values": shown,
        "errors": errors or {},
        **_choices(request, t),
    }
    return render(request, "portal/admin_user_edit.html", context, status_code=status_code)


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def edit_user_form(request: Request, actor: AdminUser, user_id: AccountId) -> HTMLResponse:
    return _edit_page(request, actor, user_id)


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
def edit_user(
    request: Request,
    actor: AdminUser,
    user_id: AccountId,
    display_name: Annotated[str, Form(max_length=500)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    district: Annotated[str, Form(max_length=40)] = "",
    bureau: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Change a staff account's name, role, district or lead unit; sessions end on a new scope."""
    t = Translator(request_lang(request))
    values = {"display_name": display_name, "role": role, "district": district, "bureau": bureau}
    try:
        user = accounts.update_staff(
            portal_of(request),
            actor,
            user_id,
            display_name=display_name,
            role=role,
            district=district or None,
            bureau=bureau or None,
        )
    except ValidationFailed as failed:
        errors = worded_errors(failed, t, FORM_FIELDS)
        return _edit_page(request, actor, user_id, values, errors, status_code=422)
    flash(request, "admin.done.updated", username=user.username)
    return RedirectResponse("/admin/users", status_code=303)
