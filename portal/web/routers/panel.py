"""The lead unit's hand on the expert panel: replace an expert, remove one for a conflict, or
remove one who has not scored by their deadline.

Each is a single service call. Removing a conflicted expert whose absence leaves a panel at the
pass mark moves the case on by itself (the service fires the workflow's pass event).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from portal.services import experts as expert_service
from portal.web.flash import flash
from portal.web.params import FormId, FormVersion, PathId
from portal.web.security import require_csrf
from portal.web.session_auth import StaffUser, portal_of

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
MAX_REASON = 2000


@router.post("/review/{application_id}/experts/{expert_id}/replace")
def replace_expert(
    request: Request,
    actor: StaffUser,
    application_id: PathId,
    expert_id: PathId,
    new_expert_id: FormId,
    expected_version: FormVersion,
    reason: str = Form(""),
) -> RedirectResponse:
    """Swap an expert who declined for a conflict, or has not scored in time (409 page otherwise)."""
    expert_service.replace_expert(
        portal_of(request),
        actor,
        application_id,
        expert_id,
        new_expert_id,
        reason[:MAX_REASON],
        expected_version,
    )
    flash(request, "panel.flash.replaced")
    return RedirectResponse(f"/review/{application_id}#panel", status_code=303)


@router.post("/review/{application_id}/experts/{expert_id}/exclude")
def exclude_expert(
    request: Request,
    actor: StaffUser,
    application_id: PathId,
    expert_id: PathId,
    expected_version: FormVersion,
    reason: str = Form(""),
) -> RedirectResponse:
    """Remove an expert for a conflict found later; their score stops counting."""
    expert_service.exclude_conflicted(
        portal_of(request), actor, application_id, expert_id, reason[:MAX_REASON], expected_version
    )
    flash(request, "panel.flash.excluded")
    return RedirectResponse(f"/review/{application_id}#panel", status_code=303)


@router.post("/review/{application_id}/experts/{expert_id}/remove-late")
def remove_late_expert(
    request: Request,
    actor: StaffUser,
    application_id: PathId,
    expert_id: PathId,
    expected_version: FormVersion,
    reason: str = Form(""),
) -> RedirectResponse:
    """Take off the panel an expert who has not scored by their deadline (409 page otherwise)."""
    expert_service.remove_late(
        portal_of(request), actor, application_id, expert_id, reason[:MAX_REASON], expected_version
    )
    flash(request, "panel.flash.removed_late")
    return RedirectResponse(f"/review/{application_id}#panel", status_code=303)
