"""The enterprise's applications: start, fill in (with uploads), save, submit, amend, withdraw.

One POST carries the answers and any new files. What is valid is kept: the answers a draft may
hold and the files whose bytes pass are stored, and the form comes back as typed with every
problem of the post marked at once (a refused file, a mistyped answer and, on the way to a
submission, everything it would meet), its summary saying that the rest was saved. Only a post
past a quota of files is refused whole, and says so. Drafts have no expiry: the latest answers
are simply shown again.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from portal.db.tables import Application
from portal.forms import FormSpec
from portal.forms.model import MEDIA_TYPES
from portal.services import applications as app_service
from portal.services import auto_grant, decisions, enterprises, grants, notices
from portal.services.access import get_application_for, list_applications_for
from portal.services.amendments import reopened_per_return, reopened_sections
from portal.services.case_files import CaseFile, case_files, download_case_file, file_library, submitted_files
from portal.services.enterprises import PROFILE_NOT_CONFIRMED, profile_facts
from portal.services.errors import FieldProblem, NotFound, Refused, ValidationFailed
from portal.services.verified import UNVERIFIED
from portal.web.application_steps import (
    ATTACHMENT_PREFIX,
    LONG_FORM_SECTIONS,
    answer_problems,
    in_form_order,
    section_statuses,
)
from portal.web.case_outcome_views import own_payment_context
from portal.web.case_views import (
    answer_rows,
    case_row,
    current_and_earlier_reasons,
    drawn_trace,
    fact_labels,
    history_rows,
    label,
    reasons,
    trace_lines,
)
from portal.web.confirm_step import confirm_page, confirmed, flash_moved, forget_comment
from portal.web.downloads import attachment_response
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import FormId, FormVersion, PathId, QueryVersion
from portal.web.routers.enterprise import own_enterprise
from portal.web.security import CSRF_FIELD, body_within, require_csrf
from portal.web.session_auth import EnterpriseUser, SignedIn, portal_of
from portal.web.templating import render
from portal.web.uploads import MAX_UPLOAD_BYTES, UploadRejected, check_upload, kind_refused, safe_name
from portal.workflows import Actor

# Room for a full-size file for each file a post may carry; anything larger is refused before
# Starlette spools it to disk.
MAX_FILES_PER_POST = app_service.MAX_FILES_PER_POST
_QUOTAS = {"per_post": MAX_FILES_PER_POST, "per_case": app_service.MAX_FILES_PER_CASE}
_FORM_OVERHEAD_BYTES = 256 * 1024
# A file's remove button posts the whole form with action=remove:<attachment id>:<slot>.
REMOVE_ACTION = "remove:"

router = APIRouter(
    dependencies=[
        Depends(body_within(MAX_FILES_PER_POST * MAX_UPLOAD_BYTES + _FORM_OVERHEAD_BYTES)),
        Depends(require_csrf),
    ],
    include_in_schema=False,
)
_CONTROL_FIELDS = frozenset({CSRF_FIELD, "action"})
_READ_CHUNK = 1024 * 1024
MAX_COMMENT = 2000
WITHDRAW = app_service.WITHDRAW
STAFF_VIEW = {"reviewer": "/review", "admin": "/review", "expert": "/expert"}


@router.get("/applications", response_class=HTMLResponse)
def my_applications(request: Request, actor: EnterpriseUser) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    cases = sorted(list_applications_for(portal, actor), key=lambda a: -(a.id or 0))
    holds = notices.held_by_objections(portal, actor, [a.id for a in cases if a.id is not None])
    rows = [case_row(portal, a, t, held_since=holds.get(a.id or 0)) for a in cases]
    return render(request, "portal/applications.html", {"actor": actor, "cases": rows})


@router.post("/applications")
def start_application(
    request: Request, actor: EnterpriseUser, measure_id: str = Form(...)
) -> RedirectResponse:
    application = app_service.create_draft(portal_of(request), actor, measure_id)
    return RedirectResponse(f"/applications/{application.id}/edit", status_code=303)


def editable(portal: Any, application: Application) -> bool:
    """Whether the enterprise may change the answers now (a draft, or a case returned to it)."""
    kind = portal.workflows[application.workflow].state(application.state).kind
    return bool(kind in ("draft", "amendment"))


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def application_detail(request: Request, actor: SignedIn, application_id: PathId) -> Response:
    # Notifications link every party to /applications/{id}; staff and experts have their own view.
    if actor.role in STAFF_VIEW:
        return RedirectResponse(f"{STAFF_VIEW[actor.role]}/{application_id}", status_code=303)
    portal = portal_of(request)
    lang = request_lang(request)
    t = Translator(lang)
    application = get_application_for(portal, actor, application_id)
    workflow = portal.workflows[application.workflow]
    history = history_rows(
        app_service.history(portal, actor, application_id),
        workflow,
        lang,
        portal.clock,
        reopened_per_return(portal, actor, application_id),
        portal.forms.get(application.measure_id),
    )
    allowed = {e.name: e for e in app_service.allowed_events(portal, actor, application_id)}
    current, earlier = current_and_earlier_reasons(history)
    row = case_row(
        portal, application, t, held_since=notices.held_by_objection(portal, actor, application_id)
    )
    case = {
        **row.__dict__,
        "eligibility": application.eligibility_outcome,
        **_eligibility_explained(portal, application, lang),
        "history": history,
        "reasons": current,
        "earlier_reasons": earlier,
        "editable": editable(portal, application),
        # The pack's words for withdrawing from this stage (a draft is discarded, not withdrawn).
        "withdraw_label": label(allowed[WITHDRAW].label, lang) if WITHDRAW in allowed else None,
        "needs_confirmation": auto_grant.is_awaiting(portal, application),
        "letters": decisions.letters_for(portal, actor, application_id),
        "granted": grants.decided_grant(portal, actor, application_id),
        "payments": own_payment_context(request, actor, application),
        **_submitted(portal, actor, application, lang),
    }
    return render(request, "portal/application.html", {"actor": actor, "case": case})


def _eligibility_explained(portal: Any, application: Application, lang: str) -> dict[str, Any]:
    """Why the submission was not judged eligible, from the trace stored with it: the facts that
    were missing and each criterion's result, as the self-check shows them; the enterprise sees
    what a reviewer will ask about instead of a bare 需补充信息."""
    trace = application.eligibility_trace or {}
    if application.eligibility_outcome not in ("undetermined", "ineligible") or not trace:
        return {"eligibility_missing": [], "eligibility_criteria": []}
    return {
        "eligibility_missing": fact_labels(portal.pack, trace.get("missing_facts", []), lang),
        "eligibility_criteria": trace_lines(drawn_trace(portal.pack, application.measure_id, trace), lang),
    }


def _submitted(portal: Any, actor: Actor, application: Application, lang: str) -> dict[str, Any]:
    """What the enterprise last submitted, read-only: the answers, when, and the files that
    submission sent (`submitted_files`), not those an amendment under way has put in their place;
    those are listed apart, and a sent file the amendment took out is marked so."""
    assert application.id is not None
    versions = app_service.answer_versions(portal, actor, application.id)
    sent = [v for v in versions if v.submitted]
    if not sent:
        return {"submitted": None}
    spec = portal.forms.get(application.measure_id)
    rows, _ = answer_rows(spec, sent, lang)
    record = submitted_files(portal, actor, application.id)
    last = record.latest()
    now = case_files(portal, actor, application.id)
    return {
        "submitted": {
            "version": sent[-1].version,
            # The submission's own time (a resubmission's too), not when that version was saved.
            "at": portal.clock.in_words(application.submitted_at or sent[-1].created_at, lang),
            "answers": rows,
            "files": last,
            "removed": [item.id for item in last if item not in now],
            "pending": [item for item in now if item not in last],
            "slot_labels": {s.id: s.label.get(lang) for s in (spec.attachments.values() if spec else ())},
        }
    }


@router.get("/applications/{application_id}/attachments/{attachment_id}")
def download_attachment(
    request: Request, actor: EnterpriseUser, application_id: PathId, attachment_id: PathId
) -> Response:
    """The enterprise's own file of its case; each download is audited, as a reviewer's is."""
    item, content = download_case_file(portal_of(request), actor, application_id, attachment_id)
    return attachment_response(content, media_type=item.content_type, filename=item.original_name)


def latest_answers(request: Request, actor: Actor, application_id: int) -> dict[str, Any]:
    versions = app_service.answer_versions(portal_of(request), actor, application_id)
    return dict(versions[-1].answers) if versions else {}


# A submission refused for something another page supplies: (that page, its menu name's key).
_REFUSAL_PAGES: dict[str, tuple[str, str]] = {
    UNVERIFIED: ("/verification", "nav.verification"),
    PROFILE_NOT_CONFIRMED: ("/profile", "nav.profile"),
}


def form_page(
    request: Request,
    actor: Actor,
    application: Application,
    spec: FormSpec,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    refusal: Refused | None = None,
    status_code: int = 200,
    check: bool = False,
    note: str | None = None,
) -> HTMLResponse:
    """The form with `errors` marked; `check` marks every problem a submission would meet as well.

    `note` (a message key) is said under the error summary's title: whether the draft was saved;
    `refusal` above the form, with the way to the page that supplies what it lacks."""
    portal = portal_of(request)
    lang = request_lang(request)
    t = Translator(lang)
    assert application.id is not None
    reopen: list[str] | None = None
    comments: dict[str, str] = {}
    if portal.workflows[application.workflow].state(application.state).kind == "amendment":
        reopen = reopened_sections(portal, actor, application.id)
        history = reasons(
            history_rows(
                app_service.history(portal, actor, application.id),
                portal.workflows[application.workflow],
                lang,
                portal.clock,
            )
        )
        if history:
            comments = {
                section: history[-1]["comment"] for section in (reopen or [s.id for s in spec.sections])
            }
    files = attached_files(portal, actor, application.id)
    attached = _names(files)
    long_form = len(spec.sections) >= LONG_FORM_SECTIONS
    # The task list needs them as `check` does: a section with any of them is not complete.
    problems = (
        submission_problems(portal, actor, application.id, spec, values, attached, t)
        if check or long_form
        else {}
    )
    if check:
        errors = problems | errors
    errors = in_form_order(spec, errors)
    context = {
        "actor": actor,
        "case": case_row(portal, application, t),
        "spec": spec,
        "values": {k: ("" if v is None else v) for k, v in values.items()},
        "errors": errors,
        "reopen": reopen,
        "comments": comments,
        "attached": files,
        "library": file_library(portal, actor),
        "refusal": refusal.said_in(lang) if refusal is not None else None,
        "refusal_page": _REFUSAL_PAGES.get(refusal.code) if refusal is not None else None,
        "errors_note": t(note) if note and errors else None,
        "tasks": section_statuses(spec, values, attached, lang, reopen, problems | errors)
        if long_form
        else None,
        # The day the date inputs' `min` and `max` are drawn from (a field's `not_after: today`).
        "today": portal.today(),
        "reopened_titles": [
            s.title.get(lang) for s in spec.sections if reopen is not None and s.id in reopen
        ],
    }
    return render(request, "portal/application_form.html", context, status_code=status_code)


def submission_problems(
    portal: Any,
    actor: Actor,
    application_id: int,
    spec: FormSpec,
    answers: dict[str, Any],
    attached: dict[str, list[str]],
    t: Translator,
) -> dict[str, str]:
    """Everything a submission would meet, by form path: the form's own checks and the policy's
    ceiling on the amount requested (the form's message first where both speak of a field)."""
    problems = answer_problems(spec, answers, attached, t, today=portal.today())
    ceiling = app_service.ceiling_problems(portal, actor, application_id, answers, lang=t.lang)
    return {p.path: p.message for p in ceiling} | problems


def attached_names(portal: Any, actor: Actor, application_id: int) -> dict[str, list[str]]:
    """The names of the files in each upload slot, as the applicant uploaded them."""
    return _names(attached_files(portal, actor, application_id))


def _names(files: dict[str, list[CaseFile]]) -> dict[str, list[str]]:
    return {slot: [item.original_name for item in items] for slot, items in files.items()}


def attached_files(portal: Any, actor: Actor, application_id: int) -> dict[str, list[CaseFile]]:
    """The files in each upload slot, in upload order."""
    attached: dict[str, list[CaseFile]] = {}
    for item in case_files(portal, actor, application_id):
        attached.setdefault(item.slot, []).append(item)
    return attached


def spec_for(request: Request, application: Application) -> FormSpec:
    spec = portal_of(request).forms.get(application.measure_id)
    if spec is None:
        raise NotFound("form", application.measure_id)
    return spec


@router.get("/applications/{application_id}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request, actor: EnterpriseUser, application_id: PathId, check: bool = False
) -> Response:
    """The form; `?check=1` (the check page's links) marks every problem a submission would meet."""
    portal = portal_of(request)
    application = get_application_for(portal, actor, application_id)
    if not editable(portal, application):
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    spec = spec_for(request, application)
    profile = enterprises.latest_profile(portal, actor)
    prefilled = spec.prefill(profile_facts(portal.city, profile, own_enterprise(request, actor)))
    answers = latest_answers(request, actor, application_id) or prefilled
    # The locked identity as registered now: the registration may have changed since the last save.
    registered = {f.name: prefilled[f.name] for f in spec.locked_fields if f.name in prefilled}
    return form_page(request, actor, application, spec, {**answers, **registered}, {}, check=check)


async def _read_upload(upload: UploadFile) -> bytes:
    """At most 20 MB + 1 byte is read: enough to know a file is too large without holding more."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_UPLOAD_BYTES:
        chunk = await upload.read(_READ_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


async def _posted_files(form: FormData) -> list[tuple[str, str, bytes]]:
    """(field, file name, bytes) of every file posted to an upload slot, read on the event loop."""
    return [
        (key, value.filename, await _read_upload(value))
        for key, value in form.multi_items()
        if key.startswith(ATTACHMENT_PREFIX) and isinstance(value, UploadFile) and value.filename
    ]


def _checked_uploads(
    posted: list[tuple[str, str, bytes]], spec: FormSpec, t: Translator
) -> tuple[list[tuple[str, str, str, bytes]], dict[str, str]]:
    """(slot, kind, safe name, bytes) for each accepted file, and an error per refused slot."""
    accepted: list[tuple[str, str, str, bytes]] = []
    errors: dict[str, str] = {}
    for key, filename, data in posted:
        slot_id = key[len(ATTACHMENT_PREFIX) :]
        slot = spec.attachments.get(slot_id)
        if slot is None:
            errors[key] = t(
                "app.upload_error", name=safe_name(filename, "file"), reason=t("auth.error.choice")
            )
            continue
        try:
            kind = check_upload(data, slot.kinds)
        except UploadRejected as rejected:
            errors[key] = t(
                "app.upload_error", name=safe_name(filename, "file"), reason=rejected.message(t.lang)
            )
            continue
        accepted.append((slot_id, kind, safe_name(filename, kind), data))
    return accepted, errors


def _posted_answers(
    form: FormData, spec: FormSpec, previous: dict[str, Any], reopen: list[str] | None
) -> dict[str, Any]:
    """The previous answers overlaid with the posted ones, for the sections open to editing only."""
    answers = dict(previous)
    open_sections = [s for s in spec.sections if reopen is None or s.id in reopen]
    for section in open_sections:
        for field in section.fields:
            raw = form.get(field.name)
            if field.widget == "checkbox":
                answers[field.name] = "true" if raw == "true" else "false"
            elif isinstance(raw, str) and raw.strip():
                answers[field.name] = raw.strip()
            else:
                answers.pop(field.name, None)
    return answers


@router.post("/applications/{application_id}/edit", response_class=HTMLResponse)
async def save_or_submit(
    request: Request, actor: EnterpriseUser, application_id: PathId, v: QueryVersion
) -> Response:
    form = await request.form()
    posted = await _posted_files(form)
    # The body is read on the event loop; the database work runs in the thread pool.
    return await run_in_threadpool(_save_or_submit, request, actor, application_id, v, form, posted)


def _save_or_submit(
    request: Request,
    actor: EnterpriseUser,
    application_id: int,
    v: int,
    form: FormData,
    posted: list[tuple[str, str, bytes]],
) -> Response:
    portal = portal_of(request)
    lang = request_lang(request)
    t = Translator(lang)
    application = get_application_for(portal, actor, application_id)
    spec = spec_for(request, application)
    reopen = (
        reopened_sections(portal, actor, application_id)
        if portal.workflows[application.workflow].state(application.state).kind == "amendment"
        else None
    )
    answers = _posted_answers(form, spec, latest_answers(request, actor, application_id), reopen)
    # Every problem of the post is said at once: refused files, refused answers and, on the way
    # to the check page or a submission, everything a submission would meet.
    uploads, problems = _checked_uploads(posted, spec, t)
    action = form.get("action")
    full = action in ("submit", "check")
    files = [app_service.NewFile(slot, data, MEDIA_TYPES[kind], name) for slot, kind, name, data in uploads]
    saved = False
    version = v
    try:
        if files:
            # A post past a quota of files is refused whole, answers too (ValidationFailed below).
            uploaded = app_service.upload_files(
                portal, actor, application_id, files, expected_version=version
            )
            version = uploaded.application.version
            for new_name, kept in uploaded.same_as.items():
                flash(request, "app.flash.same_file", new=new_name, kept=kept)
        draft = app_service.save_valid_answers(portal, actor, application_id, answers, version, lang=lang)
        saved = True
        version = draft.application.version
        problems |= {p.path: p.message for p in draft.refused}
        if problems:
            return _refused_post(
                request, actor, application_id, spec, answers, problems, full=full, saved=saved
            )
        removal = _removal(action)
        if removal is not None:
            slot, attachment_id = removal
            name = app_service.detach(portal, actor, application_id, slot, attachment_id, version)
            flash(request, "app.flash.removed", name=name)
            return RedirectResponse(f"/applications/{application_id}/edit", status_code=303)
        if action == "submit":
            # Scripted clients may still submit from the form; people go through the check page.
            app_service.submit(portal, actor, application_id, version, lang=lang)
            flash(request, "apply.flash.submitted", id=application_id)
            return RedirectResponse(f"/applications/{application_id}/submitted", status_code=303)
        if action == "check":
            return RedirectResponse(f"/applications/{application_id}/check", status_code=303)
    except ValidationFailed as failed:
        # A quota of files, or a submission refused: told with everything else wrong.
        problems |= field_errors(failed, files, t)
        return _refused_post(request, actor, application_id, spec, answers, problems, full=full, saved=saved)
    except Refused as refused:
        application = get_application_for(portal, actor, application_id)
        return form_page(request, actor, application, spec, answers, {}, refusal=refused, status_code=409)
    flash(request, "app.saved")
    return RedirectResponse(f"/applications/{application_id}/edit", status_code=303)


def _refused_post(
    request: Request,
    actor: EnterpriseUser,
    application_id: int,
    spec: FormSpec,
    answers: dict[str, Any],
    problems: dict[str, str],
    *,
    full: bool,
    saved: bool,
) -> HTMLResponse:
    """The form again, as typed, with each problem of the post at its field and in the summary,
    which says whether the rest of the draft was saved."""
    application = get_application_for(portal_of(request), actor, application_id)
    note = "app.saved_except" if saved else "app.not_saved"
    return form_page(
        request, actor, application, spec, answers, problems, status_code=422, check=full, note=note
    )


def _removal(action: object) -> tuple[str, int] | None:
    """(slot, attachment id) of a file's remove button, which posts the form as `remove:<id>:<slot>`
    so the answers typed meanwhile are saved with the removal."""
    if not isinstance(action, str) or not action.startswith(REMOVE_ACTION):
        return None
    number, _, slot = action.removeprefix(REMOVE_ACTION).partition(":")
    if not number.isdecimal() or not slot:
        raise NotFound("attachment", action)
    return slot, int(number)


def field_errors(failed: ValidationFailed, files: list[app_service.NewFile], t: Translator) -> dict[str, str]:
    """Each problem by its field; a quota problem next to the first upload slot of the post."""
    errors: dict[str, str] = {}
    for problem in failed.errors:
        if problem.code in _QUOTAS and files:
            errors[ATTACHMENT_PREFIX + files[0].slot] = _quota_text(problem.code, t)
        else:
            errors[problem.path] = problem.message
    return errors


def _quota_text(code: str, t: Translator) -> str:
    return t(f"app.quota.{code}", limit=_QUOTAS[code])


def _reuse_refusal(problem: FieldProblem, kinds: tuple[str, ...], t: Translator) -> str:
    """Why a file from the library cannot go into the slot, in the reader's words."""
    if problem.code == "kind_not_allowed":
        return kind_refused(str(problem.params["kind"]), kinds).message(t.lang)
    return _quota_text(problem.code, t)


@router.post("/applications/{application_id}/attachments/reuse")
def reuse_attachment(
    request: Request,
    actor: EnterpriseUser,
    application_id: PathId,
    attachment_id: FormId,
    slot: str = Form(...),
) -> Response:
    portal = portal_of(request)
    application = get_application_for(portal, actor, application_id)
    try:
        app_service.attach(portal, actor, application_id, slot, attachment_id, application.version)
    except ValidationFailed as failed:
        # A slot that does not take the file's kind, or a case already holding its quota of files:
        # said at the slot, as a refused upload is. A slot the form lacks was never offered.
        spec = spec_for(request, application)
        if slot not in spec.attachments:
            raise
        refusal = _reuse_refusal(
            failed.errors[0], spec.attachments[slot].kinds, Translator(request_lang(request))
        )
        errors = {ATTACHMENT_PREFIX + slot: refusal}
        answers = latest_answers(request, actor, application_id)
        return form_page(request, actor, application, spec, answers, errors, status_code=422)
    flash(request, "app.saved")
    return RedirectResponse(f"/applications/{application_id}/edit", status_code=303)


@router.post("/applications/{application_id}/withdraw", response_class=HTMLResponse)
def withdraw(
    request: Request,
    actor: EnterpriseUser,
    application_id: PathId,
    expected_version: FormVersion,
    comment: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    """The first POST asks "are you sure?" when the workflow says withdrawing cannot be undone."""
    portal = portal_of(request)
    application = get_application_for(portal, actor, application_id)
    workflow = portal.workflows[application.workflow]
    text = comment.strip()[:MAX_COMMENT]
    if workflow.irreversible(application.state, WITHDRAW) and not confirmed(confirm):
        return confirm_page(
            request, actor, application, workflow, WITHDRAW,
            action_url=f"/applications/{application_id}/withdraw",
            back_url=f"/applications/{application_id}",
            fields=[("expected_version", str(expected_version))],
            comment=text,
            comment_asked=False,  # the case page offers no comment box for withdrawing
        )  # fmt: skip
    moved = app_service.withdraw(portal, actor, application_id, expected_version, text or None)
    forget_comment(request)
    flash_moved(request, workflow, WITHDRAW, moved)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)
