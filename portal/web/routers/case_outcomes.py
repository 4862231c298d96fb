"""The outcome side of the reviewers' case page: the granted amount and the letters.

The lead unit sets the granted amount (核定兑现金额) before the decision, downloads any letter
of the case, and issues a corrected letter that supersedes a wrong one. Every write is one
service call; a bad amount re-renders the case page with the field's error in the reader's
language.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.numerals import read_decimal
from portal.services import corrections, decisions, grants
from portal.services.errors import NotFound, ValidationFailed
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import FormVersion, PathId
from portal.web.routers.review import case_page_context
from portal.web.security import require_csrf
from portal.web.session_auth import StaffUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
MAX_TEXT = 2000


def _case_page(request: Request, actor: Actor, application_id: int, extra: dict[str, Any]) -> HTMLResponse:
    context = case_page_context(request, actor, application_id)
    context.update(extra)
    return render(request, "portal/review_case.html", context, status_code=422)


@router.post("/review/{application_id}/grant")
def set_grant(
    request: Request,
    actor: StaffUser,
    application_id: PathId,
    expected_version: FormVersion,
    granted_amount: str = Form(""),
    granted_reason: str = Form(""),
) -> Response:
    """Record 核定兑现金额; an amount above the rule's or the amount requested, or lower without a
    reason, is a field error."""
    portal = portal_of(request)
    t = Translator(request_lang(request))
    values = {"granted_amount": granted_amount, "granted_reason": granted_reason}
    amount = read_decimal(granted_amount)  # as typed: full-width, grouped by thousands
    if amount is None:
        return _case_page(
            request,
            actor,
            application_id,
            {"grant_errors": {"granted_amount": t("grant.error.number")}, "grant_values": values},
        )
    try:
        grants.set_granted_amount(
            portal, actor, application_id, amount, granted_reason[:MAX_TEXT], expected_version
        )
    except ValidationFailed as failed:
        # The limits come as Decimal yuan; the sentence says them as money, in the reader's language.
        errors = {
            p.path: t(
                f"grant.error.{p.code or 'range'}",
                **{k: t.money(v) if isinstance(v, Decimal) else v for k, v in p.params.items()},
            )
            for p in failed.errors
        }
        return _case_page(request, actor, application_id, {"grant_errors": errors, "grant_values": values})
    flash(request, "grant.flash.saved", amount=t.money(amount))
    return RedirectResponse(f"/review/{application_id}", status_code=303)


@router.get("/review/{application_id}/letters/{letter_id}.pdf")
def download_letter(
    request: Request, actor: StaffUser, application_id: PathId, letter_id: PathId
) -> Response:
    """Any letter of a case the reviewer may see, superseded ones included."""
    letter = decisions.get_letter(portal_of(request), actor, letter_id)
    if letter.id not in {row.id for row in decisions.letters_for(portal_of(request), actor, application_id)}:
        raise NotFound("letter", letter_id)
    name = f"letter-{letter.id}.pdf"
    return Response(
        letter.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "private, no-store"},
    )


@router.post("/review/{application_id}/letters/{letter_id}/correct")
def correct_letter(
    request: Request,
    actor: StaffUser,
    application_id: PathId,
    letter_id: PathId,
    opinion: str = Form(""),
    reasons: str = Form(""),
) -> Response:
    """Issue a corrected letter that supersedes `letter_id`, printing the corrected `opinion` and
    why it is corrected; an empty field is a field error, shown with what was typed."""
    portal = portal_of(request)
    if letter_id not in {row.id for row in decisions.letters_for(portal, actor, application_id)}:
        raise NotFound("letter", letter_id)
    try:
        corrected = corrections.correct_letter(
            portal, actor, letter_id, reasons=reasons[:MAX_TEXT], opinion=opinion[:MAX_TEXT]
        )
    except ValidationFailed as failed:
        t = Translator(request_lang(request))
        correcting = {
            "letter_id": letter_id,
            "errors": {p.path: t(f"letters.error.{p.path}_{p.code}") for p in failed.errors},
            "typed": {"opinion": opinion, "reasons": reasons},
        }
        return _case_page(request, actor, application_id, {"correcting": correcting})
    flash(request, "letters.flash.corrected", number=corrected.doc_number)
    return RedirectResponse(f"/review/{application_id}#letters", status_code=303)
