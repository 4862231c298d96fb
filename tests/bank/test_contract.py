"""Bad bodies and the authorization matrix: a precise 4xx problem, and only an access-log row written."""

from datetime import timedelta
from pathlib import Path

import httpx
from sqlmodel import Session, col, select

from portal.db.tables import Enterprise, Loan
from portal.db.tables.banks import LoanTerms
from portal.services import banks, consents
from portal.services.loans import LoanView
from portal.settings import Settings
from portal.web.app import create_app
from portal.web.bank_api_models import LoanRegistration, LoanStatus
from portal.web.ratelimit import SlidingWindowLimiter
from tests.bank.bank_world import TODAY, BankWorld, loan, make_uscc

CREDIT = "credit_risk_compensation"
PROBLEM = "application/problem+json"


def only_logged(world: BankWorld, before: dict[str, int]) -> None:
    after = world.counts()
    assert after["BankAccessLog"] == before["BankAccessLog"] + 1
    assert {k: v for k, v in after.items() if k != "BankAccessLog"} == {
        k: v for k, v in before.items() if k != "BankAccessLog"
    }


def good(world: BankWorld) -> dict[str, object]:
    return {"uscc": world.uscc, "product": CREDIT, "loan": loan()}


def test_bad_eligibility_bodies(world: BankWorld) -> None:
    base = good(world)
    cases: list[tuple[dict[str, object], str]] = [
        ({**base, "product": "mortgage"}, "product"),
        ({**base, "loan": loan("-5")}, "loan.amount"),
        ({**base, "loan": loan("1e9")}, "loan.amount"),
        ({**base, "loan": loan("0")}, "loan.amount"),
        ({**base, "loan": loan("1.005")}, "loan.amount"),
        ({**base, "uscc": "91350100M000100Y44"}, "uscc"),  # check character wrong
        ({**base, "uscc": "12345"}, "uscc"),
        ({k: v for k, v in base.items() if k != "uscc"}, "uscc"),
        ({k: v for k, v in base.items() if k != "loan"}, "loan"),
        ({**base, "loan": {"term_months": 24}}, "loan.amount"),
        ({**base, "loan": loan(pledge_kind="house")}, "loan.pledge_kind"),
        ({**base, "loan": loan(term_months=True)}, "loan.term_months"),
        ({**base, "loan": loan(bank_is_partner=False)}, "loan.bank_is_partner"),
        ({**base, "surplus": 1}, "surplus"),
    ]
    for body, field in cases:
        before = world.counts()
        response = world.check(body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["code"] == "bad_request"
        assert field in [e["field"] for e in problem["errors"]], (field, problem)
        only_logged(world, before)
        assert world.log()[-1].outcome == "bad_request"


def test_every_bad_field_is_named_at_once(world: BankWorld) -> None:
    """A product the pack does not offer is named beside the other bad fields, not in a second round."""
    body = {"uscc": world.uscc, "product": "mortgage"}
    problem = world.check(body).json()
    assert [e["field"] for e in problem["errors"]] == ["product", "loan"], problem
    assert "credit_risk_compensation" in problem["errors"][0]["message"]


def test_unparseable_bodies(world: BankWorld) -> None:
    raw_cases = [
        (b'{"uscc": "x", "product": "guarantee_fee", "loan": {"amount": 1e9}}', "application/json", 422),
        (b"{not json", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b'{"loan": NaN}', "application/json", 422),
        (b"uscc=1", "application/x-www-form-urlencoded", 415),
        (b"{" + b" " * 20000 + b"}", "application/json", 413),
    ]
    for content, media_type, status in raw_cases:
        before = world.counts()
        response = world.client.post(
            "/api/v1/bank/eligibility",
            content=content,
            headers={**world.auth(None), "content-type": media_type},
        )
        assert response.status_code == status, (content[:40], response.text)
        assert response.headers["content-type"] == PROBLEM
        only_logged(world, before)


def test_the_key_is_checked_before_the_body(world: BankWorld) -> None:
    """The body is read before the key lookup, but a keyless bad body still gets the 401."""
    for content, media_type in (
        (b"uscc=1", "application/x-www-form-urlencoded"),
        (b" " * 20000, "application/json"),
    ):
        response = world.client.post(
            "/api/v1/bank/eligibility", content=content, headers={"content-type": media_type}
        )
        assert_refused(world, response, 401, "unauthorized")


def test_exponent_number_is_refused_by_name(world: BankWorld) -> None:
    content = f'{{"uscc": "{world.uscc}", "product": "{CREDIT}", "loan": {{"amount": 1e9}}}}'.encode()
    response = world.client.post(
        "/api/v1/bank/eligibility",
        content=content,
        headers={**world.auth(None), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "exponent" in response.json()["detail"]


def assert_refused(world: BankWorld, response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == code


def test_authorization_matrix(world: BankWorld) -> None:
    body = good(world)
    cases: list[tuple[str, dict[str, str], int, str]] = [
        ("no key", {}, 401, "unauthorized"),
        ("not bearer", {"Authorization": f"Basic {world.key}"}, 401, "unauthorized"),
        ("unknown key", world.auth(world.key[:-4] + "AAAA"), 401, "unauthorized"),
        ("malformed key", world.auth("pbk_nonsense"), 401, "unauthorized"),
    ]
    for name, headers, status, code in cases:
        before = world.counts()
        response = world.client.post("/api/v1/bank/eligibility", json=body, headers=headers)
        assert_refused(world, response, status, code)
        assert response.headers["www-authenticate"] == "Bearer", name
        only_logged(world, before)
        assert (world.log()[-1].bank_id, world.log()[-1].http_status) == (None, 401)

    prefix = world.key.split("_")[1]
    banks.revoke_key(world.portal, prefix)
    assert_refused(world, world.check(body), 401, "unauthorized")

    before = world.counts()
    wrong_scope = world.register({"uscc": world.uscc}, key=world.read_key)
    assert_refused(world, wrong_scope, 403, "insufficient_scope")
    only_logged(world, before)

    # Another bank's consent, an unregistered USCC: the same answer, byte for byte.
    before = world.counts()
    other_bank = world.check(body, key=world.other_key)
    assert_refused(world, other_bank, 403, "no_consent")
    only_logged(world, before)
    assert world.log()[-1].enterprise_id is not None  # the enterprise sees the attempt
    unknown = world.check({**body, "uscc": make_uscc(999)}, key=world.read_key)
    assert_refused(world, unknown, 403, "no_consent")
    assert unknown.content == other_bank.content
    assert world.log()[-1].enterprise_id is None


def test_expired_and_revoked_consent(world: BankWorld) -> None:
    consent = consents.grant_consent(
        world.portal, world.enterprise, bank_code="beta", products=[CREDIT], days=1
    )
    body = good(world)
    assert world.check(body, key=world.other_key).status_code == 200
    assert_refused(
        world, world.check({**body, "product": "guarantee_fee"}, key=world.other_key), 403, "no_consent"
    )
    world.portal.today_override = TODAY + timedelta(days=1)
    assert_refused(world, world.check(body, key=world.other_key), 403, "no_consent")
    world.portal.today_override = TODAY
    consents.revoke_consent(world.portal, world.enterprise, consent.id or 0)
    assert_refused(world, world.check(body, key=world.other_key), 403, "no_consent")


def test_rate_limit(world: BankWorld) -> None:
    world.client.app.state.bank_limiter = SlidingWindowLimiter(3, 60.0)  # type: ignore[attr-defined]
    for _ in range(3):
        assert world.check(good(world)).status_code == 200
    before = world.counts()
    limited = world.check(good(world))
    assert_refused(world, limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    only_logged(world, before)  # the throttled query is on the enterprise's record, nothing else
    assert (world.log()[-1].outcome, world.log()[-1].http_status) == ("rate_limited", 429)
    # Another key has its own window.
    assert world.check(good(world), key=world.read_key).status_code == 200


def test_rate_limit_comes_from_settings(tmp_path: Path) -> None:
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path}/x.db", secret_key="s", bank_rate_limit_per_minute=7)
    )
    assert app.state.bank_limiter.limit == 7


def test_an_unverified_enterprise_is_invisible_to_banks(world: BankWorld) -> None:
    """Its consent is as good as none: the answer is byte for byte the unknown code's."""
    assert world.check(good(world)).status_code == 200
    with Session(world.engine) as session:
        enterprise = session.exec(select(Enterprise).where(col(Enterprise.uscc) == world.uscc)).one()
        enterprise.verified_at = None  # e.g. an operator withdrew the verification
        session.add(enterprise)
        session.commit()
    hidden = world.check(good(world))
    assert_refused(world, hidden, 403, "no_consent")
    unknown = world.check({**good(world), "uscc": make_uscc(998)})
    assert hidden.content == unknown.content


def test_a_loans_terms_are_defined_once() -> None:
    """Issue 17 §3: the table, the services' view and the API share `LoanTerms`."""
    terms = set(LoanTerms.model_fields)
    assert all(issubclass(model, LoanTerms) for model in (Loan, LoanView, LoanStatus))
    # The request body validates each term with its own rules, and names the same terms.
    assert set(LoanRegistration.model_fields) == terms | {"uscc"}


def test_every_refusal_has_a_code_even_from_the_framework(world: BankWorld) -> None:
    """An unknown route, a method a route lacks, a malformed path id: coded like the rest."""
    auth = world.auth(None)
    cases: list[tuple[httpx.Response, int, str]] = [
        (world.client.get("/api/v1/bank/no-such-route", headers=auth), 404, "not_found"),
        (world.client.get("/api/v1/bank/eligibility", headers=auth), 405, "method_not_allowed"),
        (world.client.delete("/api/v1/bank/loans/1", headers=auth), 405, "method_not_allowed"),
        (world.client.get("/api/v1/bank/loans/abc", headers=auth), 422, "bad_request"),
        (world.client.get("/api/v1/bank/loans/0", headers=auth), 422, "bad_request"),
        (
            world.client.post(
                "/api/v1/bank/eligibility", content=b"uscc=1", headers={**auth, "content-type": "text/plain"}
            ),
            415,
            "bad_request",
        ),
        (
            world.client.post(
                "/api/v1/bank/loans",
                content=b"{" + b" " * 20000 + b"}",
                headers={**auth, "content-type": "application/json"},
            ),
            413,
            "bad_request",
        ),
    ]
    for response, status, code in cases:
        assert_refused(world, response, status, code)
    assert cases[1][0].headers["allow"] == "POST"
    for response, _, _ in cases[3:5]:
        assert [e["field"] for e in response.json()["errors"]] == ["path.loan_id"]


def test_field_messages_name_no_class_or_pattern(world: BankWorld) -> None:
    base = good(world)
    registration = {
        "uscc": world.uscc,
        "product": CREDIT,
        "amount": "3000000",
        "granted_on": "2026-11-27",
        "term_months": 24,
        "query_id": "0" * 32,
    }
    cases: list[tuple[httpx.Response, str, str]] = [
        (world.check({**base, "loan": 5}), "loan", "must be a JSON object"),
        (world.check([base]), "body", "must be a JSON object"),
        (world.register([registration]), "body", "must be a JSON object"),
        (
            world.register({**registration, "query_id": "Q"}),
            "query_id",
            "32 lowercase hexadecimal characters",
        ),
        (world.check({**base, "product": "Mortgage!"}), "product", "must be one of: "),
    ]
    for response, field, words in cases:
        assert_refused(world, response, 422, "bad_request")
        problem = response.json()
        [error] = problem["errors"]
        assert error["field"] == field and words in error["message"], problem
        for leak in ("LoanFacts", "EligibilityRequest", "LoanRegistration", "instance of", "pattern", "^"):
            assert leak not in response.text, (leak, problem)
