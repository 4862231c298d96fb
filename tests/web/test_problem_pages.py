"""Every refusal's `type` links a public page saying, in zh and en, what it means and what to do."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import portal
from portal.messages import catalogue
from portal.settings import Settings
from portal.web.app import create_app
from portal.web.errors import framework_code
from portal.web.problem_types import PROBLEM_CODES

SOURCE = Path(portal.__file__).parent
_RAISERS = {"Problem", "problem_response", "error_response"}


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def emitted_codes() -> set[str]:
    """Every `code` the code base can put in a problem: literal ones in raises and refusals,
    the framework's by status, and the server error's."""
    codes = {framework_code(status) for status in range(400, 500)}
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name in _RAISERS:
                codes |= {
                    k.value.value
                    for k in node.keywords
                    if k.arg == "code"
                    and isinstance(k.value, ast.Constant)
                    and isinstance(k.value.value, str)
                }
            elif name == "BankRefusal" and len(node.args) >= 2:
                code = node.args[1]
                assert isinstance(code, ast.Constant), (
                    f"{path}:{node.lineno}: a refusal's code must be literal"
                )
                codes.add(code.value)
    return codes


@pytest.fixture(scope="module")
def client(web_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings)) as client:
        yield client


def test_the_catalogue_covers_every_code_the_code_base_emits() -> None:
    emitted = emitted_codes()
    assert {"no_consent", "benefit_undetermined", "query_used", "rate_limited", "forbidden"} <= emitted
    assert emitted <= set(PROBLEM_CODES), f"codes without a page: {emitted - set(PROBLEM_CODES)}"


@pytest.mark.parametrize("code", sorted(PROBLEM_CODES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_code_has_a_page_in_both_languages(client: TestClient, code: str, lang: str) -> None:
    client.cookies.set("lang", lang)
    page = client.get(f"/problems/{code}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for part in ("title", "text", "action"):
        text = catalogue()[f"problem.{code}.{part}"][lang]
        assert text and text in page.text.replace("&#39;", "'").replace("&#34;", '"')
    index = client.get("/problems")
    assert index.status_code == 200 and f'href="/problems/{code}"' in index.text


def test_a_code_page_answers_json_when_asked(client: TestClient) -> None:
    body = client.get("/problems/no_consent", headers={"Accept": "application/json"}).json()
    assert body["code"] == "no_consent" and body["status"] == [403]
    assert set(body["title"]) == set(body["detail"]) == set(body["action"]) == {"zh", "en"}
    assert "consent" in body["detail"]["en"] and "授权" in body["detail"]["zh"]


def test_an_unknown_code_is_not_found(client: TestClient) -> None:
    assert client.get("/problems/no_such_code").status_code == 404


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (("GET", "/api/v1/bank/loans/1"), "unauthorized"),
        (("GET", "/api/v1/no-such-route"), "not_found"),
        (("DELETE", "/api/v1/bank/loans/1"), "method_not_allowed"),
        (("POST", "/api/v1/check"), "bad_request"),
    ],
)
def test_a_refusals_type_links_a_page_naming_its_code(
    client: TestClient, request_: tuple[str, str], code: str
) -> None:
    """`type` keeps its published value, the status's slug; the page it links leads to the code's."""
    method, path = request_
    problem = client.request(method, path)
    assert problem.headers["content-type"] == "application/problem+json"
    body = problem.json()
    assert body["type"] == "/problems/" + body["title"].lower().replace(" ", "-")
    assert body.get("code", code) == code  # routes outside the bank API give no code of their own
    page = client.get(body["type"])
    assert page.status_code == 200
    assert body["type"] == f"/problems/{code}" or f'href="/problems/{code}"' in page.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_status_an_answer_can_carry_has_a_page(client: TestClient, lang: str) -> None:
    client.cookies.set("lang", lang)
    for status in sorted({s for statuses in PROBLEM_CODES.values() for s in statuses}):
        slug = "/problems/" + HTTPStatus(status).phrase.lower().replace(" ", "-")
        page = client.get(slug)
        assert page.status_code == 200, slug
        for code, statuses in PROBLEM_CODES.items():
            # a slug that is a code too (`forbidden`) is that code's page, listing the others
            if status in statuses and slug != f"/problems/{code}":
                assert f'href="/problems/{code}"' in page.text, (slug, code)
