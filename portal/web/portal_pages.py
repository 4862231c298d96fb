"""The signed-in portal's routers and error mapping, added to the app in one call.

Kept apart from `app.py` so the foundation (middleware, public pages, probes) reads on its own
and the portal's pages can be reasoned about as one unit.
"""

from __future__ import annotations

from fastapi import FastAPI

from portal.web.routers import (
    account,
    admin,
    admin_banks,
    application_check,
    applications,
    applications_api,
    auth,
    case_outcomes,
    catalogue,
    consents,
    enterprise,
    enterprise_file,
    experts,
    exports,
    grants,
    inbox,
    notices,
    oidc,
    panel,
    payments,
    procurement,
    queue_work,
    review,
    screening,
    supervision,
    verification,
)
from portal.web.service_errors import install_service_error_handlers

ROUTERS = (
    auth.router,
    account.router,
    enterprise.router,
    catalogue.router,
    grants.router,
    applications.router,
    application_check.router,
    queue_work.router,
    review.router,
    case_outcomes.router,
    panel.router,
    notices.router,
    experts.router,
    exports.router,
    enterprise_file.router,
    payments.router,
    payments.posts,
    supervision.router,
    admin.router,
    admin_banks.router,
    inbox.router,
    applications_api.router,
    consents.router,
    procurement.router,
    procurement.api,
    verification.router,
    oidc.router,
    screening.router,
)


def install_portal_pages(app: FastAPI) -> None:
    """Needs `app.state.portal` (the services' `Portal`) to be set before the first request."""
    install_service_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
