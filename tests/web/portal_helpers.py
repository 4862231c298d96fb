"""Helpers for the portal page tests: valid USCCs, signing in as a browser would, staff accounts.

Everything goes through the real app (HTTP) or the real services; nothing is mocked.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from stdnum.cn import uscc

from portal.db.tables import Application
from portal.services.context import Portal
from portal.services.enterprises import create_staff_user
from portal.services.verified import verify_enterprise
from portal.settings import Settings
from portal.web.app import create_app

PASSWORD = "correct-horse-battery"
_serial: Iterator[int] = itertools.count(1)


def new_uscc(region: str = "440106") -> str:
    """A fresh, valid 统一社会信用代码 in a Guangzhou district (region codes begin 4401)."""
    body = f"91{region}MA{next(_serial):07d}"[:17]
    body = body[:8] + re.sub(r"[IOZSV]", "A", body[8:])
    return body + str(uscc.calc_check_digit(body))


def csrf_of(client: TestClient, path: str) -> str:
    html = client.get(path).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, f"no CSRF token on {path}"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    token = csrf_of(client, "/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def register(
    client: TestClient,
    *,
    name: str = "广州测试人工智能有限公司",
    district: str = "haizhu",
    ai_track: str = "cheng",
    code: str | None = None,
) -> tuple[str, str]:
    """Register an enterprise through the page, verify it, sign in; returns (username, uscc).

    Registration answers alike whatever is on record and signs nobody in; the enterprise is
    then verified by the bootstrap path (verification has tests of its own) so it can submit.
    """
    code = code or new_uscc()
    username = f"ent{code[-8:].lower()}"
    token = csrf_of(client, "/register")
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "uscc": code,
            "name": name,
            "district": district,
            "ai_track": ai_track,
            "username": username,
            "display_name": "张会计",
            "email": "clerk@example.cn",
            "password": PASSWORD,
            "password2": PASSWORD,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/register/done"
    verify_enterprise(client.app.state.portal, code)  # type: ignore[attr-defined]
    login(client, username)
    return username, code


def staff(portal: Portal, role: str, *, district: str | None = None, bureau: str | None = None) -> str:
    """A staff account made through the bootstrap service path; returns its username."""
    username = f"{role}{next(_serial)}"
    create_staff_user(
        portal,
        None,
        username=username,
        password=PASSWORD,
        display_name=username,
        role=role,
        district=district,
        bureau=bureau,
    )
    return username


FACTS = json.loads(
    (Path(__file__).resolve().parents[2] / "portal" / "demo" / "enterprise.json").read_text("utf-8")
)


@pytest.fixture(
    scope="module", params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def portal_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One migrated database and app per backend for a test module; tests use fresh enterprises."""
    databases: Any = request.getfixturevalue("databases")
    url = databases.migrated(request.param)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("portal-data"),
        secret_key="portal-pages-test-key",
        # Every test client signs in from one address; the per-address throttle has tests of its own.
        login_ip_rate_limit_per_minute=10_000,
        check_rate_limit_per_minute=10_000,
    )
    app = create_app(settings)
    with TestClient(app):
        yield app
    app.state.engine.dispose()
    databases.drop(url)


