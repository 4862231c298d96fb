"""Liveness and readiness probes for the process supervisor and the load balancer."""

import redis
from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from portal.web.errors import problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: answers without touching the database, so a slow DB never restarts the process."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses={503: {"description": "The database or Redis is unreachable, or the schema is not migrated"}},
)
def readyz(request: Request) -> JSONResponse:
    """Ready: the database answers at the code's migration head, and Redis (when configured) pings.

    Otherwise 503, so a load balancer holds traffic back from an instance that would fail it,
    e.g. a new release started before `portal db upgrade` ran.
    """
    engine: Engine = request.app.state.engine
    head: str = request.app.state.migration_head
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_heads()
    except SQLAlchemyError as exc:
        return problem_response(503, f"database unavailable: {type(exc).__name__}")
    if current != (head,):
        return problem_response(503, f"database at migration {current or 'none'}, the code needs {head}")
    checks = {"database": "ok"}
    redis_url: str | None = request.app.state.settings.redis_url
    if redis_url is not None:
        try:
            redis.Redis.from_url(redis_url, socket_timeout=2).ping()
        except redis.RedisError as exc:
            return problem_response(503, f"redis unavailable: {type(exc).__name__}")
        checks["redis"] = "ok"
    return JSONResponse({"status": "ok", **checks})
