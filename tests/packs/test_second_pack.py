"""The second pack (tests/packs/lakeside) runs with no line of portal/ changed, over real HTTP.

Lakeside has other districts, tracks, a time zone, a workflow whose states and events carry
other names, a money grant, a status-only label and a bank product. The event sequences come
from its workflow definition (tests/support/workflow_paths.py), never from a list of names.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import col, select
from stdnum.cn import uscc
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.db.tables import Application, Decision, Letter
from portal.services import sla
from portal.services.context import Portal
from portal.services.enterprises import actor_for_username, create_staff_user
from portal.settings import Settings, get_settings
from portal.web.app import create_app
from tests.support.page_checks import visible_text
from tests.support.rubrics import case_rubric
from tests.support.workflow_paths import find_path, is_unfavourable, kind

LAKESIDE = Path(__file__).with_name("lakeside")
PASSWORD = "correct-horse-battery"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(
    scope="module", params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def lakeside(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    databases: Any = request.getfixturevalue("databases")
    url = databases.migrated(request.param)
    settings = Settings(
        database_url=url,
        pack_dir=LAKESIDE,
        data_dir=tmp_path_factory.mktemp("lakeside-data"),
        secret_key="lakeside-test-key",
    )
    app = create_app(settings)
    with TestClient(app):
        yield app
    app.state.engine.dispose()
    databases.drop(url)


def _client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def _token(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None, path
    return match.group(1)


def _login(client: TestClient, username: str) -> None:
    data = {"username": username, "password": PASSWORD, "csrf_token": _token(client, "/login")}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def _staff(portal: Portal, name: str, role: str, **scope: str) -> str:
    create_staff_user(portal, None, username=name, password=PASSWORD, display_name=name, role=role, **scope)
    return name


def _code(serial: int) -> str:
    body = f"91650100MA{serial:07d}"
    return body + str(uscc.calc_check_digit(body))


def _register(client: TestClient, serial: int) -> str:
    code = _code(serial)
    data = {
        "csrf_token": _token(client, "/register"),
        "uscc": code,
        "name": f"湖滨绿色科技有限公司{serial}",
        "district": "north_shore",
        "ai_track": "green",
        "username": f"lake{serial}",
        "display_name": "李会计",
        "email": "clerk@example.cn",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    response = client.post("/register", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[-2000:]
    _login(client, f"lake{serial}")
    return code


def _verify_by_papers(enterprise: TestClient, reviewer: TestClient) -> None:
    """Lakeside's own verification workflow (`firm_check`, its own state names) through the pages."""
    assert "企业身份尚未核验" in enterprise.get("/applications").text
    papers = {
        "licence": ("licence.pdf", PDF, "application/pdf"),
        "authorisation": ("letter.pdf", PDF, "application/pdf"),
    }
    sent = enterprise.post(
        "/verification",
        data={"csrf_token": _token(enterprise, "/verification")},
        files=papers,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[-2000:]
    queue = reviewer.get("/verifications").text
    assert "湖滨绿色科技有限公司" in queue and "待城区核验" in queue
    request_id = re.findall(r'href="/verifications/(\d+)"', queue)[0]
    token = _token(reviewer, f"/verifications/{request_id}")
    decided = reviewer.post(
        f"/verifications/{request_id}",
        data={"csrf_token": token, "event": "verify", "version": "1"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert "企业身份已核验" in enterprise.get("/verification").text
    assert "企业身份尚未核验" not in enterprise.get("/applications").text


def _save_profile(client: TestClient) -> None:
    data = {
        "csrf_token": _token(client, "/profile"),
        "enterprise.sector": "green",
        "enterprise.headcount": "40",
        "enterprise.small_firm": "true",
        "enterprise.upgrade_spend": "1000000",
        "enterprise.energy_saving": "0.2",
    }
    response = client.post("/profile", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[-2000:]


def _case(client: TestClient, path: str) -> tuple[int, str]:
    html = client.get(path).text
    version = re.search(r'name="expected_version" value="(\d+)"', html)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert version and token, html[:3000]
    return int(version.group(1)), token.group(1)


def _state(portal: Portal, application_id: int) -> str:
    with portal.reading() as session:
        row = session.get(Application, application_id)
        assert row is not None
        return row.state


def _apply(client: TestClient, measure: str, answers: dict[str, str], files: list[Any]) -> int:
    created = client.post(
        "/applications",
        data={"csrf_token": _token(client, "/catalogue"), "measure_id": measure},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text[-2000:]
    application_id = int(created.headers["location"].split("/")[2])
    html = client.get(f"/applications/{application_id}/edit").text
    action = re.search(r'action="(/applications/\d+/edit\?v=\d+)"', html)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert action and token, html[:2000]
    data = {**answers, "csrf_token": token.group(1), "action": "submit"}
    submitted = client.post(action.group(1), data=data, files=files, follow_redirects=False)
    assert submitted.status_code == 303, submitted.text[-3000:]
    return application_id


def _drive(app: FastAPI, application_id: int, goal: Any, clients: dict[str, TestClient]) -> None:
    """Take the case along the workflow's favourable path to `goal`, each step by its party."""
    portal: Portal = app.state.portal
    application = _state(portal, application_id)
    workflow = portal.workflows["lakeside_review"]
    for step in find_path(workflow, application, goal, avoid=lambda e: is_unfavourable(workflow, e)):
        if workflow.state(step.source).kind == "expert":
            _panel(app, application_id, clients)
        elif step.party == "system":
            before = portal.today()
            portal.today_override = before + timedelta(days=10)
            sla.sweep(portal)
            portal.today_override = before
        else:
            client = clients[step.party]
            version, token = _case(client, f"/review/{application_id}")
            data = {
                "csrf_token": token,
                "event": step.event,
                "expected_version": str(version),
                "comment": "同意",
                "confirm": "yes",  # a step into a final stage asks first; the confirm page has its own tests
            }
            moved = client.post(f"/review/{application_id}/transition", data=data, follow_redirects=False)
            assert moved.status_code == 303, moved.text[-2000:]
        assert _state(portal, application_id) == step.target, step


def _panel(app: FastAPI, application_id: int, clients: dict[str, TestClient]) -> None:
    """The bureau puts the rubric's minimum of experts on the panel; each declares and scores."""
    portal: Portal = app.state.portal
    bureau = clients["bureau"]
    for n in range(case_rubric(portal, application_id).min_scores):
        name = _staff(portal, f"expert{application_id}_{n}", "expert")
        version, token = _case(bureau, f"/review/{application_id}")
        data = {
            "csrf_token": token,
            "expert_id": str(actor_for_username(portal, name).user_id),
            "expected_version": str(version),
        }
        assert (
            bureau.post(f"/review/{application_id}/experts", data=data, follow_redirects=False).status_code
            == 303
        )
        expert = _client(app)
        _login(expert, name)
        version, token = _case(expert, f"/expert/{application_id}")
        declared = expert.post(
            f"/expert/{application_id}/declare",
            data={"csrf_token": token, "expected_version": str(version), "confirm": "true"},
            follow_redirects=False,
        )
        assert declared.status_code == 303
        version, token = _case(expert, f"/expert/{application_id}")
        scores = {f"score:{c.id}": "80" for c in case_rubric(portal, application_id).criteria}
        scored = expert.post(
            f"/expert/{application_id}/score",
            data={"csrf_token": token, "expected_version": str(version), **scores},
        )
        assert scored.status_code == 200, scored.text[-2000:]


def _letters(portal: Portal, application_id: int) -> list[Letter]:
    with portal.reading() as session:
        query = (
            select(Letter)
            .join(Decision, col(Decision.id) == Letter.decision_id)
            .where(Decision.application_id == application_id)
            .order_by(col(Letter.id))
        )
        return list(session.exec(query).all())


def _pdf_text(client: TestClient, application_id: int, letter: Letter) -> str:
    response = client.get(f"/applications/{application_id}/letters/{letter.id}.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_lakeside_lints_and_its_examples_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_PACK_DIR", str(LAKESIDE))
    get_settings.cache_clear()
    try:
        for command in (["rules", "lint"], ["rules", "test"]):
            result = CliRunner().invoke(cli, command)
            assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()


def test_lakeside_serves_its_own_city(lakeside: FastAPI) -> None:
    client = _client(lakeside)
    home = client.get("/").text
    assert "湖滨市企业扶持兑现平台" in home and "绿色改造补助" in home
    assert "广州" not in home
    page = client.get("/self-check").text
    assert "北岸区" in page and "海珠" not in page
    data = {
        "csrf_token": _token(client, "/self-check"),
        "on": "2026-11-27",
        "enterprise.borough": "north_shore",
        "enterprise.energy_saving": "0.2",
        "enterprise.upgrade_spend": "1000000",
    }
    checked = client.post("/self-check", data=data)
    assert checked.status_code == 200 and "200,000" in checked.text
    english = client.get("/self-check", cookies={"lang": "en"}).text
    assert "North Shore" in english and "Lakeside Enterprise Support Portal" in english


def test_lakeside_pages_call_its_tracks_by_its_own_name(lakeside: FastAPI) -> None:
    """The tracks' name comes from pack.yaml (`tracks.label`): Guangzhou's 造车健城 is nowhere."""
    portal: Portal = lakeside.state.portal
    visitor = _client(lakeside)
    register = visitor.get("/register").text
    assert '<label for="field-ai_track">产业方向</label>' in register
    assert "Sector</label>" in visitor.get("/register", cookies={"lang": "en"}).text
    supervisor = _client(lakeside)
    _login(supervisor, _staff(portal, "lk_supervisor", "supervisor"))
    board = supervisor.get("/supervision").text
    assert "按产业方向统计的申报数" in board
    assert "Applications by sector" in supervisor.get("/supervision", cookies={"lang": "en"}).text
    for page in (register, board):
        assert "造车健城" not in page and "赛道" not in page


@pytest.mark.parametrize(
    ("lang", "heading", "hint"),
    [
        ("zh", "贷款（可选）", "仅在查询按贷款判断的政策时填写。"),
        ("en", "Loan (optional)", "Only for measures judged on a loan."),
    ],
)
def test_lakeside_self_check_names_its_entities_in_its_own_words(
    lakeside: FastAPI, lang: str, heading: str, hint: str
) -> None:
    """The form's sections and the list of measures left out name Lakeside's entities as its
    pack.yaml does (`entities`), never Guangzhou's people, products or projects."""
    client = _client(lakeside)
    client.cookies.set("lang", lang)
    form = client.get("/self-check").text
    assert f"<summary>{heading}</summary>" in form and hint in visible_text(form)
    data = {
        "csrf_token": _token(client, "/self-check"),
        "on": "2026-11-27",
        "enterprise.borough": "north_shore",
    }
    checked = client.post("/self-check", data=data).text
    left_out = checked[checked.index('id="check-unchecked"') :]
    assert f'<a href="#entity-loan">{heading}</a>' in left_out[: left_out.index("</ul>")]
    words = visible_text(checked)
    for guangzhou in ("人才", "首台", "项目类", "talent", "first-of-a-kind", "project"):
        assert guangzhou not in words, guangzhou


def test_a_grant_and_a_label_go_through_lakeside_review(lakeside: FastAPI) -> None:
    portal: Portal = lakeside.state.portal
    enterprise = _client(lakeside)
    code = _register(enterprise, 1)
    _save_profile(enterprise)
    catalogue = enterprise.get("/catalogue").text
    assert "绿色改造补助" in catalogue and "绿色企业认定" in catalogue
    clients = {"district": _client(lakeside), "bureau": _client(lakeside)}
    _login(clients["district"], _staff(portal, "north_reviewer", "reviewer", district="north_shore"))
    _login(clients["bureau"], _staff(portal, "lkedb_reviewer", "reviewer", bureau="lkedb"))
    _verify_by_papers(enterprise, clients["district"])
    applicant = {"enterprise_name": "湖滨绿色科技有限公司1", "uscc": code, "contact_person": "李四"}

    grant = _apply(
        enterprise,
        "grant.green_upgrade",
        {**applicant, "upgrade_spend": "1000000", "energy_saving": "0.2"},
        [("attachment:audit_report", ("audit.pdf", PDF, "application/pdf"))],
    )
    workflow = portal.workflows["lakeside_review"]
    _drive(lakeside, grant, kind("decided"), clients)
    [approval] = _letters(portal, grant)
    text = _pdf_text(enterprise, grant, approval)
    assert "湖经〔2026〕1号" in text and "湖滨市经济发展局" in text
    [paid] = [s.name for s in workflow.states if s.issues_letter == "disbursement"]
    _drive(lakeside, grant, paid, clients)
    assert [letter.kind for letter in _letters(portal, grant)] == ["approval", "disbursement"]

    label = _apply(enterprise, "label.green_firm", applicant, [])
    _drive(lakeside, label, lambda state: state.final and state.decides == "approved", clients)
    assert workflow.state(_state(portal, label)).issues_letter == "approval"
    assert [letter.kind for letter in _letters(portal, label)] == ["approval"]
    assert "湖滨市经济发展局" in _pdf_text(enterprise, label, _letters(portal, label)[0])


def test_the_bank_api_offers_lakeside_products(lakeside: FastAPI) -> None:
    """The published product enum is the pack's (issue 17): no product is named in the code."""
    spec = _client(lakeside).get("/openapi.json").json()
    body = spec["paths"]["/api/v1/bank/eligibility"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["product"]["enum"] == ["starter_loan"]
