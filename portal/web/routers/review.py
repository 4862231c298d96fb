"""The reviewers' back office: the queue, the case view and the actions the workflow allows.

The buttons are exactly `allowed_events` for this reviewer in this stage, and each form carries
the version the reviewer saw: if someone acted first the service refuses with StaleVersion and
the reviewer gets the 409 page instead of overwriting a decision they never saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from portal.db.tables import AuditEvent
from portal.services import applications as app_service
from portal.services import assignment, grants, notices, saved_views
from portal.services import experts as expert_service
from portal.services.access import get_application_for, same_measure_cases
from portal.services.amendments import RETURN_EVENT, reopened_per_return, return_for_amendment
from portal.services.bulk import bulk_events
from portal.services.case_files import (
    audit_names,
    audit_trail,
    case_files,
    download_case_file,
    enterprises_by_id,
    judged_today,
    submitted_files,
)
from portal.services.context import Portal
from portal.services.errors import StaleVersion
from portal.services.queue import SORT_KEYS, queue_page
from portal.web.case_outcome_views import (
    notice_context,
    outcome_context,
    ownership_context,
    panel_context,
    payment_context,
)
from portal.web.case_views import (
    answer_rows,
    case_row,
    file_change_rows,
    history_rows,
    label,
    trace_comparison,
)
from portal.web.confirm_step import (
    confirm_page,
    confirmed,
    flash_moved,
    forget_comment,
    keep_comment,
    kept_comment,
    stale_page,
)
from portal.web.downloads import attachment_response
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import FormId, FormVersion, PathId
from portal.web.review_queue import QueueFilter, filter_options
from portal.web.security import require_csrf
from portal.web.session_auth import StaffUser, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
MAX_COMMENT = 2000


VIEW_ERRORS = ("length", "too_long", "too_many", "taken")


@router.get("/review", response_class=HTMLResponse)
def queue(
    request: Request, actor: StaffUser, chosen: Annotated[QueueFilter, Depends()], view_error: str = ""
) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    page = queue_page(portal, actor, chosen.query())
    holders = assignment.holder_names(portal, {a.assignee_id for a, _ in page.rows if a.assignee_id})
    holds = notices.held_by_objections(portal, actor, [c.id for c, _ in page.rows if c.id is not None])
    rows = [
        (
            case_row(portal, c, t, enterprise, held_since=holds.get(c.id or 0)),
            holders.get(c.assignee_id or 0, ""),
        )
        for c, enterprise in page.rows
    ]
    context = {
        "actor": actor,
        "cases": rows,
        "filters": filter_options(portal, actor, t.lang),
        "filter_labels": {"track": portal.city.tracks.called(t.lang, t("queue.filter.track"))},
        "chosen": chosen.chosen(),
        "sorts": SORT_KEYS,
        "export_query": chosen.url("").lstrip("?"),
        "next_url": chosen.url(after=page.next_cursor) if page.next_cursor else None,
        "first_url": chosen.url() if chosen.after else None,
        "views": saved_views.list_views(portal, actor),
        "view_error": view_error if view_error in VIEW_ERRORS else "",
        "heads_unit": bool(assignment.unit_members(portal, actor)),
        "bulk_events": [
            (e, text["en" if t.lang == "en" else "zh"]) for e, text in bulk_events(portal, actor).items()
        ],
    }
    return render(request, "portal/review_queue.html", context)


def case_page_context(request: Request, actor: Actor, application_id: int) -> dict[str, Any]:
    """Everything the case view shows; each read re-checks that this reviewer may see the case."""
    portal = portal_of(request)
    lang = request_lang(request)
    t = Translator(lang)
    application = get_application_for(portal, actor, application_id)
    enterprise = enterprises_by_id(portal, {application.enterprise_id})[application.enterprise_id]
    workflow = portal.workflows[application.workflow]
    row = case_row(
        portal,
        application,
        t,
        enterprise,
        held_since=notices.held_by_objection(portal, actor, application_id),
    )
    answers, diff = answer_rows(
        portal.forms.get(application.measure_id),
        app_service.answer_versions(portal, actor, application_id),
        lang,
    )
    now = judged_today(portal, actor, application_id, lang)
    steps = {edge.event: label(edge.label, lang) for edge in workflow.transitions}
    stages = {state.name: label(state.label, lang) for state in workflow.states}
    spec = portal.forms.get(application.measure_id)
    trail = audit_trail(portal, actor, application_id)
    files = case_files(portal, actor, application_id)  # what was submitted: not an amendment's drafts
    sent = submitted_files(portal, actor, application_id)
    changes = sent.changes()
    return {
        "actor": actor,
        "case": {**row.__dict__, "uscc": enterprise.uscc},
        "same_measure": [case_row(portal, o, t) for o in same_measure_cases(portal, actor, application)],
        "events": app_service.allowed_events(portal, actor, application_id),
        "sections": [(s.id, s.title.get(lang)) for s in spec.sections] if spec else [],
        "answers": answers,
        "diff": diff,
        "trace": trace_comparison(
            portal.pack, application.measure_id, application.eligibility_trace, now, lang
        ),
        "attachments": files,
        "slot_labels": {s.id: s.label.get(lang) for s in (spec.attachments.values() if spec else ())},
        "earlier_files": sent.earlier(files),
        "new_files": sent.added(),
        "submission": sent.count,
        "amending": workflow.state(application.state).kind == "amendment",
        "file_changes": None
        if changes is None
        else {"old": sent.count - 1, "new": sent.count, "rows": file_change_rows(changes, spec, t)},
        "history": history_rows(
            app_service.history(portal, actor, application_id),
            workflow,
            lang,
            portal.clock,
            reopened_per_return(portal, actor, application_id),
            spec,
            grants.withdrawals_in(trail),
        ),
        "audit": audit_rows(portal, trail, steps, stages, t),
        "kept": kept_comment(request, application_id),
        "errors": {},
        "experts": expert_service.panel_candidates(portal, actor, application_id)
        if workflow.state(application.state).kind == "expert"
        else [],
        **outcome_context(request, actor, application),
        **panel_context(request, actor, application),
        **notice_context(request, actor, application),
        **ownership_context(request, actor, application),
        **payment_context(request, actor, application),
    }


def _audit_actor(name: str | None, role: str, t: Translator) -> str:
    if role == "system":
        return t("audit.actor.system")
    role_label = t.label_or(f"role.{role}", role)
    return t("audit.actor", name=name, role=role_label) if name else role_label


def audit_rows(
    portal: Portal,
    events: list[AuditEvent],
    steps: Mapping[str, str],
    stages: Mapping[str, str],
    t: Translator,
) -> list[dict[str, Any]]:
    """The case's audit trail (`audit_trail`) as people read it: who by name and role, what by its label."""
    names = audit_names(portal, events)
    return [
        {
            "seq": e.seq,
            "at": portal.clock.in_words(e.at, t.lang),
            "event": steps.get(e.event) or t.label_or(f"audit.event.{e.event}", t("audit.event.other")),
            "to_state": stages.get(e.to_state or "", e.to_state),
            "actor": _audit_actor(names.get(e.seq), e.actor_role, t),
            "comment": e.comment,
        }
        for e in events
    ]


