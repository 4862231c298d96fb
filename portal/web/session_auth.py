"""Who is signed in: the server-side session names a user, every request turns it into an `Actor`.

The account is re-read on every request (not cached in the cookie) so that deactivating a
user or changing their district takes effect at once. Pages redirect an anonymous visitor to
the login page; the JSON API answers 401 instead, because a script cannot follow a login form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from portal.services.access import actor_for_user
from portal.services.context import Portal
from portal.services.errors import Forbidden, NotFound
from portal.services.verified import is_verified
from portal.web.errors import Problem, is_api
from portal.web.session_store import session_handle
from portal.workflows import Actor


class LoginRequired(Exception):
    """Raised for an anonymous page request; the handler redirects to /login?next=…."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def sign_in(request: Request, user_id: int) -> None:
    """Start a fresh session for `user_id`; the token rotates, so a planted one is useless (fixation)."""
    session_handle(request).sign_in(user_id)


def sign_out(request: Request) -> None:
    """End this session on every instance."""
    session_handle(request).sign_out()


def optional_actor(request: Request) -> Actor | None:
    """The signed-in actor, or None for an anonymous visitor or a deactivated/deleted account."""
    handle = session_handle(request)
    if handle.user_id is None:
        return None
    try:
        return actor_for_user(portal_of(request), handle.user_id)
    except (NotFound, Forbidden):
        handle.sign_out()
        return None


def current_actor(request: Request) -> Actor:
    """Dependency: the signed-in actor; anonymous pages go to the login page, the API gets 401."""
    actor = optional_actor(request)
    if actor is not None:
        return actor
    if is_api(request):
        raise Problem(401, "Sign in first.", headers={"WWW-Authenticate": "Session"})
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequired(quote(here, safe="/"))


def require_role(*roles: str) -> Callable[[Request], Actor]:
    """Dependency factory: the signed-in actor if their role is one of `roles`, else 403."""

    def dependency(request: Request) -> Actor:
        actor = current_actor(request)
        if actor.role not in roles:
            raise HTTPException(status_code=403, detail="This page is not for your role.")
        if actor.enterprise_id is not None:
            request.state.enterprise_unverified = not is_verified(portal_of(request), actor.enterprise_id)
        return actor

    return dependency


def visitor(request: Request) -> Actor | None:
    """Dependency for public pages that say more to a signed-in enterprise (the catalogue's badges)."""
    actor = optional_actor(request)
    if actor is not None and actor.enterprise_id is not None:
        request.state.enterprise_unverified = not is_verified(portal_of(request), actor.enterprise_id)
    return actor


# Route parameters: `actor: EnterpriseUser` both authenticates and authorises the role.
SignedIn = Annotated[Actor, Depends(current_actor)]
EnterpriseUser = Annotated[Actor, Depends(require_role("enterprise"))]
StaffUser = Annotated[Actor, Depends(require_role("reviewer", "admin"))]
ExpertUser = Annotated[Actor, Depends(require_role("expert"))]
AdminUser = Annotated[Actor, Depends(require_role("admin"))]
# The supervision dashboard (监管评估): read-only, for supervisors and the admin.
SupervisorUser = Annotated[Actor, Depends(require_role("supervisor", "admin"))]
Visitor = Annotated[Actor | None, Depends(visitor)]
