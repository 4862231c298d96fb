"""Hostile input against the portal pages and API: each gets a clear 4xx or a form error, and
nothing is stored. XSS, CSRF, IDOR across enterprises and districts, bad uploads, bad USCCs.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from portal_helpers import (
    PDF,
    case_form,
    client_of,
    csrf_of,
    edit_target,
    enterprise_with_case,
    fire,
    login,
    new_uscc,
    portal_app,
    register,
    save_profile,
    scenario_answers,
    scenario_files,
    staff,
    start_application,
    submitted_case,
    xlsx_bytes,
)

from portal.services.blobs import FileBlobs
from portal.services.case_files import file_library
from portal.services.enterprises import actor_for_username
from portal.services.errors import NotFound
from portal.web.uploads import MAX_UPLOAD_BYTES, safe_name, sniff_kind

__all__ = ["portal_app"]

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def assert_escaped(html: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html


def library_size(app: FastAPI, username: str) -> int:
    return len(file_library(app.state.portal, actor_for_username(app.state.portal, username)))


def test_xss_in_names_answers_and_comments_is_escaped_everywhere(portal_app: FastAPI) -> None:
    enterprise = client_of(portal_app)
    _, code = register(enterprise, name=f"广州{XSS}有限公司")
    save_profile(enterprise)
    application_id = submitted_case(
        enterprise,
        code,
        project_name=f"项目{XSS}"[:80],
        contact_person="X<b>y</b>",
        enterprise_name=f"广州{XSS}有限公司",
    )
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal_app.state.portal, "reviewer", district="haizhu"))
    assert_escaped(reviewer.get("/review").text)
    case = reviewer.get(f"/review/{application_id}").text
    assert_escaped(case)
    assert "X&lt;b&gt;y&lt;/b&gt;" in case
    assert fire(reviewer, application_id, "accept") == 303
    assert fire(reviewer, application_id, "reject", f"理由{XSS}") == 303
    assert_escaped(enterprise.get(f"/applications/{application_id}").text)


def test_xss_in_profile_and_registration_fields_is_escaped(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    token = csrf_of(client, "/register")
    page = client.post(
        "/register",
        data={
            "csrf_token": token,
            "uscc": XSS,
            "name": XSS,
            "district": XSS,
            "username": XSS,
            "display_name": XSS,
        },
    )
    assert page.status_code == 422
    assert_escaped(page.text)
    register(client)
    token = csrf_of(client, "/profile")
    profile = client.post("/profile", data={"csrf_token": token, "enterprise.revenue": XSS})
    assert profile.status_code == 422 and "<script>alert" not in profile.text


def test_state_changes_without_a_csrf_token_are_refused(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    username, code = register(client)
    save_profile(client)
    application_id = submitted_case(client, code)
    refused = [
        client.post("/profile", data={"enterprise.revenue": "1"}),
        client.post("/applications", data={"measure_id": "subsidy.ai_scenario_demo"}),
        client.post(f"/applications/{application_id}/withdraw", data={"expected_version": "1"}),
        client.post(
            f"/applications/{application_id}/withdraw", data={"expected_version": "1", "csrf_token": "forged"}
        ),
        client.post("/api/v1/applications", json={"measure_id": "subsidy.ai_scenario_demo"}),
        client.post("/logout"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    listed = client.get("/api/v1/applications").json()["applications"]
    assert [a["id"] for a in listed] == [application_id] and listed[0]["state"] == "submitted"
    assert (
        "enterprise.revenue" not in client.get("/profile").text or "126000000" in client.get("/profile").text
    )
    assert username


def test_one_enterprise_cannot_reach_anothers_application(portal_app: FastAPI) -> None:
    owner, application_id = enterprise_with_case(portal_app)
    other = client_of(portal_app)
    register(other)
    token = csrf_of(other, "/applications")
    probes = [
        other.get(f"/applications/{application_id}"),
        other.get(f"/applications/{application_id}/edit"),
        other.post(
            f"/applications/{application_id}/withdraw", data={"csrf_token": token, "expected_version": "3"}
        ),
        other.post(
            f"/applications/{application_id}/attachments/reuse",
            data={"csrf_token": token, "attachment_id": "1", "slot": "budget_sheet"},
        ),
        other.get(f"/api/v1/applications/{application_id}"),
        other.get(f"/applications/{application_id}/letters/1.pdf"),
    ]
    assert [p.status_code for p in probes] == [404] * len(probes)
    assert owner.get(f"/api/v1/applications/{application_id}").json()["state"] == "submitted"


def test_a_reviewer_of_another_district_cannot_open_or_move_a_case(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    owner, application_id = enterprise_with_case(portal_app)
    outsider = client_of(portal_app)
    login(outsider, staff(portal, "reviewer", district="tianhe"))
    token = csrf_of(outsider, "/review")
    assert outsider.get(f"/review/{application_id}").status_code == 404
    moved = outsider.post(
        f"/review/{application_id}/transition",
        data={"csrf_token": token, "event": "accept", "expected_version": "3"},
    )
    assert moved.status_code == 404
    api = outsider.post(
        f"/api/v1/applications/{application_id}/transitions",
        json={"event": "accept", "expected_version": 3},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")
    # An enterprise user is not a reviewer at all.
    assert owner.get("/review").status_code == 403
    assert owner.get(f"/api/v1/applications/{application_id}").json()["state"] == "submitted"


@pytest.mark.parametrize(
    ("slot", "name", "content", "reason"),
    [
        ("budget_sheet", "big.xlsx", b"PK\x03\x04" + b"\0" * MAX_UPLOAD_BYTES, "超过 20 MB"),
        (
            "investment_evidence",
            "invoice.pdf",
            b"MZ\x90\x00 this is a windows program",
            "文件内容不是可接受的格式",
        ),
        ("budget_sheet", "photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "此处只接受 XLSX、PDF"),
        ("investment_evidence", "empty.pdf", b"", "文件为空"),
    ],
    ids=["oversize", "exe-named-pdf", "png-named-xlsx", "empty"],
)
def test_bad_uploads_are_refused_with_the_reason_and_nothing_is_stored(
    portal_app: FastAPI, slot: str, name: str, content: bytes, reason: str
) -> None:
    client = client_of(portal_app)
    username, code = register(client)
    save_profile(client)
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "save"}
    response = client.post(
        action, data=data, files=[(f"attachment:{slot}", (name, content, "application/pdf"))]
    )
    assert response.status_code == 422 and reason in response.text
    assert library_size(portal_app, username) == 0
    # The answers, all valid, were saved as a draft, and the page says so: only the file was refused.
    assert "其余填写内容已保存为草稿" in response.text
    assert "城市视觉示范项目" in client.get(f"/applications/{application_id}/edit").text


def test_path_traversal_in_a_file_name_is_neutralised(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    username, code = register(client)
    save_profile(client)
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "save"}
    files = [
        ("attachment:investment_evidence", ("../../../../etc/passwd.pdf", PDF, "application/pdf")),
        ("attachment:budget_sheet", ("..\\..\\windows\\win.xlsx", xlsx_bytes(), "application/pdf")),
    ]
    assert client.post(action, data=data, files=files, follow_redirects=False).status_code == 303
    stored = file_library(portal_app.state.portal, actor_for_username(portal_app.state.portal, username))
    assert sorted(a.original_name for a in stored) == ["passwd.pdf", "win.xlsx"]
    portal = portal_app.state.portal
    data_dir = Path(portal.data_dir).resolve()
    for attachment in stored:
        assert portal.blobs.read(attachment.sha256)
        if isinstance(portal.blobs, FileBlobs):
            path = data_dir / "attachments" / attachment.sha256[:2] / attachment.sha256
            assert path.is_file() and path.resolve().is_relative_to(data_dir)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91440106MA5D7K2Q6X", "校验位不正确"),
        ("9144010", "应为 18 位"),
        ("91440106MA5D7K2QIO", "无效字符"),
    ],
    ids=["check-digit", "length", "characters"],
)
def test_a_malformed_uscc_is_a_field_error_and_nothing_is_stored(
    portal_app: FastAPI, code: str, message: str
) -> None:
    client = client_of(portal_app)
    token = csrf_of(client, "/register")
    username = f"bad{new_uscc()[-6:]}"
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "uscc": code,
            "name": "广州校验测试有限公司",
            "district": "haizhu",
            "username": username,
            "display_name": "测试",
            "password": "long-enough-password",
            "password2": "long-enough-password",
        },
    )
    assert response.status_code == 422 and message in response.text
    assert 'id="field-uscc-error"' in response.text
    with pytest.raises(NotFound):
        actor_for_username(portal_app.state.portal, username)


def test_api_refuses_bad_bodies_with_problem_json(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    token = client.get("/api/v1/session").json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    cases = [
        (
            client.post(
                "/api/v1/applications",
                content=b"{not json",
                headers={**headers, "content-type": "application/json"},
            ),
            400,
        ),
        (client.post("/api/v1/applications", json={"measure_id": 3}, headers=headers), 422),
        (client.post("/api/v1/applications", json={"measure_id": "x", "extra": 1}, headers=headers), 422),
        (client.post("/api/v1/applications", data={"measure_id": "x"}, headers=headers), 415),
        (client.post("/api/v1/applications", json={"measure_id": "no.such_measure"}, headers=headers), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == status
    assert client.get("/api/v1/applications").json() == {"applications": []}


def test_api_crud_and_stale_transition(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    client = client_of(portal_app)
    _, code = register(client)
    save_profile(client)
    headers = {"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]}
    created = client.post(
        "/api/v1/applications", json={"measure_id": "subsidy.ai_scenario_demo"}, headers=headers
    )
    assert created.status_code == 201
    application_id = created.json()["id"]
    answers = {**scenario_answers(code), "investment": 12000000.10, "requested_amount": "3000000"}
    saved = client.put(
        f"/api/v1/applications/{application_id}/answers",
        json={"answers": answers, "expected_version": created.json()["version"]},
        headers=headers,
    )
    assert saved.status_code == 200, saved.text
    body = client.get(f"/api/v1/applications/{application_id}").json()
    # Exact decimal text, never a binary float on the way.
    assert isinstance(body["answers"]["investment"], str)
    assert Decimal(body["answers"]["investment"]) == Decimal("12000000.10")
    # Uploads go through the page (multipart), which posts the whole form as a browser does.
    action, token = edit_target(client, application_id)
    page_post = {**scenario_answers(code), "csrf_token": token, "action": "save"}
    assert (
        client.post(action, data=page_post, files=scenario_files(), follow_redirects=False).status_code == 303
    )
    version = client.get(f"/api/v1/applications/{application_id}").json()["version"]
    submitted = client.post(
        f"/api/v1/applications/{application_id}/submit", json={"expected_version": version}, headers=headers
    )
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted", submitted.text

    reviewer = client_of(portal_app)
    login(reviewer, staff(portal, "reviewer", district="haizhu"))
    r_headers = {"X-CSRF-Token": reviewer.get("/api/v1/session").json()["csrf_token"]}
    version = submitted.json()["version"]
    url = f"/api/v1/applications/{application_id}/transitions"
    accepted = reviewer.post(url, json={"event": "accept", "expected_version": version}, headers=r_headers)
    assert accepted.status_code == 200 and accepted.json()["state"] == "district_review"
    stale = reviewer.post(
        url, json={"event": "reject", "comment": "x", "expected_version": version}, headers=r_headers
    )
    assert stale.status_code == 409 and stale.headers["content-type"].startswith("application/problem+json")
    no_comment = reviewer.post(
        url, json={"event": "reject", "expected_version": version + 1}, headers=r_headers
    )
    assert no_comment.status_code == 409 and no_comment.json()["code"] == "comment_required"
    assert client.get(f"/api/v1/applications/{application_id}").json()["state"] == "district_review"
    version_now, _ = case_form(reviewer, f"/review/{application_id}")
    assert version_now == version + 1


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PDF, "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "png"),
        (_zip("OFD.xml", "Doc_0/Document.xml"), "ofd"),
        (xlsx_bytes(), "xlsx"),
        (_zip("[Content_Types].xml", "word/document.xml"), None),  # a .docx is not a spreadsheet
        (b"PK\x03\x04 not really a zip", None),
        (b"GIF89a", None),
    ],
    ids=["pdf", "jpeg", "png", "ofd", "xlsx", "docx", "broken-zip", "gif"],
)
def test_upload_kinds_are_told_by_content(content: bytes, kind: str | None) -> None:
    assert sniff_kind(content) == kind


def test_display_names_lose_paths_and_control_characters() -> None:
    assert safe_name("../../etc/passwd", "pdf") == "passwd"
    assert safe_name("C:\\Users\\a\\报表.xlsx", "xlsx") == "报表.xlsx"
    assert safe_name("a\x00b<script>.pdf", "pdf") == "a_b_script_.pdf"
    assert safe_name("..", "png") == "attachment.png"
    assert len(safe_name("长" * 300 + ".pdf", "pdf")) == 120 and safe_name(
        "长" * 300 + ".pdf", "pdf"
    ).endswith(".pdf")