@router.get("/review/{application_id}", response_class=HTMLResponse)
def case_view(request: Request, actor: StaffUser, application_id: PathId) -> HTMLResponse:
    return render(request, "portal/review_case.html", case_page_context(request, actor, application_id))


@router.post("/review/{application_id}/transition", response_class=HTMLResponse)
async def transition(
    request: Request,
    actor: StaffUser,
    application_id: PathId,
    expected_version: FormVersion,
    event: str = Form(...),
    comment: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    form = await request.form()
    sections = [s for s in form.getlist("sections") if isinstance(s, str)]
    step = Step(event, comment.strip()[:MAX_COMMENT], sections, expected_version, confirmed(confirm))
    # Synchronous database work: in the thread pool, never on the event loop.
    return await run_in_threadpool(_transition, request, actor, application_id, step)


@dataclass(frozen=True)
class Step:
    """What one action form posted: the event, its comment and sections, the version seen."""

    event: str
    comment: str
    sections: list[str]
    expected_version: int
    confirmed: bool


def _transition(request: Request, actor: StaffUser, application_id: int, step: Step) -> Response:
    """Fire the event, after a page of its own asking once more when the workflow says it is final."""
    portal = portal_of(request)
    application = get_application_for(portal, actor, application_id)
    workflow = portal.workflows[application.workflow]
    if not step.comment and any(
        edge.comment_required
        for edge in workflow.transitions_from(application.state)
        if edge.event == step.event
    ):  # said before the confirm step: the box is named at the top and keeps what was ticked
        return _comment_missing(request, actor, application_id, step)
    if not step.confirmed and workflow.irreversible(application.state, step.event):
        return confirm_page(
            request, actor, application, workflow, step.event,
            action_url=f"/review/{application_id}/transition",
            back_url=f"/review/{application_id}",
            fields=[
                ("event", step.event),
                ("expected_version", str(step.expected_version)),
                *(("sections", s) for s in step.sections),
            ],
            comment=step.comment,
        )  # fmt: skip
    text = step.comment or None
    try:
        if step.event == RETURN_EVENT:
            moved = return_for_amendment(
                portal, actor, application_id,
                sections=step.sections, comment=text, expected_version=step.expected_version,
            )  # fmt: skip
        else:
            moved = app_service.transition(
                portal, actor, application_id, step.event, text, step.expected_version
            )
    except StaleVersion:
        # Someone acted first: nothing happened, and the comment waits in its box on the case page.
        keep_comment(request, application_id, step.event, step.comment)
        return stale_page(request, actor, f"/review/{application_id}")
    forget_comment(request)
    flash_moved(request, workflow, step.event, moved)
    return RedirectResponse(f"/review/{application_id}", status_code=303)


def _comment_missing(request: Request, actor: StaffUser, application_id: int, step: Step) -> HTMLResponse:
    """The case page again, its error summary naming the empty comment box of this action."""
    t = Translator(request_lang(request))
    context = {
        **case_page_context(request, actor, application_id),
        "kept": {"event": step.event, "comment": step.comment, "sections": step.sections},
        "errors": {"comment": t("review.comment_required")},
        "error_labels": {"comment": "review.comment"},
        "error_targets": {"comment": f"comment-{step.event}"},
    }
    return render(request, "portal/review_case.html", context, status_code=422)


@router.get("/review/{application_id}/attachments/{attachment_id}")
def download_attachment(
    request: Request, actor: StaffUser, application_id: PathId, attachment_id: PathId
) -> Response:
    item, content = download_case_file(portal_of(request), actor, application_id, attachment_id)
    return attachment_response(content, media_type=item.content_type, filename=item.original_name)


@router.post("/review/{application_id}/experts")
def assign_expert(
    request: Request,
    actor: StaffUser,
    application_id: PathId,
    expert_id: FormId,
    expected_version: FormVersion,
) -> RedirectResponse:
    """Put an expert on the panel; the service refuses (409 page, with the reason) a conflicted one."""
    portal = portal_of(request)
    expert_service.assign_expert(portal, actor, application_id, expert_id, expected_version)
    members = expert_service.panel_view(portal, actor, application_id).members
    name = next(m.name for m in members if m.expert_id == expert_id)
    flash(request, "flash.expert_assigned", name=name)
    return RedirectResponse(f"/review/{application_id}", status_code=303)
