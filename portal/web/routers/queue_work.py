"""Ownership of cases and saved queue views: claim, unclaim, assign, a head's bulk move, views.

Every form posts with the CSRF token and redirects back (303); the services decide who may do
what, so a reviewer of another district gets the same 404 as for a case that does not exist.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from portal.services import assignment, bulk, saved_views
from portal.services.case_files import enterprises_by_id
from portal.services.errors import ValidationFailed
from portal.web.case_views import case_row
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import FormId, PathId
from portal.web.review_queue import QueueFilter
from portal.web.security import require_csrf
from portal.web.session_auth import StaffUser, portal_of
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
SeenHolder = Annotated[int | None, Form(ge=1, le=2**31 - 1)]


@router.post("/review/{application_id}/claim")
def claim(request: Request, actor: StaffUser, application_id: PathId) -> RedirectResponse:
    assignment.claim(portal_of(request), actor, application_id)
    flash(request, "queue.flash.claimed", id=application_id)
    return RedirectResponse(f"/review/{application_id}", status_code=303)


@router.post("/review/{application_id}/unclaim")
def unclaim(request: Request, actor: StaffUser, application_id: PathId) -> RedirectResponse:
    assignment.unclaim(portal_of(request), actor, application_id)
    flash(request, "queue.flash.unclaimed", id=application_id)
    return RedirectResponse(f"/review/{application_id}", status_code=303)


@router.post("/review/{application_id}/assign")
def assign(
    request: Request, actor: StaffUser, application_id: PathId, assignee_id: FormId, seen: SeenHolder = None
) -> RedirectResponse:
    """Give the case to a colleague; `seen` is the holder the page showed (refused if it changed)."""
    portal = portal_of(request)
    assignment.assign(portal, actor, application_id, assignee_id, seen)
    name = assignment.holder_names(portal, {assignee_id}).get(assignee_id, "")
    flash(request, "queue.flash.assigned", id=application_id, name=name)
    return RedirectResponse(f"/review/{application_id}", status_code=303)


def _team_page(
    request: Request, actor: StaffUser, extra: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    members = assignment.unit_members(portal_of(request), actor)
    context = {"actor": actor, "members": members, "chosen": {}, **extra}
    return render(request, "portal/review_team.html", context, status_code)


@router.get("/review/team/move", response_class=HTMLResponse)
def team(request: Request, actor: StaffUser) -> HTMLResponse:
    """The unit head's page: move every case an absent colleague holds to another one."""
    return _team_page(request, actor, {"outcomes": None, "errors": {}})


@router.post("/review/team/move", response_class=HTMLResponse)
def move(request: Request, actor: StaffUser, from_user: FormId, to_user: FormId) -> HTMLResponse:
    t = Translator(request_lang(request))
    chosen = {"from_user": from_user, "to_user": to_user}  # shown again as picked
    if from_user == to_user:
        extra = {"outcomes": None, "errors": {"to_user": t("team.same")}, "chosen": chosen}
        return _team_page(request, actor, extra, 422)
    try:
        outcomes = assignment.move_cases(portal_of(request), actor, from_user, to_user)
    except ValidationFailed as failed:
        errors = {e.path: t(f"team.error.{e.code}") for e in failed.errors}
        return _team_page(request, actor, {"outcomes": None, "errors": errors, "chosen": chosen}, 422)
    return _team_page(request, actor, {"outcomes": outcomes, "errors": {}})


@router.post("/review/views")
async def save_view(request: Request, actor: StaffUser) -> Response:
    """Save the queue's current filters (sent as hidden fields) under a name."""
    form = await request.form()
    fields = {name: str(form.get(name) or "")[:200] for name in QueueFilter.__dataclass_fields__}
    chosen = QueueFilter(**{k: v for k, v in fields.items() if k != "after"})
    query = chosen.url("").lstrip("?")
    try:  # synchronous database work: in the thread pool, never on the event loop
        view = await run_in_threadpool(
            saved_views.save_view, portal_of(request), actor, str(form.get("name") or "")[:200], query
        )
    except ValidationFailed as failed:
        return RedirectResponse(chosen.url(view_error=failed.errors[0].code), status_code=303)
    return RedirectResponse(f"/review/views/{view.id}", status_code=303)


