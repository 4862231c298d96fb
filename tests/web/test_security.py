"""Security defaults: headers on every answer, session cookie flags, CSRF on every unsafe form post."""

import re

import pytest
from fastapi.testclient import TestClient

from portal.web.security import CONTENT_SECURITY_POLICY
from tests.web.conftest import ClientFactory, csrf_from


@pytest.mark.parametrize("path", ["/", "/self-check", "/healthz", "/no-such-page", "/static/css/portal.css"])
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers


def test_api_errors_carry_the_headers_too(client: TestClient) -> None:
    response = client.post("/api/v1/check", content=b"[", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    for path in ("/", "/self-check", "/missing"):
        html = client.get(path).text
        # Scripts come from /static files only (the CSP forbids inline script).
        assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/js/menu.js" defer>']
        assert "style=" not in html
        assert "<style" not in html


def test_session_cookie_is_httponly_and_samesite_lax(client: TestClient) -> None:
    cookie = client.get("/self-check").headers["set-cookie"]
    assert cookie.startswith("portal_session=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()


def test_behind_https_the_cookie_is_secure_and_hsts_is_sent(make_client: ClientFactory) -> None:
    secure = make_client(https=True)
    response = secure.get("/self-check")
    assert "; secure" in response.headers["set-cookie"].lower()
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_a_page_without_a_form_sets_no_session(client: TestClient) -> None:
    assert "set-cookie" not in client.get("/").headers


def test_post_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/self-check")
    response = client.post("/self-check", data={"on": "2026-06-01", "enterprise.employees": "10"})
    assert response.status_code == 403
    assert "页面已过期" in response.text  # a missing token is a stale form, not a lack of rights
    assert "text/html" in response.headers["content-type"]


def test_post_with_a_wrong_token_is_refused(client: TestClient) -> None:
    client.get("/self-check")
    response = client.post("/self-check", data={"csrf_token": "forged", "on": "2026-06-01"})
    assert response.status_code == 403


def test_token_from_another_session_is_refused(client: TestClient, make_client: ClientFactory) -> None:
    other = make_client(app=client.app)
    token = csrf_from(other.get("/self-check").text)
    client.get("/self-check")
    response = client.post("/self-check", data={"csrf_token": token, "on": "2026-06-01"})
    assert response.status_code == 403


def test_post_without_any_session_is_refused(client: TestClient) -> None:
    response = client.post("/self-check", data={"csrf_token": "x", "on": "2026-06-01"})
    assert response.status_code == 403


def test_post_with_the_session_token_is_accepted(client: TestClient) -> None:
    token = csrf_from(client.get("/self-check").text)
    response = client.post("/self-check", data={"csrf_token": token, "on": "2026-06-01"})
    assert response.status_code == 200


def test_token_in_header_is_accepted(client: TestClient) -> None:
    token = csrf_from(client.get("/self-check").text)
    response = client.post("/self-check", data={"on": "2026-06-01"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200


def test_interactive_api_docs_are_off(client: TestClient) -> None:
    # Swagger UI needs a CDN and inline script: both forbidden here.
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 200
