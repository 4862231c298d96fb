"""schemathesis against /openapi.json, bank endpoints only: no 5xx and nothing off-contract.

Bounded (50 examples per operation and backend) so that it runs in `make test`. The bank
holds a key with both scopes, so bodies get past authentication to validation, consent and
the rule engine. Each operation's cases are drawn with Hypothesis directly from
schemathesis' strategy, inside the test that owns the database.
"""

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
from tests.bank.bank_world import BankWorld

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 50


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

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=world.auth(None), checks=CHECKS)

        conforms()