@router.get("/review/views/{view_id}")
def open_view(request: Request, actor: StaffUser, view_id: PathId) -> RedirectResponse:
    """A view's bookmarkable address: the queue with the view's filters."""
    view = saved_views.get_view(portal_of(request), actor, view_id)
    return RedirectResponse(f"/review?{view.query}" if view.query else "/review", status_code=303)


@router.post("/review/views/{view_id}/delete")
def delete_view(request: Request, actor: StaffUser, view_id: PathId) -> RedirectResponse:
    saved_views.delete_view(portal_of(request), actor, view_id)
    return RedirectResponse("/review", status_code=303)


def _bulk_items(values: list[str]) -> list[tuple[int, int]]:
    """The checked cases as (id, version seen); 422 for anything that is not `<id>:<version>`."""
    items = []
    for value in values:
        match = re.fullmatch(r"(\d{1,9}):(\d{1,9})", value)
        if match is None:
            raise HTTPException(422, "each case is sent as <id>:<version>")
        items.append((int(match.group(1)), int(match.group(2))))
    return items[: bulk.MAX_BULK]


async def _bulk_form(request: Request) -> tuple[str, list[tuple[int, int]]]:
    form = await request.form()
    cases = [v for v in form.getlist("case") if isinstance(v, str)]
    return str(form.get("event") or ""), _bulk_items(cases)


def _event_label(request: Request, actor: StaffUser, event: str) -> str:
    labels = bulk.bulk_events(portal_of(request), actor)
    if event not in labels:
        raise HTTPException(422, "this action cannot be taken in bulk")
    return labels[event]["en" if request_lang(request) == "en" else "zh"]


@router.post("/review/bulk", response_class=HTMLResponse)
async def bulk_confirm(request: Request, actor: StaffUser) -> HTMLResponse:
    """The confirm page: the cases the action can be taken on, and those left out with the reason."""
    event, items = await _bulk_form(request)
    action = _event_label(request, actor, event)
    rows, left_out = await run_in_threadpool(_preview_rows, request, actor, event, items)
    context = {
        "actor": actor,
        "event": event,
        "action": action,
        "rows": rows,
        "left_out": left_out,
        "outcomes": None,
    }
    return render(request, "portal/review_bulk.html", context, 200 if rows else 422)


def _preview_rows(
    request: Request, actor: StaffUser, event: str, items: list[tuple[int, int]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The selection as the confirm page lists it: the ready cases, then those left out."""
    portal = portal_of(request)
    t = Translator(request_lang(request))
    preview = bulk.preview_bulk(portal, actor, event, items)
    seen = {c.application.enterprise_id for c in preview.ready + preview.left_out if c.application}
    enterprises = enterprises_by_id(portal, seen)

    def row(case: bulk.BulkCase) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": case.application_id, "version": case.version, "reason": case.left_out}
        if case.application is None:  # nothing of a case outside the reviewer's remit is shown
            return shown | {"enterprise": "", "stage": ""}
        enterprise = enterprises[case.application.enterprise_id]
        stage = case_row(portal, case.application, t, enterprise).stage
        return shown | {"enterprise": enterprise.name, "stage": stage}

    return [row(c) for c in preview.ready], [row(c) for c in preview.left_out]


@router.post("/review/bulk/run", response_class=HTMLResponse)
async def bulk_run(request: Request, actor: StaffUser) -> HTMLResponse:
    """Take the action on each case in its own transaction, then say what became of each."""
    event, items = await _bulk_form(request)
    action = _event_label(request, actor, event)
    outcomes = await run_in_threadpool(bulk.run_bulk, portal_of(request), actor, event, items)
    context = {"actor": actor, "event": event, "action": action, "rows": [], "outcomes": outcomes}
    return render(request, "portal/review_bulk.html", context)
