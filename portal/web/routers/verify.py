"""Decision letters on the web: public verification (/verify) and the owner's download.

Anyone holding a letter (a bank, an auditor) can look its code up and upload the PDF to
check that it is byte for byte the issued one. Whatever a code leads to — a malformed
string, an unknown code — the answer is the same 404 page, rendered without echoing the code,
so the page is no oracle for which codes exist.
"""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.documents.verification import normalize_verification_code
from portal.services.decisions import LetterInfo, verify_code
from portal.services.errors import NotFound
from portal.services.letters import UploadCheck, owned_letter, verify_upload
from portal.web.downloads import attachment_disposition
from portal.web.errors import layout_context
from portal.web.i18n import Translator, request_lang
from portal.web.params import PathId
from portal.web.security import body_within, require_csrf
from portal.web.session_auth import current_actor, portal_of
from portal.web.templating import render
from portal.web.uploads import MAX_UPLOAD_BYTES
from portal.workflows import Actor

VERIFY_PATH = "/verify"
# Room for the multipart framing and the CSRF field around a file of the maximum size.
_FORM_OVERHEAD_BYTES = 64 * 1024
_CHUNK_BYTES = 64 * 1024
# Letter pages carry an enterprise's name: keep them out of search engines and caches.
_PRIVATE_PAGE_HEADERS = {"X-Robots-Tag": "noindex, nofollow", "Cache-Control": "no-store"}


# The size check runs first, so that the CSRF check does not parse an oversized form.
router = APIRouter(
    dependencies=[Depends(body_within(MAX_UPLOAD_BYTES + _FORM_OVERHEAD_BYTES)), Depends(require_csrf)],
    include_in_schema=False,
)


def _not_found(request: Request) -> HTMLResponse:
    """The one answer for every code that leads nowhere: nothing in it depends on the code."""
    context = {
        # A signed-in reader keeps their menu, and with it the language form and its token.
        **layout_context(request),
        # The default language link would carry the requested path, and with it the code.
        "switch_lang_url": f"/lang/{'zh' if request_lang(request) == 'en' else 'en'}?next={VERIFY_PATH}",
        "current_path": VERIFY_PATH,
    }
    page = request.app.state.jinja.get_template("verify/not_found.html").render(context)
    return HTMLResponse(page, status_code=404, headers=_PRIVATE_PAGE_HEADERS)


def _letter_page(
    request: Request,
    letter: LetterInfo,
    *,
    check: UploadCheck | None = None,
    upload_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    response = render(
        request,
        "verify/letter.html",
        {"letter": letter, "check": check, "upload_error": upload_error},
        status_code=status_code,
    )
    response.headers.update(_PRIVATE_PAGE_HEADERS)
    return response


@router.get(VERIFY_PATH, response_class=HTMLResponse)
def lookup(request: Request, code: str | None = None) -> Response:
    """The form to type a code; submitted, it goes to the code's own (bookmarkable) page."""
    if code is None or not code.strip():
        return render(request, "verify/lookup.html", {})
    try:
        canonical = normalize_verification_code(code)
    except ValueError:
        return show_letter(request, code)
    return RedirectResponse(f"{VERIFY_PATH}/{quote(canonical)}", status_code=303)


@router.get(VERIFY_PATH + "/{code}", response_class=HTMLResponse)
def show_letter(request: Request, code: str) -> HTMLResponse:
    """What the letter under `code` says: unit, enterprise, measure, outcome, date, sha256."""
    try:
        letter = verify_code(portal_of(request), code)
    except NotFound:
        return _not_found(request)
    return _letter_page(request, letter)


@router.post(VERIFY_PATH + "/{code}", response_class=HTMLResponse)
def check_upload(
    request: Request, code: str, file: Annotated[UploadFile | None, File()] = None
) -> HTMLResponse:
    """Is the uploaded PDF byte for byte the letter issued under `code`?"""
    t = Translator(request_lang(request))
    digest, size = _sha256_of(file) if file is not None else ("", 0)
    portal = portal_of(request)
    try:
        if size == 0 or size > MAX_UPLOAD_BYTES:
            letter = verify_code(portal, code)
            key = "verify.upload.empty" if size == 0 else "verify.upload.too_large"
            return _letter_page(request, letter, upload_error=t(key), status_code=422 if size == 0 else 413)
        check = verify_upload(portal, code, digest)
    except NotFound:
        return _not_found(request)
    return _letter_page(request, check.letter, check=check)


def _sha256_of(upload: UploadFile) -> tuple[str, int]:
    """Hash the spooled upload in chunks, stopping once it is known to be over the limit."""
    digest = hashlib.sha256()
    size = 0
    upload.file.seek(0)
    while chunk := upload.file.read(_CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            break
        digest.update(chunk)
    return digest.hexdigest(), size


@router.get("/applications/{application_id:int}/letters/{letter_id:int}.pdf")
def download_letter(
    request: Request,
    application_id: PathId,
    letter_id: PathId,
    actor: Annotated[Actor, Depends(current_actor)],
) -> Response:
    """The stored PDF, exactly as issued, for the enterprise that applied (everyone else: 404)."""
    letter = owned_letter(portal_of(request), actor, application_id, letter_id)
    # Named by its document number (e.g. 穗科〔2026〕3号), with an ASCII name for old clients.
    disposition = attachment_disposition(f"{letter.doc_number}.pdf", f"letter-{letter.id}.pdf")
    return Response(
        letter.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
