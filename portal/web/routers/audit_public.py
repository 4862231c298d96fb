"""The public copy of the latest signed audit checkpoint, for anyone to keep outside the portal.

Auditors and journalists fetch it on a schedule; a later `portal audit verify --checkpoint`
against any saved copy proves that no row up to it was deleted or rewritten.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from portal.services.audit_checkpoints import latest_checkpoint
from portal.web.errors import problem_response

router = APIRouter(tags=["audit"])


@router.get(
    "/audit/checkpoints/latest",
    summary="The latest signed checkpoint of the audit hash chains",
    responses={404: {"description": "No checkpoint has been signed yet"}},
)
def latest(request: Request) -> JSONResponse:
    document: dict[str, Any] | None = latest_checkpoint(request.app.state.portal)
    if document is None:
        # A machine URL outside /api/: its refusal is problem JSON too, as the document says.
        return problem_response(404, "No checkpoint has been signed yet.")
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})
