"""The experts' pages: their assigned cases, the no-conflict declaration, then the file and the scores.

Until the declaration is signed the page shows nothing of the application but who applied (the
enterprise's registered name and code) and for what (the form's title answer), which the expert
needs to judge a conflict; the service refuses the documents too, so the order cannot be skipped
by typing a URL. After it, the expert reads the answers, the attachments (each download
audited) and the eligibility trace, read-only, and scores each rubric criterion with a comment;
a submitted sheet is locked.
An expert with a conflict refuses the case instead, and the lead unit replaces them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from portal.numerals import read_decimal
from portal.services import applications as app_service
from portal.services import experts as expert_service
from portal.services.access import get_application_for
from portal.services.case_files import case_files, download_case_file, submitted_files
from portal.services.case_titles import case_parties
from portal.services.errors import ValidationFailed
from portal.services.expert_tasks import expert_tasks
from portal.web.case_views import answer_rows, case_row, drawn_trace, label, trace_lines
from portal.web.downloads import attachment_response
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import FormVersion, PathId
from portal.web.security import require_csrf
from portal.web.session_auth import ExpertUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor
from portal.workflows.rubric import Criterion

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


@router.get("/expert", response_class=HTMLResponse)
def my_cases(request: Request, actor: ExpertUser) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    tasks = [
        {"case": case_row(portal, task.application, t), "task": task} for task in expert_tasks(portal, actor)
    ]
    return render(request, "portal/expert_cases.html", {"actor": actor, "tasks": tasks})


def _file(request: Request, actor: Actor, application_id: int) -> dict[str, Any]:
    """What a declared expert reads: answers, attachments (and what earlier submissions sent, as the
    reviewer sees it), the trace at submission (read-only)."""
    portal = portal_of(request)
    lang = request_lang(request)
    application = get_application_for(portal, actor, application_id)
    spec = portal.forms.get(application.measure_id)
    answers, _ = answer_rows(spec, app_service.answer_versions(portal, actor, application_id), lang)
    trace = application.eligibility_trace or {}
    files = case_files(portal, actor, application_id)  # what was submitted: not an amendment's drafts
    sent = submitted_files(portal, actor, application_id)
    return {
        "answers": answers,
        "attachments": files,
        "earlier_files": sent.earlier(files),
        "new_files": sent.added(),
        "submission": sent.count,
        "slot_labels": {s.id: s.label.get(lang) for s in (spec.attachments.values() if spec else ())},
        "trace_outcome": trace.get("outcome"),
        "trace": trace_lines(drawn_trace(portal.pack, application.measure_id, trace), lang),
    }


def _page(
    request: Request,
    actor: Actor,
    application_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    portal = portal_of(request)
    lang = request_lang(request)
    t = Translator(lang)
    application = get_application_for(portal, actor, application_id)
    allowed = {e.name for e in app_service.allowed_events(portal, actor, application_id)}
    declared = expert_service.DECLARE_EVENT not in allowed
    sheet = expert_service.my_score(portal, actor, application_id) if declared else None
    rubric = portal.rubric_for(application.measure_id)
    parties = case_parties(portal, actor, application_id)
    context: dict[str, Any] = {
        "actor": actor,
        "case": case_row(portal, application, t),
        "applicant": {
            "name": parties.enterprise_name,
            "uscc": parties.uscc,
            "title_label": parties.title.label.get(lang) if parties.title else "",
            "title": parties.title.value if parties.title else "",
        },
        "declared": declared,
        "sheet": sheet,
        "can_score": declared and sheet is None and expert_service.SCORE_EVENT in allowed,
        "rubric_title": label(rubric.title, lang),
        "rubric": [
            {
                "id": c.id,
                "label": label(c.label, lang),
                "guidance": label(c.guidance, lang) if c.guidance else "",
                "weight": c.weight,
                "max": rubric.scale_max,
            }
            for c in rubric.criteria
        ],
        "bands": [label(b.label, lang) for b in rubric.bands],
        "pass_mark": rubric.pass_mark,
        "values": values,
        "errors": errors,
        **_error_fields(rubric.criteria, t),
    }
    if declared:
        context.update(_file(request, actor, application_id))
    return render(request, "portal/expert_case.html", context, status_code=status_code)


def _error_fields(criteria: Iterable[Criterion], t: Translator) -> dict[str, dict[str, str]]:
    """Each box of the page's forms by name, as the one error summary at its top names and links to
    them: the declaration's tick and the refusal's reason, then each score and comment box."""
    texts = {"confirm": t("expert.declaration"), "reason": t("expert.recuse_reason")}
    targets = {"confirm": "declare-confirm", "reason": "recuse-reason"}
    for c in criteria:
        for box in ("score", "comment"):
            texts[f"{box}:{c.id}"] = (
                label(c.label, t.lang) + t("punct.open") + t(f"expert.{box}") + t("punct.close")
            )
            targets[f"{box}:{c.id}"] = f"{box}-{c.id}"
    return {"error_label_texts": texts, "error_targets": targets}


@router.get("/expert/{application_id}", response_class=HTMLResponse)
def case(request: Request, actor: ExpertUser, application_id: PathId) -> HTMLResponse:
    return _page(request, actor, application_id, {}, {})


@router.post("/expert/{application_id}/declare")
def declare(
    request: Request,
    actor: ExpertUser,
    application_id: PathId,
    expected_version: FormVersion,
    confirm: str = Form(""),
) -> Response:
    t = Translator(request_lang(request))
    if confirm != "true":
        return _page(
            request, actor, application_id, {}, {"confirm": t("expert.must_confirm")}, status_code=422
        )
    portal = portal_of(request)
    # The statement kept with the declaration names the applicant the expert was shown.
    parties = case_parties(portal, actor, application_id)
    statement = t("expert.declaration_text", name=parties.enterprise_name, uscc=parties.uscc)
    expert_service.declare(portal, actor, application_id, statement, expected_version)
    flash(request, "expert.flash.declared")
    return RedirectResponse(f"/expert/{application_id}", status_code=303)


@router.post("/expert/{application_id}/recuse")
def recuse(
    request: Request,
    actor: ExpertUser,
    application_id: PathId,
    expected_version: FormVersion,
    reason: str = Form(""),
) -> Response:
    """Refuse the case for a conflict of interest; the lead unit is told to replace the expert."""
    t = Translator(request_lang(request))
    if not reason.strip():
        return _page(
            request, actor, application_id, {}, {"reason": t("expert.error.reason")}, status_code=422
        )
    expert_service.recuse(portal_of(request), actor, application_id, reason, expected_version)
    flash(request, "expert.flash.recused", id=application_id)
    return RedirectResponse("/expert", status_code=303)


@router.get("/expert/{application_id}/attachments/{attachment_id}")
def download_attachment(
    request: Request, actor: ExpertUser, application_id: PathId, attachment_id: PathId
) -> Response:
    """One file of the case, for a declared expert; the download is audited."""
    item, content = download_case_file(portal_of(request), actor, application_id, attachment_id)
    return attachment_response(content, media_type=item.content_type, filename=item.original_name)


@router.post("/expert/{application_id}/score")
async def score(
    request: Request,
    actor: ExpertUser,
    application_id: PathId,
    expected_version: FormVersion,
) -> Response:
    """Check every criterion's score and comment, with one message per field in the reader's language."""
    portal = portal_of(request)
    t = Translator(request_lang(request))
    form = await request.form()
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    scores: dict[str, Decimal] = {}
    comments: dict[str, str] = {}
    # The case's measure chooses the rubric; an unseen case is not found here, as on the page.
    application = await run_in_threadpool(get_application_for, portal, actor, application_id)
    rubric = portal.rubric_for(application.measure_id)
    top = rubric.scale_max
    for criterion in rubric.criteria:
        raw = str(form.get(f"score:{criterion.id}", "")).strip()
        note = str(form.get(f"comment:{criterion.id}", "")).strip()
        values[f"score:{criterion.id}"], values[f"comment:{criterion.id}"] = raw, note
        value = read_decimal(raw)  # as typed: full-width digits too
        if value is None:
            errors[f"score:{criterion.id}"] = t("expert.error.number", max=top)
        else:
            if not (0 <= value <= top):
                errors[f"score:{criterion.id}"] = t("expert.error.range", max=top)
            elif value != value.quantize(Decimal("0.01")):
                errors[f"score:{criterion.id}"] = t("expert.error.decimals")
            else:
                scores[criterion.id] = value
        if len(note) > expert_service.MAX_COMMENT:
            errors[f"comment:{criterion.id}"] = t("expert.error.comment_long", max=expert_service.MAX_COMMENT)
        comments[criterion.id] = note
    if errors:
        return _page(request, actor, application_id, values, errors, status_code=422)
    try:
        await run_in_threadpool(
            expert_service.score, portal, actor, application_id, scores, expected_version, comments
        )
    except ValidationFailed as failed:
        problems = {p.path: t("expert.error.range", max=top) for p in failed.errors}
        return _page(request, actor, application_id, values, problems, status_code=422)
    # Post/Redirect/Get: the confirmation is a flash on the case page, so a refresh sends nothing again.
    flash(request, "expert.flash.scored")
    return RedirectResponse(f"/expert/{application_id}", status_code=303)
