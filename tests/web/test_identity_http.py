"""Identity fields and the amendment scope over HTTP (issue 10 §5): the page, the JSON API and
uploads are refused alike, and a refusal writes nothing."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    PDF,
    client_of,
    edit_target,
    login,
    portal_app,
    register,
    save_profile,
    scenario_answers,
    scenario_files,
    staff,
    start_application,
    submitted_case,
)
from sqlalchemy import func
from sqlmodel import col, select

from portal.db.tables import Application, ApplicationAnswers, Attachment, AttachmentBlob, AuditEvent

__all__ = ["portal_app"]


def _written(app: FastAPI) -> tuple[int, ...]:
    portal = app.state.portal
    with portal.reading() as session:
        rows = tuple(
            int(session.exec(select(func.count()).select_from(table)).one())
            for table in (ApplicationAnswers, Attachment, AttachmentBlob, AuditEvent)
        )
    files = sum(1 for p in (portal.data_dir / "attachments").rglob("*") if p.is_file())
    return (*rows, files)


def _api_token(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]}


def test_a_changed_identity_is_refused_with_a_field_error_on_the_page_and_the_api(
    portal_app: FastAPI,
) -> None:
    client = client_of(portal_app)
    _, code = register(client)
    save_profile(client)
    application_id = start_application(client)
    form = client.get(f"/applications/{application_id}/edit").text
    assert 'name="enterprise_name" value="广州测试人工智能有限公司"' in form
    assert "readonly" in form and "来自企业注册登记信息" in form
    action, token = edit_target(client, application_id)
    before = _written(portal_app)
    data = {
        **scenario_answers(code, enterprise_name="别家人工智能有限公司"),
        "csrf_token": token,
        "action": "submit",
    }
    page = client.post(action, data=data, files=scenario_files(), follow_redirects=False)
    assert page.status_code == 422
    assert "企业名称须与已核验的企业信息一致" in page.text and 'href="#field-enterprise_name"' in page.text
    # What was valid in the post was kept (its files, its other answers); the changed name was
    # not: the draft holds the verified profile's name.
    after = _written(portal_app)
    assert after[1] > before[1]
    with portal_app.state.portal.reading() as session:
        version = session.get(Application, application_id).version  # type: ignore[union-attr]
        stored = session.exec(
            select(ApplicationAnswers)
            .where(ApplicationAnswers.application_id == application_id)
            .order_by(col(ApplicationAnswers.version).desc())
        ).first()
    assert stored is not None and stored.answers["enterprise_name"] == "广州测试人工智能有限公司"
    api = client.put(
        f"/api/v1/applications/{application_id}/answers",
        json={
            "answers": {**scenario_answers(code), "uscc": "91350100M000100Y43"},
            "expected_version": version,
            "lang": "en",
        },
        headers=_api_token(client),
    )
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in api.json()["errors"]] == ["uscc"]
    assert _written(portal_app)[0] == after[0]


def test_the_api_and_uploads_change_only_the_reopened_sections(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    client = client_of(portal_app)
    _, code = register(client)
    save_profile(client)
    application_id = submitted_case(client, code)
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal, "reviewer", district="haizhu"))
    headers = _api_token(reviewer)

    def version() -> int:
        with portal.reading() as session:
            return session.get(Application, application_id).version  # type: ignore[union-attr]

    for event in ("accept",):
        moved = reviewer.post(
            f"/api/v1/applications/{application_id}/transitions",
            json={"event": event, "expected_version": version()},
            headers=headers,
        )
        assert moved.status_code == 200, moved.text
    returned = reviewer.post(
        f"/api/v1/applications/{application_id}/transitions",
        json={
            "event": "return_for_amendment",
            "comment": "请修改项目名称",
            "expected_version": version(),
            "sections": ["project"],
        },
        headers=headers,
    )
    assert returned.status_code == 200, returned.text
    before = _written(portal_app)
    api = client.put(
        f"/api/v1/applications/{application_id}/answers",
        json={"answers": scenario_answers(code, contact_person="李四"), "expected_version": version()},
        headers=_api_token(client),
    )
    assert api.status_code == 422 and [e["field"] for e in api.json()["errors"]] == ["contact_person"]
    assert _written(portal_app) == before
    # An upload into a closed section through the page is refused; no row, no audit, no file.
    action, token = edit_target(client, application_id)
    refused = client.post(
        action,
        data={"csrf_token": token},
        files=[("attachment:investment_evidence", ("新合同.pdf", PDF + b"new", "application/pdf"))],
        follow_redirects=False,
    )
    assert refused.status_code == 409 and "未退回补正" in refused.text
    assert _written(portal_app) == before
    # The reopened section changes through the API.
    fixed = client.put(
        f"/api/v1/applications/{application_id}/answers",
        json={
            "answers": scenario_answers(code, project_name="城市视觉示范项目（修订）"),
            "expected_version": version(),
        },
        headers=_api_token(client),
    )
    assert fixed.status_code == 200, fixed.text
