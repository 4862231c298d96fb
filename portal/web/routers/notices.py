"""公示 in public: the notices anyone can read, and the objection anyone can lodge.

Anonymous pages, zh and en. The objection form is CSRF-protected like every cookie-session
form (an anonymous visitor has a session too) and rate-limited per client address with the
project's sliding-window limiter. The lead unit closes a notice whose window has passed from
the case page, as the nightly sweep would.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from portal.forms.model import MEDIA_TYPES
from portal.services import notices
from portal.services.errors import FieldProblem, NotFound, ValidationFailed
from portal.web.downloads import attachment_response
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import MAX_DB_INT, FormVersion, PathId
from portal.web.ratelimit import SlidingWindowLimiter
from portal.web.security import body_within, require_csrf
from portal.web.session_auth import StaffUser, portal_of
from portal.web.templating import render
from portal.web.uploads import UploadRejected, check_upload, safe_name

# The form's text fields fit in far less than this; the file itself is capped by the service.
_MAX_BODY = notices.MAX_FILE_BYTES + 64 * 1024
_FILE_KINDS = ("pdf", "jpeg", "png")
MAX_QUERY = 100

router = APIRouter(
    dependencies=[Depends(body_within(_MAX_BODY)), Depends(require_csrf)], include_in_schema=False
)


def _notice_id(raw: str) -> int:
    """A public notice's id from its address: anything but a case number is a notice that does
    not exist (the reader's 404 page, not a form error about the address)."""
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_DB_INT:
        raise NotFound("notice", raw)
    return int(raw)


def _notice_row(notice: notices.Notice, lang: str) -> dict[str, Any]:
    return {
        "id": notice.application_id,
        "number": notice.number,
        "measure": notice.measure_title.en if lang == "en" else notice.measure_title.zh,
        "enterprise": notice.enterprise_name,
        "granted_amount": notice.granted_amount,
        "unit": notice.unit.en if lang == "en" else notice.unit.zh,
        "opened_on": notice.opened_on,
        "last_day": notice.last_day,
        "open": notice.open,
        "held": notice.held,
        "period_over": notice.period_over,
        "stage": notice.stage.en if lang == "en" else notice.stage.zh,
        "objections": notice.objections,
        "title_label": notice.title.label.get(lang) if notice.title else "",
        "title": notice.title.value if notice.title else "",
    }


@router.get("/notices", response_class=HTMLResponse)
def notice_list(request: Request, q: str = "", archived: bool = False) -> HTMLResponse:
    """Cases on notice now, or past notices; `q` searches enterprise, title, measure and unit, or
    is a reference number."""
    lang = request_lang(request)
    query = q.strip()[:MAX_QUERY]
    portal = portal_of(request)
    rows = notices.list_notices(portal, archived=archived, query=query)
    # A search that finds no open notice says how many past ones it finds, so none is missed.
    past_hits = (
        len(notices.list_notices(portal, archived=True, query=query))
        if query and not rows and not archived
        else 0
    )
    context = {
        "notices": [_notice_row(n, lang) for n in rows],
        "q": query,
        "archived": archived,
        "past_hits": past_hits,
    }
    return render(request, "notices/list.html", context)


# The objection form's fields in the order a person fixes them; "form" is the form as a whole.
_OBJECTION_FIELDS = ("form", "name", "contact", "email", "reasons", "file")


def _detail(
    request: Request,
    application_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = request_lang(request)
    notice = notices.notice_of(portal_of(request), application_id)
    said = errors or {}
    context = {
        "notice": _notice_row(notice, lang),
        "values": values or {},
        "errors": {name: said[name] for name in _OBJECTION_FIELDS if name in said},  # in the form's order
        "error_labels": {name: f"notices.field.{name}" for name in _OBJECTION_FIELDS[1:]},
        "error_targets": {"form": "objection"}
        | {name: f"objection-{name}" for name in _OBJECTION_FIELDS[1:]},
        "reasons_limit": notices.MAX_TEXT,
    }
    return render(request, "notices/detail.html", context, status_code=status_code)


@router.get("/notices/{application_id}", response_class=HTMLResponse)
def notice_detail(request: Request, application_id: str) -> HTMLResponse:
    return _detail(request, _notice_id(application_id))


def _limiter(request: Request) -> SlidingWindowLimiter:
    limiter: SlidingWindowLimiter = request.app.state.objection_limiter
    return limiter


@router.post("/notices/{application_id}/objection")
async def lodge(
    request: Request,
    application_id: str,
    name: str = Form(""),
    contact: str = Form(""),
    email: str = Form(""),
    reasons: str = Form(""),
) -> Response:
    """File an objection; 422 with each field's problem in the reader's language, 429 when busy."""
    form = await request.form()
    upload = form.get("file")
    posted = (
        (upload.filename, await upload.read()) if isinstance(upload, UploadFile) and upload.filename else None
    )
    # The body is read on the event loop; the limiter, the checks and the database in the pool.
    fields = {"name": name, "contact": contact, "email": email, "reasons": reasons}
    return await run_in_threadpool(_lodge, request, _notice_id(application_id), fields, posted)


def _lodge(
    request: Request, application_id: int, values: dict[str, str], posted: tuple[str, bytes] | None
) -> Response:
    t = Translator(request_lang(request))
    client = request.client.host if request.client else "unknown"
    retry_after = _limiter(request).hit(client)
    if retry_after is not None:
        response = _detail(
            request,
            application_id,
            values=values,
            errors={"form": t("notices.error.rate_limited")},
            status_code=429,
        )
        response.headers["Retry-After"] = str(retry_after)
        return response
    file = None
    if posted is not None:
        filename, data = posted
        try:
            kind = check_upload(data, _FILE_KINDS)
        except UploadRejected as rejected:
            # The file is refused by its bytes; every other problem of the form is said with it.
            problems = notices.objection_problems(
                name=values["name"],
                contact=values["contact"],
                email=values["email"],
                reasons=values["reasons"],
            )
            errors = _said(problems, t) | {"file": rejected.message(t.lang)}
            return _detail(request, application_id, values=values, errors=errors, status_code=422)
        file = notices.ObjectionFile(data, safe_name(filename, kind), MEDIA_TYPES[kind])
    try:
        objection = notices.lodge_objection(
            portal_of(request),
            application_id,
            name=values["name"],
            contact=values["contact"],
            email=values["email"],
            reasons=values["reasons"],
            file=file,
            lang=t.lang,
        )
    except ValidationFailed as failed:
        return _detail(
            request, application_id, values=values, errors=_said(failed.errors, t), status_code=422
        )
    # The acknowledgement names the notice as the public knows it: by its number.
    number = notices.notice_of(portal_of(request), application_id).number
    said = "notices.lodged_mailed" if values["email"] else "notices.lodged"
    unnumbered = {lang: Translator(lang)("notices.unnumbered") for lang in ("zh", "en")}
    flash(request, said, reference=objection.reference, notice=number or unnumbered)
    return RedirectResponse(f"/notices/{application_id}", status_code=303)


def _said(problems: list[FieldProblem], t: Translator) -> dict[str, str]:
    """Each field's problem in the reader's words, from the service's codes."""
    return {p.path: t(f"notices.error.{p.code or 'required'}", **p.params) for p in problems}


@router.post("/review/{application_id}/close-notice")
def close_notice(
    request: Request, actor: StaffUser, application_id: PathId, expected_version: FormVersion
) -> RedirectResponse:
    """The lead unit closes a notice whose window has passed (409 page before that)."""
    notices.close_notice(portal_of(request), actor, application_id, expected_version)
    flash(request, "notices.flash.closed", id=application_id)
    return RedirectResponse(f"/review/{application_id}", status_code=303)


@router.get("/review/{application_id}/objections/{objection_id}/file")
def objection_file(
    request: Request, actor: StaffUser, application_id: PathId, objection_id: PathId
) -> Response:
    objection, content = notices.objection_file(portal_of(request), actor, application_id, objection_id)
    return attachment_response(
        content,
        media_type=objection.attachment_content_type or "application/octet-stream",
        filename=objection.attachment_name or "objection",
    )
