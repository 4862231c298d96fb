"""Every bank API row names its call, refusals included: the route tells which call a request
was even when it was refused before its body was read (no key, too many requests, a key without
the scope, a malformed body) or for want of consent."""

from sqlmodel import Session

from portal.db.access_log import verify_access_log
from portal.web.ratelimit import SlidingWindowLimiter
from tests.bank.bank_world import BankWorld, loan, make_uscc


def test_every_row_names_the_call_it_records(world: BankWorld) -> None:
    client, elig = world.client, {"uscc": world.uscc, "product": "credit_risk_compensation"}
    statuses = [
        world.check({**elig, "loan": loan()}).status_code,  # answered
        world.check({**elig, "loan": loan()}, key="pbk_wrong_key").status_code,  # no valid key
        client.post(
            "/api/v1/bank/eligibility",
            content=b"{",
            headers={**world.auth(None), "Content-Type": "application/json"},
        ).status_code,
        world.check({**elig, "uscc": make_uscc(99), "loan": loan()}).status_code,  # no consent
        world.register({**elig, "amount": "1000"}, key="pbk_wrong_key").status_code,
        world.register({**elig, "amount": "1000"}, key=world.read_key).status_code,  # no scope
        world.register({"uscc": world.uscc}).status_code,  # malformed
        client.get("/api/v1/bank/loans/7", headers=world.auth("pbk_wrong_key")).status_code,
        client.get("/api/v1/bank/loans/7", headers=world.auth(None)).status_code,  # none such
    ]
    client.app.state.bank_limiter = SlidingWindowLimiter(1, 60.0)  # type: ignore[attr-defined]
    statuses += [client.get("/api/v1/bank/loans/7", headers=world.auth(None)).status_code for _ in "12"]
    assert statuses == [200, 401, 400, 403, 401, 403, 422, 401, 404, 404, 429]
    assert [(row.outcome, row.call_kind) for row in world.log()] == [
        ("eligible", "eligibility"),
        ("unauthorized", "eligibility"),
        ("bad_request", "eligibility"),
        ("no_consent", "eligibility"),
        ("unauthorized", "loan_registration"),
        ("insufficient_scope", "loan_registration"),
        ("bad_request", "loan_registration"),
        ("unauthorized", "loan_status"),
        ("not_found", "loan_status"),
        ("not_found", "loan_status"),
        ("rate_limited", "loan_status"),
    ]
    with Session(world.engine) as session:
        assert verify_access_log(session).ok
