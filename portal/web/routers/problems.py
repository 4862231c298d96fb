"""The public pages the `type` of an API refusal links: `/problems` and `/problems/{code}`.

Each says in zh and en what the refusal means and what the caller should do; a client asking
for JSON (`Accept: application/json`) gets the same texts as `{code, status, title, detail, action}`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from portal.messages import LANGS, catalogue
from portal.web.problem_types import PROBLEM_CODES
from portal.web.templating import render

router = APIRouter(include_in_schema=False)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _texts(code: str, part: str) -> dict[str, str]:
    texts = catalogue()[f"problem.{code}.{part}"]
    return {lang: texts[lang] for lang in LANGS}


@router.get("/problems", response_class=HTMLResponse)
def index(request: Request) -> Response:
    if _wants_json(request):
        return JSONResponse(
            [
                {"code": code, "status": list(statuses), "title": _texts(code, "title")}
                for code, statuses in PROBLEM_CODES.items()
            ]
        )
    return render(request, "problems/index.html", {"codes": PROBLEM_CODES})


@router.get("/problems/{code}", response_class=HTMLResponse)
def problem(request: Request, code: str) -> Response:
    statuses = PROBLEM_CODES.get(code)
    if statuses is None:
        raise HTTPException(404)
    if _wants_json(request):
        return JSONResponse(
            {
                "code": code,
                "status": list(statuses),
                "title": _texts(code, "title"),
                "detail": _texts(code, "text"),
                "action": _texts(code, "action"),
            }
        )
    return render(request, "problems/detail.html", {"code": code, "statuses": statuses})
