"""schemathesis against /openapi.json: no 5xx and nothing off-contract.

The bank operations get 50 examples each (per backend); the whole document, every operation,
gets a few each, as an enterprise signed in through the login page that sends its CSRF header
on unsafe calls and the bank's key on bank calls (the security schemes the document declares).
That keeps the run to about a minute on two cores. Each operation's cases are drawn with
Hypothesis directly from schemathesis' strategy, inside the test that owns the database.
"""

import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.web.ratelimit import SlidingWindowLimiter
from portal.web.session_store import SESSION_COOKIE
from tests.bank.bank_world import PASSWORD, BankWorld

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 50
EXAMPLES_PER_OPERATION_WHOLE_API = 15


def _fuzz(operation: Any, examples: int, **call: Any) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def conforms(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS, **call)

    conforms()


def _signed_in(world: BankWorld) -> tuple[str, str]:
    """(session cookie, CSRF token) of the world's enterprise, signed in through the login page."""
    client = world.client
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": "firm1", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:500]
    session = client.get("/api/v1/session").json()
    return client.cookies[SESSION_COOKIE], session["csrf_token"]


def test_the_whole_api_conforms_to_its_schema(world: BankWorld) -> None:
    app = world.client.app
    app.state.bank_limiter = SlidingWindowLimiter(1_000_000, 60.0)  # type: ignore[attr-defined]
    app.state.check_limiter = SlidingWindowLimiter(1_000_000, 60.0)  # type: ignore[attr-defined]
    cookie, csrf = _signed_in(world)
    headers = {**world.auth(None), "X-CSRF-Token": csrf}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17, [op.label for op in operations]
    for operation in operations:
        _fuzz(operation, EXAMPLES_PER_OPERATION_WHOLE_API, headers=headers, cookies={SESSION_COOKIE: cookie})


def test_bank_api_conforms_to_its_schema(world: BankWorld) -> None:
    app = world.client.app
    app.state.bank_limiter = SlidingWindowLimiter(1_000_000, 60.0)  # type: ignore[attr-defined]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex=r"^/api/v1/bank/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "POST /api/v1/bank/eligibility",
        "POST /api/v1/bank/loans",
        "GET /api/v1/bank/loans/{loan_id}",
    }
    for operation in operations:
        _fuzz(operation, EXAMPLES_PER_OPERATION, headers=world.auth(None))
