"""The applications JSON API beside the pages: the same services, answers as JSON, errors as problems.

Authentication is the portal session (sign in through the page); because a cookie rides along
on any cross-site request, every unsafe call must also send the session's CSRF token in
`X-CSRF-Token`, which `GET /api/v1/session` hands out. Bodies are parsed with Decimal for
numbers, so money sent as 1234.5 stays exact instead of passing through a binary float.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NoReturn

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from portal.db.tables import Application
from portal.services import applications as app_service
from portal.services.access import get_application_for, list_applications_for
from portal.services.amendments import RETURN_EVENT, return_for_amendment
from portal.services.cases import Moved
from portal.web.errors import Problem
from portal.web.json_body import read_object
from portal.web.params import MAX_DB_INT, PathId, QueryVersion
from portal.web.security import csrf_token, require_csrf
from portal.web.session_auth import SignedIn, portal_of

router = APIRouter(prefix="/api/v1", tags=["applications"], dependencies=[Depends(require_csrf)])
MAX_COMMENT = 2000


def _reject(status: int, detail: str, **extra: Any) -> NoReturn:
    raise Problem(status, detail, **extra)


def _version(doc: dict[str, Any]) -> int:
    value = doc.get("expected_version")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DB_INT:
        _reject(
            422, f"`expected_version` must be an integer from 1 to {MAX_DB_INT}.", field="expected_version"
        )
    return value


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _summary(application: Application) -> dict[str, object]:
    return {
        "id": application.id,
        "measure_id": application.measure_id,
        "state": application.state,
        "version": application.version,
        "district": application.district,
        "lead_unit": application.lead_unit,
        "due_on": _jsonable(application.due_on),
        "eligibility_outcome": application.eligibility_outcome,
        "submitted_at": _jsonable(application.submitted_at),
    }


def _moved(moved: Moved) -> dict[str, object]:
    return {
        "id": moved.application_id,
        "from": moved.from_state,
        "state": moved.to_state,
        "version": moved.version,
    }


@router.get("/session", summary="The signed-in user and the CSRF token for unsafe calls")
def session_info(request: Request, actor: SignedIn) -> dict[str, object]:
    return {"user_id": actor.user_id, "role": actor.role, "csrf_token": csrf_token(request)}


@router.get("/applications", summary="Applications the signed-in user may see")
def list_applications(request: Request, actor: SignedIn) -> dict[str, object]:
    return {"applications": [_summary(a) for a in list_applications_for(portal_of(request), actor)]}


@router.post("/applications", status_code=201, summary="Start a draft application for a measure")
async def create_application(request: Request, actor: SignedIn) -> JSONResponse:
    doc = await read_object(request, required={"measure_id"}, allowed={"measure_id"})
    if not isinstance(doc["measure_id"], str):
        _reject(422, "`measure_id` must be a string.", field="measure_id")
    application = await run_in_threadpool(
        app_service.create_draft, portal_of(request), actor, doc["measure_id"]
    )
    headers = {"Location": f"/api/v1/applications/{application.id}"}
    return JSONResponse(_summary(application), status_code=201, headers=headers)


@router.get("/applications/{application_id}", summary="One application with its latest answers and history")
def read_application(request: Request, actor: SignedIn, application_id: PathId) -> dict[str, object]:
    portal = portal_of(request)
    application = get_application_for(portal, actor, application_id)
    versions = app_service.answer_versions(portal, actor, application_id)
    history = app_service.history(portal, actor, application_id)
    return {
        **_summary(application),
        "answers": _jsonable(versions[-1].answers) if versions else {},
        "answers_version": versions[-1].version if versions else None,
        "history": [
            {
                "event": h.event,
                "from": h.from_state,
                "to": h.to_state,
                "comment": h.comment,
                "at": _jsonable(h.at),
            }
            for h in history
        ],
        "allowed_events": [e.name for e in app_service.allowed_events(portal, actor, application_id)],
    }


@router.put("/applications/{application_id}/answers", summary="Save draft answers (partial answers are fine)")
async def save_answers(request: Request, actor: SignedIn, application_id: PathId) -> dict[str, object]:
    doc = await read_object(
        request, required={"answers", "expected_version"}, allowed={"answers", "expected_version", "lang"}
    )
    if not isinstance(doc["answers"], dict):
        _reject(422, "`answers` must be an object keyed by field name.", field="answers")
    lang = "en" if doc.get("lang") == "en" else "zh"
    application = await run_in_threadpool(
        app_service.save_draft,
        portal_of(request),
        actor,
        application_id,
        doc["answers"],
        _version(doc),
        lang=lang,
    )
    return _summary(application)


@router.post("/applications/{application_id}/submit", summary="Submit (or resubmit after amendment)")
async def submit(request: Request, actor: SignedIn, application_id: PathId) -> dict[str, object]:
    doc = await read_object(request, required={"expected_version"}, allowed={"expected_version", "lang"})
    lang = "en" if doc.get("lang") == "en" else "zh"
    moved = await run_in_threadpool(
        app_service.submit, portal_of(request), actor, application_id, _version(doc), lang=lang
    )
    return _moved(moved)


@router.delete("/applications/{application_id}", summary="Withdraw an application before approval")
def withdraw(
    request: Request, actor: SignedIn, application_id: PathId, expected_version: QueryVersion
) -> dict[str, object]:
    return _moved(app_service.withdraw(portal_of(request), actor, application_id, expected_version))


@router.post(
    "/applications/{application_id}/transitions",
    summary="Fire a review event; a stale expected_version gets 409 and changes nothing",
    responses={409: {"description": "Stale version, or the workflow refuses the event"}},
)
async def fire_transition(request: Request, actor: SignedIn, application_id: PathId) -> Response:
    doc = await read_object(
        request,
        required={"event", "expected_version"},
        allowed={"event", "comment", "expected_version", "sections"},
    )
    event, comment = doc["event"], doc.get("comment")
    if not isinstance(event, str):
        _reject(422, "`event` must be a string.", field="event")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        _reject(422, f"`comment` must be text of at most {MAX_COMMENT} characters.", field="comment")
    sections = doc.get("sections", [])
    if not (isinstance(sections, list) and all(isinstance(s, str) for s in sections)):
        _reject(422, "`sections` must be a list of form section ids.", field="sections")
    portal = portal_of(request)
    text = comment.strip() or None if isinstance(comment, str) else None
    # The services are synchronous database work: in the thread pool, never on the event loop.
    if event == RETURN_EVENT:
        moved = await run_in_threadpool(
            return_for_amendment,
            portal, actor, application_id, sections=sections, comment=text, expected_version=_version(doc),
        )  # fmt: skip
    else:
        moved = await run_in_threadpool(
            app_service.transition, portal, actor, application_id, event, text, _version(doc)
        )
    return JSONResponse(_moved(moved))
