"""The FastAPI application: `create_app(settings)` wires engines, middleware and routers.

Run it with `uvicorn --factory portal.web.app:make_app` (or `portal serve`). There is no
module-level app object, so importing this module reads no settings and loads no pack.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from portal.db import migrations
from portal.db.engine import make_engine
from portal.services.context import Portal
from portal.services.web_sessions import SessionTimeouts
from portal.settings import Settings, get_settings
from portal.web import observability
from portal.web.errors import UnhandledErrorMiddleware, install_error_handlers
from portal.web.input_guard import reject_hostile_text
from portal.web.observability import MetricsMiddleware
from portal.web.openapi_contract import contract_openapi
from portal.web.portal_pages import install_portal_pages
from portal.web.ratelimit import SlidingWindowLimiter
from portal.web.routers import audit_public, bank_api, check_api, health, pages, problems, self_check, verify
from portal.web.security import SecurityHeadersMiddleware
from portal.web.session_store import ServerSessionMiddleware
from portal.web.templating import make_environment

STATIC_DIR = Path(__file__).with_name("static")


class MissingSecretKey(RuntimeError):
    """The app cannot bind CSRF tokens (shared by every instance) without PORTAL_SECRET_KEY."""


def create_app(settings: Settings) -> FastAPI:
    """A fully wired app; the pack and forms are loaded once here, not per request."""
    if settings.secret_key is None:
        raise MissingSecretKey("PORTAL_SECRET_KEY is not set (every instance must share one key)")
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    # Swagger UI and ReDoc pull scripts from a CDN and inline them, which the offline machines and
    # our CSP both forbid; the machine-readable /openapi.json stays.
    app = FastAPI(
        title="政策兑现平台 API",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(reject_hostile_text)],
    )
    jinja = make_environment()
    app.state.settings = settings
    # The services' view of the pack is the app's: loaded once and shared by pages and API.
    portal = Portal.from_settings(settings, engine=engine)
    app.state.portal = portal
    app.state.pack = portal.pack
    app.state.forms = portal.forms
    app.state.engine = engine
    app.state.jinja = jinja
    # One storage for every limit: Redis when configured, so all workers and instances share it.
    limits_storage = settings.redis_url or "memory://"
    app.state.check_limiter = SlidingWindowLimiter(
        settings.check_rate_limit_per_minute, 60.0, storage_uri=limits_storage, name="check"
    )
    app.state.bank_limiter = SlidingWindowLimiter(
        settings.bank_rate_limit_per_minute, 60.0, storage_uri=limits_storage, name="bank"
    )
    app.state.login_limiter = SlidingWindowLimiter(
        settings.login_ip_rate_limit_per_minute, 60.0, storage_uri=limits_storage, name="login-ip"
    )
    app.state.objection_limiter = SlidingWindowLimiter(
        settings.objection_rate_limit_per_hour, 3600.0, storage_uri=limits_storage, name="objection"
    )

    # Added innermost first: unhandled errors become pages inside the session and header layers.
    app.add_middleware(UnhandledErrorMiddleware, env=jinja)
    app.state.csrf_secret = settings.secret_key.get_secret_value().encode()
    app.add_middleware(
        ServerSessionMiddleware,
        timeouts=SessionTimeouts(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_max_hours),
        ),
        https=settings.https,
    )
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    app.add_middleware(MetricsMiddleware)
    # Outermost: the request id is set before anything logs, and returned on every answer.
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    install_error_handlers(app)
    app.state.migration_head = migrations.head_revision()

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        health.router,
        check_api.router,
        bank_api.router,
        pages.router,
        problems.router,
        self_check.router,
        verify.router,
    ):
        app.include_router(router)
    app.include_router(observability.router)
    app.include_router(audit_public.router)
    install_portal_pages(app)
    app.openapi = partial(contract_openapi, app)  # type: ignore[method-assign]
    return app


def make_app() -> FastAPI:
    """The uvicorn `--factory` entry point: settings from the environment, read once here."""
    settings = get_settings()
    observability.configure_logging(settings.log_level.upper())
    app = create_app(settings)
    # The pack, forms and templates live as long as the process; frozen, the collector stops
    # walking them, so a full collection stays short instead of stalling requests.
    gc.collect()
    gc.freeze()
    return app