def client_of(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def profile_form(**changes: str) -> dict[str, str]:
    """The demo enterprise's facts as the profile page posts them."""
    data = {
        f"enterprise.{k}": ("true" if v is True else "false" if v is False else str(v))
        for k, v in FACTS["enterprise"].items()
        if k not in ("uscc", "name")
    }
    data.update({"enterprise.model_filed": "true", **changes})
    data.update(
        {
            "project.investment": "12000000",
            "project.scenario_in_guangzhou": "true",
            "project.completed": "true",
        }
    )
    return data


def save_profile(client: TestClient, **changes: str) -> None:
    token = csrf_of(client, "/profile")
    data = {**profile_form(**changes), "csrf_token": token}
    response = client.post("/profile", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text


def start_application(client: TestClient, measure: str = "subsidy.ai_scenario_demo") -> int:
    token = csrf_of(client, "/catalogue")
    response = client.post(
        "/applications", data={"csrf_token": token, "measure_id": measure}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[2])


def edit_target(client: TestClient, application_id: int) -> tuple[str, str]:
    """The form's action (with the version it was rendered at) and its CSRF token."""
    html = client.get(f"/applications/{application_id}/edit").text
    action = re.search(r'action="(/applications/\d+/edit\?v=\d+)"', html)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert action and token, html[:2000]
    return action.group(1), token.group(1)


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n%%EOF\n"


def scenario_answers(code: str, **changes: str) -> dict[str, str]:
    return {
        "enterprise_name": "广州测试人工智能有限公司",
        "uscc": code,
        "contact_person": "张三",
        "contact_phone": "13800138000",
        "project_name": "城市视觉示范项目",
        "track": "cheng",
        "start_on": "2025-01-01",
        "end_on": "2025-12-31",
        "investment": "12000000",
        "requested_amount": "3000000",
        "summary": "本项目在广州市内落地人工智能应用场景，" * 4,
        **changes,
    }


def scenario_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("attachment:investment_evidence", ("合同.pdf", PDF, "application/pdf")),
        ("attachment:budget_sheet", ("budget.xlsx", xlsx_bytes(), "application/octet-stream")),
    ]


def submitted_case(client: TestClient, code: str, **changes: str) -> int:
    """A complete ai_scenario_demo application, submitted through the form; returns its id."""
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code, **changes), "csrf_token": token, "action": "submit"}
    response = client.post(action, data=data, files=scenario_files(), follow_redirects=False)
    assert response.status_code == 303, response.text[-3000:]
    return application_id


def enterprise_with_case(
    app: FastAPI, *, name: str | None = None, profile: dict[str, str] | None = None, **answers: str
) -> tuple[TestClient, int]:
    """A newly registered enterprise (signed in, profile saved) and its submitted application's id;
    `profile` changes the profile's fields, `answers` the form's answers."""
    client = client_of(app)
    _, code = register(client) if name is None else register(client, name=name)
    save_profile(client, **(profile or {}))
    changes = answers if name is None else {"enterprise_name": name, **answers}
    return client, submitted_case(client, code, **changes)


def case_form(client: TestClient, path: str) -> tuple[int, str]:
    """(expected_version, csrf token) from a case page's action forms."""
    html = client.get(path).text
    version = re.search(r'name="expected_version" value="(\d+)"', html)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert version and token, html[:2000]
    return int(version.group(1)), token.group(1)


def fire(client: TestClient, application_id: int, event: str, comment: str = "", **extra: str) -> int:
    """Fire `event` from the case page, answering yes where the portal asks for confirmation."""
    version, token = case_form(client, f"/review/{application_id}")
    data = {
        "csrf_token": token,
        "event": event,
        "expected_version": str(version),
        "comment": comment,
        "confirm": "yes",
        **extra,
    }
    return client.post(f"/review/{application_id}/transition", data=data, follow_redirects=False).status_code


def returned_case(app: FastAPI, comment: str) -> tuple[TestClient, TestClient, int]:
    """A case a Haizhu reviewer accepted and returned for its budget with `comment`: the
    enterprise's and the reviewer's clients, and the case's id."""
    enterprise, application_id = enterprise_with_case(app)
    reviewer = client_of(app)
    login(reviewer, staff(app.state.portal, "reviewer", district="haizhu"))
    assert fire(reviewer, application_id, "accept") == 303
    assert fire(reviewer, application_id, "return_for_amendment", comment, sections="budget") == 303
    return enterprise, reviewer, application_id


def stored(app: FastAPI, application_id: int) -> Application:
    """The case as the database holds it now."""
    with app.state.portal.reading() as session:
        row = session.get(Application, application_id)
        assert row is not None
        return row
