"""/openapi.json is a contract: one Problem component behind every error, the session and CSRF
schemes described, the applications API's bodies published.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import portal_app

__all__ = ["portal_app"]
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _spec(app: FastAPI) -> dict[str, Any]:
    spec: dict[str, Any] = TestClient(app).get("/openapi.json").json()
    return spec


def test_every_error_is_the_one_problem_component(portal_app: FastAPI) -> None:
    spec = _spec(portal_app)
    schemas = spec["components"]["schemas"]
    assert "Problem" in schemas and "HTTPValidationError" not in schemas and "ProblemBody" not in schemas
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["required"])
    errors = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    errors += 1
                    assert response["content"] == PROBLEM, (method, path, status)
            assert "422" in operation["responses"], (method, path)
    assert errors >= 70
    loan = spec["paths"]["/api/v1/bank/loans/{loan_id}"]["get"]["responses"]
    assert {"401", "403", "404", "422", "429"} <= set(loan)


def test_the_session_and_csrf_schemes_are_described(portal_app: FastAPI) -> None:
    spec = _spec(portal_app)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["session"] == {
        **schemes["session"],
        "type": "apiKey",
        "in": "cookie",
        "name": "portal_session",
    }
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"].lower() == "x-csrf-token"
    applications = spec["paths"]["/api/v1/applications"]
    assert applications["get"]["security"] == [{"session": []}]
    assert applications["post"]["security"] == [{"session": [], "csrf": []}]
    assert spec["paths"]["/api/v1/bank/loans"]["post"]["security"] == [{"HTTPBearer": []}]


def test_the_application_write_operations_publish_their_bodies(portal_app: FastAPI) -> None:
    paths = _spec(portal_app)["paths"]
    for method, path, model in (
        ("post", "/api/v1/applications", "NewApplication"),
        ("put", "/api/v1/applications/{application_id}/answers", "AnswersUpdate"),
        ("post", "/api/v1/applications/{application_id}/submit", "Submission"),
        ("post", "/api/v1/applications/{application_id}/transitions", "TransitionRequest"),
    ):
        body = paths[path][method]["requestBody"]
        assert body["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
        assert {"401", "403", "404", "409", "415", "422"} <= set(paths[path][method]["responses"])
