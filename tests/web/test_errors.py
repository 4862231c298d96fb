"""Error pages in zh and en for people, problem JSON for /api/, and never a stack trace."""

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from portal_helpers import register

from portal.settings import Settings
from portal.web.app import create_app
from portal.web.errors import Problem

SECRET = "s3cr3t-internal-detail"


@pytest.fixture(scope="module")
def failing_app(web_settings: Settings) -> FastAPI:
    """The real app plus routes that fail on purpose, as a future bug would."""
    app = create_app(web_settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(SECRET)

    @app.get("/api/v1/boom")
    def api_boom() -> None:
        raise KeyError(SECRET)

    @app.get("/status/{code}")
    def status(code: int) -> None:
        raise HTTPException(status_code=code, detail=SECRET)

    @app.get("/api/v1/status/{code}")
    def api_status(code: int) -> None:
        raise Problem(code, "explained", field="x")

    return app


@pytest.fixture
def failing(failing_app: FastAPI) -> TestClient:
    return TestClient(failing_app, raise_server_exceptions=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_500_page_shows_no_trace(failing: TestClient, lang: str) -> None:
    failing.cookies.set("lang", lang)
    response = failing.get("/boom")
    assert response.status_code == 500
    assert "text/html" in response.headers["content-type"]
    for leak in (SECRET, "Traceback", "RuntimeError", 'File "'):
        assert leak not in response.text
    assert ("系统繁忙" if lang == "zh" else "Something went wrong") in response.text
    assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_500_on_the_api_is_problem_json_without_trace(failing: TestClient) -> None:
    response = failing.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 500
    assert SECRET not in response.text
    assert "Traceback" not in response.text
    assert len(body["reference"]) == 8


def test_500_is_logged_with_its_reference(failing: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    response = failing.get("/api/v1/boom")
    reference = response.json()["reference"]
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    ("code", "zh", "en"),
    [
        (400, "请求有误", "Bad request"),
        (403, "无权操作", "Forbidden"),
        (404, "页面不存在", "Page not found"),
        (409, "操作冲突", "Conflict"),
        (413, "内容过大", "Too large"),
        (422, "内容无效", "Invalid input"),
        (429, "请求过于频繁", "Too many requests"),
        (500, "系统繁忙", "Something went wrong"),
    ],
)
def test_error_pages_in_both_languages(failing: TestClient, code: int, zh: str, en: str) -> None:
    response = failing.get(f"/status/{code}")
    assert response.status_code == code
    assert zh in response.text
    assert SECRET not in response.text
    failing.cookies.set("lang", "en")
    response = failing.get(f"/status/{code}")
    assert en in response.text
    assert zh not in response.text


@pytest.mark.parametrize("code", [400, 403, 404, 409, 413, 422, 429])
def test_api_errors_are_problem_json(failing: TestClient, code: int) -> None:
    response = failing.get(f"/api/v1/status/{code}")
    assert response.status_code == code
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == code
    assert body["field"] == "x"


def test_unknown_page_is_a_404_page(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_address_that_cannot_be_read_asks_nothing_to_be_corrected(client: TestClient, lang: str) -> None:
    """/applications/abc names no page: a 404, as /no/such/page is. An unreadable query
    (?archived=maybe) is an address problem, not a form to correct and resubmit."""
    register(client)  # signed in: a visitor would be sent to sign in first
    client.cookies.set("lang", lang)
    no_page = client.get("/applications/abc")
    assert no_page.status_code == 404 and ("页面不存在" if lang == "zh" else "Page not found") in no_page.text
    odd = client.get("/notices", params={"archived": "maybe"})
    assert odd.status_code == 400
    assert ("网址有误" if lang == "zh" else "This address is not valid") in odd.text
    for page in (no_page.text, odd.text):
        assert "请修改后重试" not in page and "correct it and try again" not in page
    # The API keeps its published 422 problem for the same mistakes.
    api = client.get("/api/v1/applications/abc")
    assert api.status_code == 422 and api.headers["content-type"] == "application/problem+json"


def test_unknown_api_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_wrong_method_is_405(client: TestClient) -> None:
    response = client.put("/self-check")
    assert response.status_code == 405


def test_a_stale_form_is_told_apart_from_a_refusal(failing: TestClient, client: TestClient) -> None:
    """A form whose token no longer matches the session asks for a reload; a refusal does not,
    since reloading cannot give a person rights they lack (a user trial's complaint)."""
    stale = client.post("/self-check", data={"csrf_token": "stale"})
    assert stale.status_code == 403
    assert "页面已过期" in stale.text and "刷新后重试" in stale.text and "无权" not in stale.text
    refused = failing.get("/status/403")
    assert "无权" in refused.text and "刷新" not in refused.text
    client.cookies.set("lang", "en")
    stale = client.post("/self-check", data={"csrf_token": "stale"})
    assert "The page has expired" in stale.text and "may not" not in stale.text
