"""Field errors in the API's own words: each error type the request models can produce names the
field and says what it should be, never pydantic's stock phrase."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from portal.web.bank_api_models import EligibilityRequest, LoanFacts, LoanRegistration, errors_of
from tests.bank.bank_world import BankWorld, loan
from tests.bank.test_contract import CREDIT, assert_refused

STOCK = ("Input should", "Field required", "Extra inputs", "Value error", "valid integer", "instance of")
USCC = "91440105MA5D7K2Q66"
REGISTRATION = {
    "uscc": USCC,
    "product": CREDIT,
    "amount": "3000000",
    "granted_on": "2026-11-27",
    "term_months": 24,
    "query_id": "0" * 32,
}
# One wrong value of every JSON kind, to try in every field of every request model.
WRONG_VALUES: list[Any] = ["", "x" * 300, "12", 0, -1, 601, 12.5, True, None, [], {}, {"amount": "1"}]
# The error types those produce, each worded below in `test_each_error_type_over_http`.
WORDED = {
    "missing",
    "extra_forbidden",
    "greater_than_equal",
    "less_than_equal",
    "int_type",
    "bool_type",
    "literal_error",
    "string_type",
    "string_pattern_mismatch",
    "model_type",
    # the API's own checks, worded where they are raised
    "money",
    "uscc",
    "date",
    "query_id",
}


def _bodies(model: type[BaseModel], good: dict[str, Any]) -> list[dict[str, Any]]:
    bodies = [{k: v for k, v in good.items() if k != name} for name in good]
    bodies += [{**good, name: value} for name in good for value in WRONG_VALUES]
    return [*bodies, {**good, "foo": 1}]


def test_every_error_the_models_can_raise_is_worded() -> None:
    """Sweep every field of every request model with every kind of wrong value."""
    cases: list[tuple[type[BaseModel], dict[str, Any]]] = [
        (LoanRegistration, REGISTRATION),
        (EligibilityRequest, {"uscc": USCC, "product": CREDIT, "loan": loan()}),
    ]
    loan_good = {
        "amount": "1",
        "term_months": 12,
        "pledge_kind": "none",
        "uses_policy_tool": True,
        "government_guarantee": False,
        "borrower_total_this_year": "2",
    }
    cases += [
        (EligibilityRequest, {"uscc": USCC, "product": CREDIT, "loan": body})
        for body in _bodies(LoanFacts, loan_good)
    ]
    seen: set[str] = set()
    for model, good in cases:
        for body in _bodies(model, good):
            try:
                model.model_validate(body)
            except ValidationError as exc:
                seen |= {e["type"] for e in exc.errors()}
                for error in errors_of(exc):
                    assert not any(s in error.message for s in STOCK), (body, error)
                    assert error.field and error.message
    assert seen <= WORDED, f"error types without a test below: {seen - WORDED}"


@pytest.mark.parametrize(
    ("kind", "body", "field", "message"),
    [
        (
            "missing",
            {"loan": {"term_months": 12}},
            "loan.amount",
            'required: yuan, a plain decimal string such as "8000000"',
        ),
        ("extra_forbidden", {"foo": 1}, "foo", "unknown field `foo`: not part of this request"),
        (
            "extra_forbidden",
            {"loan": loan(bar=1)},
            "loan.bar",
            "unknown field `bar`: not part of this request",
        ),
        (
            "greater_than_equal",
            {"loan": loan(term_months=0)},
            "loan.term_months",
            "must be a whole number of months from 1 to 600",
        ),
        (
            "less_than_equal",
            {"loan": loan(term_months=601)},
            "loan.term_months",
            "must be a whole number of months from 1 to 600",
        ),
        (
            "int_type",
            {"loan": loan(term_months="12")},
            "loan.term_months",
            "must be a whole number of months from 1 to 600",
        ),
        (
            "int_type",
            {"loan": loan(term_months=12.5)},
            "loan.term_months",
            "must be a whole number of months from 1 to 600",
        ),
        (
            "bool_type",
            {"loan": loan(uses_policy_tool="yes")},
            "loan.uses_policy_tool",
            "must be true or false",
        ),
        (
            "literal_error",
            {"loan": loan(pledge_kind="car")},
            "loan.pledge_kind",
            "must be one of: none, patent, trademark, copyright",
        ),
        ("string_type", {"product": 5}, "product", f"must be one of: {CREDIT}"),
        ("string_pattern_mismatch", {"product": "Mortgage!"}, "product", f"must be one of: {CREDIT}"),
        ("model_type", {"loan": 5}, "loan", "must be a JSON object of the loan's facts: amount"),
        ("uscc", {"uscc": "91440105MA5D7K2Q67"}, "uscc", "the check character does not match"),
        ("money", {"loan": loan(amount="-5")}, "loan.amount", "must not be negative"),
    ],
)
def test_each_error_type_over_http(
    world: BankWorld, kind: str, body: dict[str, Any], field: str, message: str
) -> None:
    response = world.check({"uscc": world.uscc, "product": CREDIT, "loan": loan(), **body})
    assert_refused(world, response, 422, "bad_request")
    problem = response.json()
    [error] = problem["errors"]
    assert error["field"] == field and error["message"].startswith(message), (kind, problem)
    assert f"{field}: {error['message']}" in problem["detail"]
    assert not any(s in response.text for s in STOCK), problem


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"granted_on": "27/11/2026"}, "granted_on", "must be a date as YYYY-MM-DD"),
        ({"query_id": "Q"}, "query_id", "must be the query_id of an eligibility check"),
        ({"term_months": None}, "term_months", "must be a whole number of months from 1 to 600"),
    ],
)
def test_registration_fields_over_http(
    world: BankWorld, body: dict[str, Any], field: str, message: str
) -> None:
    response = world.register({**REGISTRATION, "uscc": world.uscc, **body})
    assert_refused(world, response, 422, "bad_request")
    [error] = response.json()["errors"]
    assert error["field"] == field and error["message"].startswith(message), response.json()


def test_a_missing_registration_field_says_what_it_should_be(world: BankWorld) -> None:
    body = {k: v for k, v in REGISTRATION.items() if k != "term_months"}
    [error] = world.register({**body, "uscc": world.uscc}).json()["errors"]
    assert error == {"field": "term_months", "message": "required: a whole number of months from 1 to 600"}


def test_a_malformed_path_id_says_which_part_is_wrong(world: BankWorld) -> None:
    for path, words in (("abc", "must be a whole number"), ("0", "must be at least 1")):
        response = world.client.get(f"/api/v1/bank/loans/{path}", headers=world.auth(None))
        problem = response.json()
        assert response.status_code == 422 and problem["code"] == "bad_request"
        assert problem["detail"] == f"The request is not valid: `loan_id` in the path {words}.", problem
        assert problem["errors"] == [{"field": "path.loan_id", "message": words}]
