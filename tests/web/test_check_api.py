"""POST /api/v1/check: exactly the `portal check --json` document, and precise 422s for bad facts."""

import datetime as dt
import json
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import ENTERPRISE, ClientFactory

ON = "2026-06-01"


def post(client: TestClient, body: object) -> httpx.Response:
    return client.post(
        "/api/v1/check", content=json.dumps(body), headers={"content-type": "application/json"}
    )


def test_answer_is_exactly_the_engine_document(client: TestClient, app: FastAPI) -> None:
    response = client.post(
        "/api/v1/check",
        content=json.dumps({"facts": {"enterprise": ENTERPRISE}, "on": ON, "lang": "en"}),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    pack = app.state.pack
    expected = pack.check(pack.facts.parse({"enterprise": ENTERPRISE}), dt.date(2026, 6, 1), None, "en")
    assert response.json() == json.loads(json.dumps(expected, default=str))
    body = response.json()
    assert body["on"] == ON
    assert {r["outcome"] for r in body["results"]} <= {
        "eligible",
        "ineligible",
        "undetermined",
        "not_in_force",
    }
    assert all(
        set(r) >= {"measure", "version", "outcome", "rule_hash", "criteria", "hints"} for r in body["results"]
    )


def test_measures_filter_and_default_language(client: TestClient, app: FastAPI) -> None:
    measure = app.state.pack.measure_ids()[0]
    response = client.post(
        "/api/v1/check",
        json={"facts": {"enterprise": ENTERPRISE}, "on": ON, "measures": [measure]},
    )
    assert response.status_code == 200
    assert [r["measure"] for r in response.json()["results"]] in ([measure], [])


def test_money_is_parsed_exactly_never_through_float(client: TestClient, app: FastAPI) -> None:
    # 0.1 + 0.2 style drift would show in a float; the body's text reaches the engine as Decimal.
    raw = '{"facts": {"enterprise": {"revenue": 40000000.10, "employees": 100}}, "on": "2026-06-01"}'
    response = client.post("/api/v1/check", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200
    pack = app.state.pack
    expected = pack.check(
        pack.facts.parse({"enterprise": {"revenue": Decimal("40000000.10"), "employees": 100}}),
        dt.date(2026, 6, 1),
    )
    assert response.json() == json.loads(json.dumps(expected, default=str))


def test_exponent_number_is_exact(client: TestClient) -> None:
    raw = '{"facts": {"enterprise": {"revenue": 1e9}}, "on": "2026-06-01"}'
    response = client.post("/api/v1/check", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("facts", "fact"),
    [
        ({"enterprise": {"no_such_fact": 1}}, "enterprise.no_such_fact"),
        ({"enterprise": {"employees": "many"}}, "enterprise.employees"),
        ({"enterprise": {"employees": 12.5}}, "enterprise.employees"),
        ({"enterprise": {"revenue": "-1"}}, "enterprise.revenue"),
        ({"enterprise": {"revenue": True}}, "enterprise.revenue"),
        ({"enterprise": {"registered_on": "2018-02-30"}}, "enterprise.registered_on"),
        ({"enterprise": {"district": "hogwarts"}}, "enterprise.district"),
        ({"enterprise": {"is_sme": "yes"}}, "enterprise.is_sme"),
    ],
)
def test_bad_fact_is_a_422_naming_the_fact(client: TestClient, facts: dict[str, object], fact: str) -> None:
    response = post(client, {"facts": facts, "on": ON})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert body["fact"] == fact
    assert fact in body["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"on": ON}, "facts"),
        ({"facts": {"enterprise": {}}, "on": "01/06/2026"}, "on"),
        ({"facts": {"enterprise": {}}, "measures": ["no.such_measure"]}, "measures"),
        ({"facts": {"enterprise": {}}, "measures": "tax.high_tech_enterprise"}, "measures"),
        ({"facts": {"enterprise": {}}, "lang": "fr"}, "lang"),
        ({"facts": {"enterprise": {}}, "extra": 1}, "extra"),
        ([1, 2], "body"),
    ],
)
def test_bad_request_member_is_a_422_naming_it(client: TestClient, body: object, field: str) -> None:
    response = post(client, body)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_unknown_entity_is_named(client: TestClient) -> None:
    response = post(client, {"facts": {"spaceship": {"speed": 1}}})
    assert response.status_code == 422
    assert response.json()["fact"] == "spaceship"


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post("/api/v1/check", content=b"{facts:", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["title"] == "Bad Request"


def test_nan_is_refused(client: TestClient) -> None:
    raw = '{"facts": {"enterprise": {"revenue": NaN}}}'
    response = client.post("/api/v1/check", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_form_encoded_body_is_415(client: TestClient) -> None:
    # A cross-site HTML form can send only form encodings; refusing them keeps the API CSRF-safe.
    response = client.post("/api/v1/check", data={"facts": "x"})
    assert response.status_code == 415


def test_oversized_body_is_413(client: TestClient) -> None:
    big = json.dumps({"facts": {"enterprise": {"name": "x" * 300_000}}})
    response = client.post("/api/v1/check", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_rate_limit_answers_429_with_retry_after(make_client: ClientFactory) -> None:
    limited = make_client(check_rate_limit_per_minute=3)
    codes = [post(limited, {"facts": {"enterprise": {}}}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = post(limited, {"facts": {"enterprise": {}}})
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["status"] == 429
    # Other endpoints are not throttled by the check budget.
    assert limited.get("/healthz").status_code == 200


def test_openapi_documents_the_check_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/check"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["facts"]
