"""Every route refuses NUL, other control characters and bidi overrides with a 422, never a 500.

The route list is generated from the app itself, so a route added later is covered without
touching this file. Runs on SQLite and PostgreSQL (where a NUL used to reach psycopg).
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web.portal_helpers import client_of, portal_app, register

__all__ = ["portal_app"]

HOSTILE = ["nul\x00user", "bell\x07", "scan\u202efdp.hta", "iso\u2066late"]


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every endpoint, path parameters filled with 1.

    FastAPI wraps included routers; `effective_route_contexts()` yields their endpoints with the
    full path. Should that change, the count below fails loudly rather than testing nothing.
    """
    endpoints: list[tuple[set[str], str]] = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            endpoints.append((route.methods, route.path))
        elif hasattr(route, "effective_route_contexts"):
            endpoints.extend((ctx.methods, ctx.path) for ctx in route.effective_route_contexts())
    found = []
    for methods, raw_path in endpoints:
        path = re.sub(r"\{[^}]+\}", "1", raw_path)
        found.extend((method, path) for method in sorted(set(methods) - {"HEAD"}))
    assert len(found) > 40, "the app's routes were not found"
    return found


def _assert_refused(response_status: int, body: str, where: str) -> None:
    assert response_status == 422, f"{where}: {response_status} {body[:200]}"


@pytest.mark.parametrize("value", HOSTILE)
def test_every_route_refuses_hostile_text_in_the_query(portal_app: FastAPI, value: str) -> None:
    client = client_of(portal_app)
    register(client)  # signed in, so a route cannot answer 401 before looking at its input
    for method, path in _routes(portal_app):
        response = client.request(method, path, params={"q": value, "name": value})
        _assert_refused(response.status_code, response.text, f"{method} {path}")


def test_every_unsafe_route_refuses_hostile_bodies(portal_app: FastAPI) -> None:
    client: TestClient = client_of(portal_app)
    register(client)
    unsafe = [(m, p) for m, p in _routes(portal_app) if m in ("POST", "PUT", "PATCH", "DELETE")]
    for method, path in unsafe:
        as_json = client.request(method, path, json={"name": "nul\x00user", "answers": {"a": "x"}})
        _assert_refused(as_json.status_code, as_json.text, f"{method} {path} (JSON)")
        if path.startswith("/api/"):
            assert as_json.headers["content-type"].startswith("application/problem+json")
            assert as_json.json()["field"] == "name"
        as_form = client.request(method, path, data={"name": "scan\u202efdp.hta"})
        _assert_refused(as_form.status_code, as_form.text, f"{method} {path} (form)")


def test_multi_line_text_keeps_its_line_breaks(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    response = client.post("/api/v1/check", json={"facts": {"enterprise": {}}, "lang": "zh\n"})
    assert response.status_code == 422
    assert "control" not in response.json()["detail"]  # refused by the endpoint, not the guard
