"""Account pages: change your password, and reset a forgotten one by e-mail.

The reset request answers the same page whether or not the account exists, and the e-mail goes
out after the response (a background task), so neither the words nor the time tell anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.services import passwords
from portal.services.errors import Refused, ValidationFailed
from portal.web.i18n import Translator, request_lang
from portal.web.security import require_csrf
from portal.web.session_auth import SignedIn, portal_of
from portal.web.session_store import session_handle
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)

LABELS = {
    "current_password": "account.current_password",
    "new_password": "account.new_password",
    "new_password2": "account.new_password2",
    "identifier": "account.identifier",
}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_MINUTES = int(passwords.RESET_VALID_FOR.total_seconds() // 60)


def _new_password_errors(t: Translator, new: str, again: str) -> dict[str, str]:
    if not new:
        return {"new_password": t("auth.error.required")}
    if new != again:
        return {"new_password2": t("auth.error.password_mismatch")}
    return {}


def _service_errors(t: Translator, failed: ValidationFailed) -> dict[str, str]:
    return {
        p.path: t("account.error.wrong_password")
        if p.path == "current_password"
        else t(f"auth.error.password_{p.message}")
        for p in failed.errors
    }


def _page(
    request: Request, template: str, context: Mapping[str, object], status_code: int = 200
) -> HTMLResponse:
    page_context = {"error_labels": LABELS, "errors": {}, **context}
    return render(request, f"portal/account/{template}", page_context, status_code)


@router.get("/account/password", response_class=HTMLResponse)
def change_form(request: Request, actor: SignedIn) -> HTMLResponse:
    return _page(request, "password.html", {"actor": actor, "done": False})


@router.post("/account/password", response_class=HTMLResponse)
def change(
    request: Request,
    actor: SignedIn,
    current_password: str = Form(""),
    new_password: str = Form(""),
    new_password2: str = Form(""),
) -> HTMLResponse:
    t = Translator(request_lang(request))
    errors = {} if current_password else {"current_password": t("auth.error.required")}
    errors |= _new_password_errors(t, new_password, new_password2)
    if not errors:
        try:
            passwords.change_password(
                portal_of(request),
                actor,
                current_password,
                new_password,
                session_token=session_handle(request).token,
            )
        except ValidationFailed as failed:
            errors = _service_errors(t, failed)
    if errors:
        return _page(request, "password.html", {"actor": actor, "done": False, "errors": errors}, 422)
    return _page(request, "password.html", {"actor": actor, "done": True})


@router.get("/password/reset", response_class=HTMLResponse)
def reset_request_form(request: Request) -> HTMLResponse:
    return _page(request, "reset_request.html", {"actor": None, "sent": False, "values": {}})


@router.post("/password/reset", response_class=HTMLResponse)
def reset_request(request: Request, background: BackgroundTasks, identifier: str = Form("")) -> HTMLResponse:
    t = Translator(request_lang(request))
    if not identifier.strip():
        errors = {"identifier": t("auth.error.required")}
        context = {"actor": None, "sent": False, "values": {}, "errors": errors}
        return _page(request, "reset_request.html", context, 422)
    portal = portal_of(request)
    mail = passwords.request_reset(portal, identifier)
    if mail is not None:
        link = f"{portal.public_base_url}/password/reset/{mail.token}"
        background.add_task(
            passwords.send_reset_mail,
            portal,
            mail,
            subject=t("account.reset.mail_subject"),
            body=t("account.reset.mail_body", name=mail.display_name, minutes=_MINUTES, link=link),
        )
    return _page(request, "reset_request.html", {"actor": None, "sent": True, "minutes": _MINUTES})


@router.get("/password/reset/{token}", response_class=HTMLResponse)
def reset_form(request: Request, token: str) -> HTMLResponse:
    usable = bool(_TOKEN.fullmatch(token)) and passwords.reset_is_usable(portal_of(request), token)
    context = {"actor": None, "usable": usable, "token": token}
    return _page(request, "reset_form.html", context, 200 if usable else 404)


@router.post("/password/reset/{token}", response_class=HTMLResponse)
def reset(
    request: Request, token: str, new_password: str = Form(""), new_password2: str = Form("")
) -> Response:
    t = Translator(request_lang(request))
    if not _TOKEN.fullmatch(token):
        return _page(request, "reset_form.html", {"actor": None, "usable": False, "token": ""}, 404)
    errors = _new_password_errors(t, new_password, new_password2)
    if not errors:
        try:
            passwords.complete_reset(portal_of(request), token, new_password)
        except Refused:
            return _page(request, "reset_form.html", {"actor": None, "usable": False, "token": token}, 404)
        except ValidationFailed as failed:
            errors = _service_errors(t, failed)
    if errors:
        context = {"actor": None, "usable": True, "token": token, "errors": errors}
        return _page(request, "reset_form.html", context, 422)
    return RedirectResponse("/login?reset=done", status_code=303)
