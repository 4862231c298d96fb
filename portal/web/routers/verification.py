"""Who is who, in pages: the enterprise's verification by papers, the district's check, and claims.

The enterprise uploads its business licence and the authorisation letter at /verification;
a reviewer of its district decides at /verifications. Claims to an enterprise already on
record (made by registration) are decided at /claims by the enterprise's users or its district.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from portal.forms.model import MEDIA_TYPES
from portal.services import claims, verification
from portal.services.errors import Refused, ValidationFailed
from portal.web.downloads import attachment_response
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import PathId
from portal.web.security import require_csrf
from portal.web.session_auth import EnterpriseUser, portal_of, require_role
from portal.web.templating import render
from portal.web.uploads import MAX_UPLOAD_BYTES, UploadRejected, check_upload, safe_name
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)

DistrictReviewer = Annotated[Actor, Depends(require_role("reviewer"))]
ClaimDecider = Annotated[Actor, Depends(require_role("enterprise", "reviewer"))]
PAPER_KINDS = ("pdf", "jpeg", "png")


def _status_page(
    request: Request, actor: Actor, errors: dict[str, str] | None = None, status_code: int = 200
) -> HTMLResponse:
    status = verification.status_of(portal_of(request), actor)
    context = {
        "actor": actor,
        "status": status,
        "errors": errors or {},
        "upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "portal/verification.html", context, status_code=status_code)


@router.get("/verification", response_class=HTMLResponse)
def verification_page(request: Request, actor: EnterpriseUser) -> HTMLResponse:
    return _status_page(request, actor)


async def _paper(value: object, t: Translator) -> verification.Upload | str:
    """The checked upload, or the message to show next to its field."""
    if not isinstance(value, UploadFile) or not value.filename:
        return t("auth.error.required")
    data = await value.read(MAX_UPLOAD_BYTES + 1)
    try:
        kind = check_upload(data, PAPER_KINDS)
    except UploadRejected as rejected:
        return rejected.message(t.lang)
    return verification.Upload(data, MEDIA_TYPES[kind], safe_name(value.filename, kind))


@router.post("/verification", response_class=HTMLResponse)
async def send_papers(request: Request, actor: EnterpriseUser) -> Response:
    t = Translator(request_lang(request))
    form = await request.form()
    papers = {name: await _paper(form.get(name), t) for name in verification.DOCUMENTS}
    errors = {name: paper for name, paper in papers.items() if isinstance(paper, str)}
    if errors:
        return await run_in_threadpool(_status_page, request, actor, errors, 422)
    licence, authorisation = (papers[name] for name in verification.DOCUMENTS)
    assert isinstance(licence, verification.Upload) and isinstance(authorisation, verification.Upload)
    await run_in_threadpool(
        verification.request_verification, portal_of(request), actor, licence, authorisation
    )
    flash(request, "verification.sent")
    return RedirectResponse("/verification", status_code=303)


@router.get("/verifications", response_class=HTMLResponse)
def verification_queue(request: Request, actor: DistrictReviewer) -> HTMLResponse:
    cases = verification.verifications_to_check(portal_of(request), actor)
    context = {"actor": actor, "cases": cases}
    return render(request, "portal/verification_queue.html", context)


def _case_page(
    request: Request,
    actor: Actor,
    request_id: int,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    case = verification.verification_case(portal_of(request), actor, request_id)
    context = {
        "actor": actor,
        "case": case,
        "errors": errors or {},
    }
    return render(request, "portal/verification_case.html", context, status_code=status_code)


@router.get("/verifications/{request_id}", response_class=HTMLResponse)
def verification_case(request: Request, request_id: PathId, actor: DistrictReviewer) -> HTMLResponse:
    return _case_page(request, actor, request_id)


@router.post("/verifications/{request_id}", response_class=HTMLResponse)
def decide(
    request: Request,
    request_id: PathId,
    actor: DistrictReviewer,
    event: Annotated[str, Form(max_length=64)],
    version: Annotated[int, Form(ge=1)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        verification.decide_verification(portal_of(request), actor, request_id, event, reason, version)
    except Refused as refused:
        if refused.code != "comment_required":
            raise
        t = Translator(request_lang(request))
        return _case_page(request, actor, request_id, {"reason": t("auth.error.required")}, 422)
    flash(request, "verification.flash.decided")
    return RedirectResponse(f"/verifications/{request_id}", status_code=303)


@router.get("/verifications/{request_id}/{document}")
def verification_paper(
    request: Request, request_id: PathId, document: str, actor: DistrictReviewer
) -> Response:
    attachment, content = verification.verification_file(portal_of(request), actor, request_id, document)
    return attachment_response(content, media_type=attachment.content_type, filename=attachment.original_name)


def _claims_page(
    request: Request, actor: Actor, errors: dict[str, str] | None = None, status_code: int = 200
) -> HTMLResponse:
    context = {"actor": actor, "claims": claims.claims_for(portal_of(request), actor), "errors": errors or {}}
    return render(request, "portal/claims.html", context, status_code=status_code)


@router.get("/claims", response_class=HTMLResponse)
def claim_list(request: Request, actor: ClaimDecider) -> HTMLResponse:
    return _claims_page(request, actor)


@router.post("/claims/{claim_id}", response_class=HTMLResponse)
def decide_claim(
    request: Request,
    claim_id: PathId,
    actor: ClaimDecider,
    decision: Annotated[str, Form(pattern="^(agree|disagree)$")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        claims.decide_claim(portal_of(request), actor, claim_id, accept=decision == "agree", reason=reason)
    except ValidationFailed:
        t = Translator(request_lang(request))
        return _claims_page(request, actor, {f"reason-{claim_id}": t("auth.error.required")}, 422)
    flash(request, "claims.flash.agreed" if decision == "agree" else "claims.flash.disagreed")
    return RedirectResponse("/claims", status_code=303)
