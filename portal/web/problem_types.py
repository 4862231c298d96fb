"""The problem types an API refusal names, and the public pages that explain them.

A problem's `type` (RFC 9457) is its HTTP status's slug, `/problems/not-found`, as published
since the first release; its `code` tells refusals of one status apart. Both resolve: the
status's page lists the codes that come with it, and each code has a page at
`/problems/{code}` saying, in zh and en, what the refusal means and what to do. The texts are
the catalogue's `problem.<code>.title`, `.text` and `.action`.
"""

from http import HTTPStatus
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


def status_slug(status: int) -> str:
    """The status's phrase as a path segment (404 → `not-found`)."""
    return HTTPStatus(status).phrase.lower().replace(" ", "-")


def problem_type(status: int) -> str:
    """The `type` of a problem with this status: the path of the status's public page."""
    return f"/problems/{status_slug(status)}"


# Each status an /api/ answer can carry, by its slug: the page `type` links.
STATUS_OF_SLUG: Final[dict[str, int]] = {
    status_slug(status): status for statuses in PROBLEM_CODES.values() for status in statuses
}


def codes_of(status: int) -> list[str]:
    """The codes that come with `status`, in the index's order."""
    return [code for code, statuses in PROBLEM_CODES.items() if status in statuses]
