"""Liveness and readiness probes for the process supervisor and the load balancer."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from portal.web.errors import problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: answers without touching the database, so a slow DB never restarts the process."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(request: Request) -> JSONResponse:
    """Ready: the database answers `SELECT 1`; otherwise 503 so traffic is held back."""
    engine: Engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return problem_response(503, f"database unavailable: {type(exc).__name__}")
    return JSONResponse({"status": "ok", "database": "ok"})
