"""The "are you sure?" step before an action that cannot be undone, and the comment kept across it.

The strict CSP forbids inline script, so there is no confirm() dialog: the first POST of an
irreversible action answers with a page of its own that says what will happen and shows the
comment, and only a second POST carrying `confirm=yes` does it. Which actions need this comes
from the workflow (`Workflow.irreversible`: a `danger` edge or one into a final stage).

The typed comment is also kept in the server-side session while the person decides, or after
someone else acted first (409), so going back to the case finds it in its box again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.requests import HTTPConnection

from portal.db.tables import Application
from portal.services.cases import Moved
from portal.web.case_views import label, measure_title
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.session_auth import portal_of
from portal.web.templating import render
from portal.workflows import Actor, Workflow

CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"
_KEPT_KEY = "kept_comment"


def confirmed(value: str) -> bool:
    return value == CONFIRM_VALUE


def keep_comment(conn: HTTPConnection, application_id: int, event: str, comment: str) -> None:
    """Remember the typed comment for this case, to fill the box again on the way back."""
    if comment.strip():
        conn.session[_KEPT_KEY] = {"case": application_id, "event": event, "comment": comment}


def kept_comment(conn: HTTPConnection, application_id: int) -> dict[str, str] | None:
    """The kept comment for this case ({"event", "comment"}), taken out of the session."""
    kept: Any = conn.session.get(_KEPT_KEY)
    if not isinstance(kept, dict) or kept.get("case") != application_id:
        return None
    del conn.session[_KEPT_KEY]
    return {"event": str(kept.get("event", "")), "comment": str(kept.get("comment", ""))}


def forget_comment(conn: HTTPConnection) -> None:
    conn.session.pop(_KEPT_KEY, None)


def _pair(text: Any) -> dict[str, str]:
    return {"zh": label(text, "zh"), "en": label(text, "en")}


def flash_moved(conn: HTTPConnection, workflow: Workflow, event: str, moved: Moved) -> None:
    """Say what the action did, in whichever language the next page is read in."""
    edge = next(e for e in workflow.transitions_from(moved.from_state) if e.event == event)
    key = "flash.stayed" if moved.to_state == moved.from_state else "flash.moved"
    flash(conn, key, action=_pair(edge.label), stage=_pair(workflow.state(moved.to_state).label))


def confirm_page(
    request: Request,
    actor: Actor,
    application: Application,
    workflow: Workflow,
    event: str,
    *,
    action_url: str,
    back_url: str,
    fields: Sequence[tuple[str, str]],
    comment: str,
    comment_asked: bool = True,
) -> HTMLResponse:
    """The page that asks once more, carrying everything the first POST had as hidden fields.

    `comment_asked` is False where the page the action came from has no comment field (an
    enterprise withdrawing its case): "no comment given" would then blame it for a missing box.
    """
    t = Translator(request_lang(request))
    edge = next(e for e in workflow.transitions_from(application.state) if e.event == event)
    assert application.id is not None
    keep_comment(request, application.id, event, comment)
    context = {
        "actor": actor,
        "case_id": application.id,
        "measure": measure_title(portal_of(request).pack, application.measure_id, t.lang),
        "comment_asked": comment_asked,
        "action": label(edge.label, t.lang),
        "stage": label(workflow.state(edge.target).label, t.lang),
        "danger": edge.style == "danger",
        "comment": comment,
        "action_url": action_url,
        "back_url": back_url,
        "fields": [*fields, ("comment", comment), (CONFIRM_FIELD, CONFIRM_VALUE)],
    }
    return render(request, "portal/confirm_action.html", context)


def stale_page(request: Request, actor: Actor, back_url: str) -> HTMLResponse:
    """The 409 answer to an action someone else beat: it leads back to the case, comment kept."""
    t = Translator(request_lang(request))
    context = {
        "actor": actor,
        "status": 409,
        "key": "error.409",
        "detail": t("flash.stale_kept"),
        "back": back_url,
        "back_label": t("error.409.back_case"),
    }
    return render(request, "errors/service_error.html", context, status_code=409)
