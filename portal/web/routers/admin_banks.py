"""The administrator's 一链一行 page: partner banks and their API keys, as the CLI manages them.

A new or rotated key is shown once, on the page the POST answers (never stored, never in a
redirect or a session), with `Cache-Control: no-store`; afterwards only its prefix is seen.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.services import banks
from portal.services.errors import Conflict, ValidationFailed
from portal.web.confirm_step import CONFIRM_FIELD, CONFIRM_VALUE, confirmed
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.security import require_csrf
from portal.web.session_auth import AdminUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
KeyPrefix = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]


def _page(
    request: Request,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    issued: banks.IssuedKey | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    listing = banks.list_banks(portal)
    context = {
        "actor": actor,
        "banks": listing,
        # The bank the new key is for, by name: the page says whom to hand it to.
        "issued_to": next((b for b in listing if issued and b.code == issued.bank_code), None),
        "scopes": [(scope, t(f"admin_banks.scope.{scope.replace(':', '_')}")) for scope in banks.SCOPES],
        "errors": errors or {},
        "values": values or {},
        "issued": issued,
    }
    response = render(request, "portal/admin_banks.html", context, status_code=status_code)
    if issued is not None:
        response.headers["Cache-Control"] = "no-store"  # the one page that shows a secret
    return response


@router.get("/admin/banks", response_class=HTMLResponse)
def bank_list(request: Request, actor: AdminUser) -> HTMLResponse:
    return _page(request, actor)


@router.post("/admin/banks", response_class=HTMLResponse)
def add_bank(
    request: Request,
    actor: AdminUser,
    code: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    name_en: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    t = Translator(request_lang(request))
    values = {"code": code.strip(), "name": name, "name_en": name_en}
    try:
        bank = banks.add_bank(portal_of(request), name=name, name_en=name_en, code=code.strip(), actor=actor)
    except ValidationFailed as failed:
        errors = {p.path: t(f"admin_banks.error.{p.code}") for p in failed.errors}
        return _page(request, actor, errors=errors, values=values, status_code=422)
    except Conflict:
        return _page(
            request, actor, errors={"code": t("admin_banks.error.taken")}, values=values, status_code=422
        )
    flash(request, "admin_banks.done.added", name=banks.bank_name(bank.name, bank.name_en, t.lang))
    return RedirectResponse("/admin/banks", status_code=303)


@router.post("/admin/banks/keys", response_class=HTMLResponse)
def issue_key(
    request: Request,
    actor: AdminUser,
    bank: Annotated[str, Form(max_length=64)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    t = Translator(request_lang(request))
    try:
        issued = banks.issue_key(portal_of(request), bank, scopes or [], actor=actor)
    except ValidationFailed:
        errors = {"scopes": t("admin_banks.error.scopes")}
        return _page(request, actor, errors=errors, values={"bank": bank}, status_code=422)
    return _page(request, actor, issued=issued)


def _confirm(request: Request, actor: Actor, prefix: str, action: str) -> HTMLResponse:
    """Revoking cannot be undone (the bank's calls fail at once): asked on a page of its own."""
    context = {"actor": actor, "prefix": prefix, "action": action, "fields": [(CONFIRM_FIELD, CONFIRM_VALUE)]}
    return render(request, "portal/admin_bank_confirm.html", context)


@router.post("/admin/banks/keys/{prefix}/rotate", response_class=HTMLResponse)
def rotate_key(
    request: Request, actor: AdminUser, prefix: KeyPrefix, confirm: Annotated[str, Form(max_length=8)] = ""
) -> HTMLResponse:
    """Revoke the key and issue its successor with the same scopes; the new key is shown once."""
    if not confirmed(confirm):
        return _confirm(request, actor, prefix, "rotate")
    return _page(request, actor, issued=banks.rotate_key(portal_of(request), prefix, actor=actor))


@router.post("/admin/banks/keys/{prefix}/revoke", response_class=HTMLResponse)
def revoke_key(
    request: Request, actor: AdminUser, prefix: KeyPrefix, confirm: Annotated[str, Form(max_length=8)] = ""
) -> Response:
    if not confirmed(confirm):
        return _confirm(request, actor, prefix, "revoke")
    banks.revoke_key(portal_of(request), prefix, actor=actor)
    flash(request, "admin_banks.done.revoked", prefix=prefix)
    return RedirectResponse("/admin/banks", status_code=303)
