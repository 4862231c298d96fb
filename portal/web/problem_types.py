"""The problem types an API refusal names: each `code` has a public page at `/problems/{code}`.

A problem's `type` (RFC 9457) is `/problems/{code}`, a link a bank's developer or risk officer
can open to read, in zh and en, what the refusal means and what to do. A problem raised
without a code is typed by its status (`framework_code`), a server error as `internal_error`.
The texts are the catalogue's `problem.<code>.title`, `.text` and `.action`.
"""

from __future__ import annotations

from typing import Final

# Every code an /api/ answer can carry, with the status it comes with, in the order the index
# lists them (tests/web/test_problem_pages.py checks that the code base emits no other).
PROBLEM_CODES: Final[dict[str, tuple[int, ...]]] = {
    "bad_request": (400, 413, 415, 422),
    "unauthorized": (401,),
    "forbidden": (403,),
    "insufficient_scope": (403,),
    "no_consent": (403,),
    "not_found": (404,),
    "method_not_allowed": (405,),
    "conflict": (409,),
    "query_used": (409,),
    "unknown_query": (422,),
    "query_mismatch": (422,),
    "query_not_eligible": (422,),
    "query_expired": (422,),
    "amount_mismatch": (422,),
    "term_mismatch": (422,),
    "benefit_undetermined": (422,),
    "rate_limited": (429,),
    "internal_error": (500, 503),
}
SERVER_ERROR_CODE: Final = "internal_error"


def problem_type(code: str) -> str:
    """The `type` of a problem with this code: the path of its public page."""
    return f"/problems/{code}"
