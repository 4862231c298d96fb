"""The in-app inbox: notifications addressed to the user, their enterprise, or their role and area."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from portal.services import notifications
from portal.web.params import PathId
from portal.web.security import require_csrf
from portal.web.session_auth import SignedIn, portal_of
from portal.web.templating import render

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, actor: SignedIn) -> HTMLResponse:
    notes = notifications.inbox(portal_of(request), actor)
    return render(request, "portal/inbox.html", {"actor": actor, "notes": notes})


@router.post("/inbox/{notification_id}/read")
def mark_read(request: Request, actor: SignedIn, notification_id: PathId) -> RedirectResponse:
    notifications.mark_read(portal_of(request), actor, notification_id)
    return RedirectResponse("/inbox", status_code=303)
