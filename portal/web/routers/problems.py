"""The public pages of the API's refusals: `/problems`, a status's page (what a refusal's `type`
links, e.g. `/problems/not-found`) and a code's page (`/problems/{code}`).

A code's page says in zh and en what the refusal means and what the caller should do; a status's
lists the codes that come with it. A client asking for JSON (`Accept: application/json`) gets the
same texts: `{code, status, title, detail, action}`, or `{status, codes: [...]}` for a status.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from portal.messages import LANGS, catalogue
from portal.web.problem_types import PROBLEM_CODES, STATUS_OF_SLUG, codes_of
from portal.web.templating import render

router = APIRouter(include_in_schema=False)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("Accept", "")
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
    """A code's page, else a status's. A few slugs are both (`forbidden`): the code's page lists
    the other refusals of its status too, as a status's page would."""
    statuses = PROBLEM_CODES.get(code)
    if statuses is None:
        status = STATUS_OF_SLUG.get(code)
        if status is None:
            raise HTTPException(404)
        return _status_page(request, status)
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
    others = [c for status in statuses for c in codes_of(status) if c != code]
    return render(
        request,
        "problems/detail.html",
        {"code": code, "statuses": statuses, "others": list(dict.fromkeys(others))},
    )


def _status_page(request: Request, status: int) -> Response:
    codes = codes_of(status)
    if _wants_json(request):
        return JSONResponse(
            {"status": status, "codes": [{"code": c, "title": _texts(c, "title")} for c in codes]}
        )
    return render(request, "problems/status.html", {"status": status, "codes": codes})
