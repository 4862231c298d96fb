"""The in-app inbox: notifications addressed to the user, their enterprise, or their role and area."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from portal.services import notifications
from portal.web.i18n import Translator, request_lang
from portal.web.inbox_views import note_view
from portal.web.params import PathId
from portal.web.security import require_csrf
from portal.web.session_auth import SignedIn, portal_of
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, actor: SignedIn) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    received = notifications.inbox(portal, actor)
    settled = notifications.settled_work(portal, received)
    notes = [note_view(portal, note, t, settled=note.id in settled) for note in received]
    return render(request, "portal/inbox.html", {"actor": actor, "notes": notes})


@router.post("/inbox/{notification_id}/read")
def mark_read(request: Request, actor: SignedIn, notification_id: PathId) -> RedirectResponse:
    notifications.mark_read(portal_of(request), actor, notification_id)
    return RedirectResponse("/inbox", status_code=303)
