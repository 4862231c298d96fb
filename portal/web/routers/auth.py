"""Registration, sign-in and sign-out pages.

Registration checks the form here first (to show zh/en messages next to each field, the USCC
check digit by python-stdnum) and then lets the service decide what only the database knows
(a code or user name already taken). Sign-in failures all read the same, so the page never
tells an attacker which user names exist; only a locked account is named as such.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.services import auth as auth_service
from portal.services import enterprises
from portal.services.errors import Refused, ValidationFailed
from portal.uscc import InvalidUSCCError, validate_uscc
from portal.web.i18n import Translator, request_lang
from portal.web.routers.pages import safe_next
from portal.web.security import require_csrf
from portal.web.session_auth import optional_actor, portal_of, sign_in, sign_out
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)

HOME_OF_ROLE = {
    "enterprise": "/applications",
    "reviewer": "/review",
    "expert": "/expert",
    "admin": "/admin/users",
}
MAX_TEXT = 100


def district_options(request: Request, t: Translator) -> list[tuple[str, str]]:
    """The pack's districts a person picks from (an `outside` value is never one of them)."""
    return portal_of(request).city.jurisdictions.options(t.lang)


def track_options(request: Request, t: Translator) -> list[tuple[str, str]]:
    return portal_of(request).city.tracks.options(t.lang)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, reset: str | None = None) -> Response:
    actor = optional_actor(request)
    if actor is not None:
        return RedirectResponse(HOME_OF_ROLE.get(actor.role, "/"), status_code=303)
    context: dict[str, object] = {
        "actor": None,
        "values": {},
        "message": None,
        "next": safe_next(next),
        "reset_done": reset == "done",
    }
    return render(request, "portal/login.html", context)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    t = Translator(request_lang(request))
    portal = portal_of(request)
    context = {"actor": None, "values": {"username": username}, "next": safe_next(next)}
    # Per client address, before any account is looked at: guessing across many accounts is
    # slowed as well as guessing one (the per-account lockout is in the service).
    wait = request.app.state.login_limiter.hit(request.client.host if request.client else "unknown")
    if wait is not None:
        message = t("auth.login.throttled", seconds=wait)
        headers = {"Retry-After": str(wait)}
        return render(request, "portal/login.html", {**context, "message": message}, 429, headers=headers)
    try:
        user = auth_service.authenticate(portal, username.strip(), password)
    except Refused:
        message = t(
            "auth.login.failed", attempts=portal.login_max_failures, minutes=portal.login_lock_minutes
        )
        return render(request, "portal/login.html", {**context, "message": message}, status_code=401)
    assert user.id is not None
    sign_in(request, user.id)
    target = safe_next(next)
    return RedirectResponse(target if target != "/" else HOME_OF_ROLE.get(user.role, "/"), status_code=303)


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    sign_out(request)
    return RedirectResponse("/", status_code=303)


def _register_page(
    request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    t = Translator(request_lang(request))
    context = {
        "actor": None,
        "values": values,
        "errors": errors,
        "districts": district_options(request, t),
        "tracks": track_options(request, t),
    }
    return render(request, "portal/register.html", context, status_code=status_code)


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request) -> HTMLResponse:
    return _register_page(request, {}, {})


def check_registration(
    values: dict[str, str], districts: set[str], tracks: set[str], t: Translator
) -> dict[str, str]:
    """Field errors a person can fix without asking the database, in the page's language."""
    errors: dict[str, str] = {}
    for name in ("uscc", "name", "district", "username", "display_name", "password"):
        if not values.get(name):
            errors[name] = t("auth.error.required")
    if values.get("uscc") and "uscc" not in errors:
        try:
            validate_uscc(values["uscc"])
        except InvalidUSCCError as invalid:
            errors["uscc"] = t(f"auth.error.uscc_{invalid.reason}")
    for name in ("name", "username", "display_name", "email"):
        if len(values.get(name, "")) > MAX_TEXT:
            errors[name] = t("auth.error.too_long")
    if values.get("district") and values["district"] not in districts:
        errors["district"] = t("auth.error.choice")
    if values.get("ai_track") and values["ai_track"] not in tracks:
        errors["ai_track"] = t("auth.error.choice")
    if values.get("email") and "@" not in values["email"]:
        errors["email"] = t("auth.error.email")
    weakness = values.get("password") and auth_service.check_password_strength(
        values["password"], (values.get(n) for n in ("username", "display_name", "email", "name"))
    )
    if weakness:
        errors["password"] = t(f"auth.error.password_{weakness}")
    elif values.get("password") != values.get("password2"):
        errors["password2"] = t("auth.error.password_mismatch")
    return errors


@router.post("/register", response_class=HTMLResponse)
async def register(request: Request) -> Response:
    form = await request.form()
    values = {
        k: v.strip() if k not in ("password", "password2") else v
        for k, v in form.items()
        if isinstance(v, str)
    }
    t = Translator(request_lang(request))
    districts = {value for value, _ in district_options(request, t)}
    tracks = {value for value, _ in track_options(request, t)}
    errors = check_registration(values, districts, tracks, t)
    if errors:
        return _register_page(request, values, errors, status_code=422)
    try:
        _, user = enterprises.register_enterprise(
            portal_of(request),
            uscc=values["uscc"].upper(),
            name=values["name"],
            district=values["district"],
            username=values["username"],
            password=values["password"],
            display_name=values["display_name"],
            email=values.get("email") or None,
            ai_track=values.get("ai_track") or None,
        )
    except ValidationFailed as failed:
        # Only what the database knows gets here: a USCC or a user name already taken.
        taken = {"uscc": t("auth.error.uscc_taken"), "username": t("auth.error.username_taken")}
        errors = {p.path: taken.get(p.path, p.message) for p in failed.errors}
        return _register_page(request, values, errors, status_code=422)
    assert user.id is not None
    sign_in(request, user.id)
    return RedirectResponse("/profile", status_code=303)
