"""Registration, sign-in and sign-out pages.

Every check of a registration is the service's (`portal.services.registration`); the page
shows its problems in the reader's language. Neither registration nor sign-in ever says
whether a user name or a code is on record: registration always answers "recorded, see your
e-mail", and every failed sign-in reads the same. Only the right password of an account whose
claim to an enterprise is pending or refused is told so.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.messages import normalise_lang
from portal.services import accounts, registration
from portal.services import auth as auth_service
from portal.services.errors import Refused, ValidationFailed
from portal.web.account_errors import worded_errors
from portal.web.i18n import LANG_COOKIE, Translator, remember_language, request_lang
from portal.web.routers.pages import safe_next
from portal.web.security import require_csrf
from portal.web.session_auth import optional_actor, portal_of, sign_in, sign_out
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)

HOME_OF_ROLE = {
    "enterprise": "/applications",
    "reviewer": "/review",
    "expert": "/expert",
    "supervisor": "/supervision",
    "admin": "/admin/users",
}

CLAIM_STATES = ("claim_pending", "claim_refused")


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
    context: dict[str, object] = {"actor": None, "values": {"username": username}, "next": safe_next(next)}
    typed = {"username": username.strip(), "password": password}
    blank = {name: t("auth.error.required") for name, value in typed.items() if not value}
    if blank:  # said per field and asked again; no attempt is counted against the account
        return render(
            request, "portal/login.html", {**context, "message": None, "errors": blank}, status_code=422
        )
    # Per client address, before any account is looked at: guessing across many accounts is
    # slowed as well as guessing one (the per-account lockout is in the service).
    wait = request.app.state.login_limiter.hit(request.client.host if request.client else "unknown")
    if wait is not None:
        message = t("auth.login.throttled", seconds=wait)
        headers = {"Retry-After": str(wait)}
        return render(request, "portal/login.html", {**context, "message": message}, 429, headers=headers)
    try:
        user = auth_service.authenticate(portal, username.strip(), password)
    except Refused as refused:
        if refused.code in CLAIM_STATES:  # the password was right: say why the account is closed
            message = t(f"auth.login.{refused.code}")
            return render(request, "portal/login.html", {**context, "message": message}, status_code=403)
        message = t(
            "auth.login.failed", attempts=portal.login_max_failures, minutes=portal.login_lock_minutes
        )
        return render(request, "portal/login.html", {**context, "message": message}, status_code=401)
    assert user.id is not None
    sign_in(request, user.id)
    target = safe_next(next)
    response = RedirectResponse(
        target if target != "/" else HOME_OF_ROLE.get(user.role, "/"), status_code=303
    )
    if LANG_COOKIE in request.cookies:  # chosen before signing in: the account's from now on
        accounts.set_language(portal, user.id, t.lang)
    else:  # a new browser: the account's language, as its e-mails are written in
        remember_language(request, response, normalise_lang(user.locale))
    return response


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
        "track_label": portal_of(request).city.tracks.called(t.lang, t("auth.ai_track")),
    }
    return render(request, "portal/register.html", context, status_code=status_code)


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request) -> HTMLResponse:
    return _register_page(request, {}, {})


@router.post("/register", response_class=HTMLResponse)
async def register(request: Request) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    shown = {k: v for k, v in values.items() if k not in ("password", "password2")}
    # Each registration costs an argon2 hash and may send an e-mail: throttled per address as sign-in is.
    wait = request.app.state.login_limiter.hit(request.client.host if request.client else "unknown")
    if wait is not None:
        t = Translator(request_lang(request))
        errors = {"username": t("auth.login.throttled", seconds=wait)}
        return _register_page(request, shown, errors, status_code=429)
    try:
        await run_in_threadpool(
            registration.register,
            portal_of(request),
            registration.Registration.from_form(values, lang=request_lang(request)),
        )
    except ValidationFailed as failed:
        t = Translator(request_lang(request))
        errors = worded_errors(failed, t)
        return _register_page(request, shown, errors, status_code=422)
    # The same answer whatever is on record: what happened goes to the e-mail address only.
    return RedirectResponse("/register/done", status_code=303)


@router.get("/register/done", response_class=HTMLResponse)
def register_done(request: Request) -> HTMLResponse:
    return render(request, "portal/register_done.html", {"actor": None})
