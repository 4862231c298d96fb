"""Disguised uploads and upload floods, on both backends: a file downloads as what its bytes
are, its name reads as it is stored, and the quotas per post and per case refuse a whole post
with a field error while keeping nothing of it.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

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
    staff,
    start_application,
    xlsx_bytes,
)
from sqlmodel import select

from portal.db.tables import ApplicationAttachment
from portal.services.applications import MAX_FILES_PER_CASE, MAX_FILES_PER_POST
from portal.services.case_files import file_library
from portal.services.enterprises import actor_for_username

__all__ = ["portal_app"]


def _stored_names(app: FastAPI, username: str) -> list[str]:
    portal = app.state.portal
    return sorted(a.original_name for a in file_library(portal, actor_for_username(portal, username)))


def _pdf(n: int) -> bytes:
    """A distinct small PDF per `n`, so that no two files are the same stored blob."""
    return PDF + f"% {n}\n".encode()


def test_a_disguised_upload_downloads_as_what_it_is(portal_app: FastAPI) -> None:
    enterprise = client_of(portal_app)
    username, code = register(enterprise)
    save_profile(enterprise)
    files = [
        ("attachment:investment_evidence", ("invoice.hta", _pdf(1), "application/hta")),
        ("attachment:investment_evidence", ("scan\u202efdp.hta", _pdf(2), "application/pdf")),
        ("attachment:budget_sheet", ("budget.xlsx", xlsx_bytes(), "application/octet-stream")),
    ]
    application_id = _submit_with(enterprise, code, files)
    assert _stored_names(portal_app, username) == ["budget.xlsx", "invoice.hta", "scanfdp.hta"]

    reviewer = client_of(portal_app)
    login(reviewer, staff(portal_app.state.portal, "reviewer", district="haizhu"))
    page = reviewer.get(f"/review/{application_id}").text
    assert "\u202e" not in page and "scanfdp.hta" in page
    names = set()
    for link in set(re.findall(rf"/review/{application_id}/attachments/\d+", page)):
        response = reviewer.get(link)
        assert response.status_code == 200
        disposition = response.headers["content-disposition"]
        names.add(unquote(disposition.split("filename*=utf-8''")[1]))
    assert names == {"invoice.pdf", "scanfdp.pdf", "budget.xlsx"}


def _submit_with(client: TestClient, code: str, files: list[tuple[str, tuple[str, bytes, str]]]) -> int:
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "submit"}
    response = client.post(action, data=data, files=files, follow_redirects=False)
    assert response.status_code == 303, response.text[-2000:]
    return application_id


def test_more_files_than_a_post_may_carry_are_refused_whole(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    username, code = register(client)
    save_profile(client)
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "save"}
    flood = [
        ("attachment:investment_evidence", (f"p{n}.pdf", _pdf(n), "application/pdf"))
        for n in range(MAX_FILES_PER_POST + 196)
    ]
    response = client.post(action, data=data, files=flood)
    assert response.status_code == 422
    assert f"一次最多上传 {MAX_FILES_PER_POST} 个文件" in response.text
    assert 'id="form-errors-title"' in response.text
    assert _stored_names(portal_app, username) == []
    assert "城市视觉示范项目" not in client.get(f"/applications/{application_id}/edit").text

    client.cookies.set("lang", "en")
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "save"}
    response = client.post(action, data=data, files=flood[: MAX_FILES_PER_POST + 1])
    assert response.status_code == 422 and f"At most {MAX_FILES_PER_POST} files" in response.text


def test_a_case_holds_at_most_its_quota_and_the_post_that_passes_it_keeps_nothing(
    portal_app: FastAPI,
) -> None:
    client = client_of(portal_app)
    username, code = register(client)
    save_profile(client)
    application_id = start_application(client)
    sent = 0
    while sent < MAX_FILES_PER_CASE:
        batch = min(MAX_FILES_PER_POST, MAX_FILES_PER_CASE - sent)
        action, token = edit_target(client, application_id)
        files = [
            ("attachment:investment_evidence", (f"p{sent + n}.pdf", _pdf(sent + n), "application/pdf"))
            for n in range(batch)
        ]
        data = {**scenario_answers(code), "csrf_token": token, "action": "save"}
        assert client.post(action, data=data, files=files, follow_redirects=False).status_code == 303
        sent += batch
    assert len(_stored_names(portal_app, username)) == MAX_FILES_PER_CASE

    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code, project_name="不应保存"), "csrf_token": token, "action": "save"}
    extra = [("attachment:investment_evidence", ("one-more.pdf", _pdf(999), "application/pdf"))]
    response = client.post(action, data=data, files=extra)
    assert response.status_code == 422 and f"每项申报最多附 {MAX_FILES_PER_CASE} 个文件" in response.text
    assert "本次填写的内容均未保存" in response.text  # the summary says plainly that nothing was kept
    assert len(_stored_names(portal_app, username)) == MAX_FILES_PER_CASE
    assert "one-more.pdf" not in _stored_names(portal_app, username)

    assert "不应保存" not in client.get(f"/applications/{application_id}/edit").text

    # Reusing a file from the library past the quota is told at the slot, in words, too.
    portal = portal_app.state.portal
    stored = file_library(portal, actor_for_username(portal, username))[0]
    _, token = edit_target(client, application_id)
    form = {"csrf_token": token, "attachment_id": str(stored.id), "slot": "budget_sheet"}
    reused = client.post(f"/applications/{application_id}/attachments/reuse", data=form)
    assert reused.status_code == 422 and f"每项申报最多附 {MAX_FILES_PER_CASE} 个文件" in reused.text
    assert 'id="form-errors-title"' in reused.text and "attachments:" not in reused.text


def test_the_same_bytes_under_a_new_name_say_which_file_is_used(portal_app: FastAPI) -> None:
    """A file is kept once per enterprise: uploading its bytes again under another name reuses
    it, and the page says so, naming both, instead of silently showing the earlier name."""
    client = client_of(portal_app)
    _, code = register(client)
    save_profile(client)
    application_id = start_application(client)
    for name in ("营业执照.pdf", "营业执照-2026.pdf"):
        action, token = edit_target(client, application_id)
        data = {**scenario_answers(code), "csrf_token": token, "action": "save"}
        files = [("attachment:investment_evidence", (name, _pdf(7), "application/pdf"))]
        saved = client.post(action, data=data, files=files, follow_redirects=False)
        assert saved.status_code == 303, saved.text[-2000:]
    page = client.get(saved.headers["location"]).text
    assert "“营业执照-2026.pdf”与您之前上传的“营业执照.pdf”内容完全相同" in page
    assert "PDF 文件" in page and "application/pdf" not in page


def test_a_library_file_goes_only_into_a_slot_that_takes_its_kind(portal_app: FastAPI) -> None:
    """Reusing a stored file is refused at the slot, as an upload of it would be; nothing is linked."""
    client = client_of(portal_app)
    username, code = register(client)
    save_profile(client)
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "save"}
    files = [("attachment:budget_sheet", ("预算表.xlsx", xlsx_bytes(), "application/octet-stream"))]
    assert client.post(action, data=data, files=files, follow_redirects=False).status_code == 303
    portal = portal_app.state.portal
    [sheet] = file_library(portal, actor_for_username(portal, username))
    _, token = edit_target(client, application_id)
    reuse = f"/applications/{application_id}/attachments/reuse"
    form = {"csrf_token": token, "attachment_id": str(sheet.id), "slot": "investment_evidence"}
    refused = client.post(reuse, data=form)
    assert refused.status_code == 422
    assert "文件内容为 XLSX，此处只接受 PDF、OFD、JPEG、PNG。" in refused.text
    assert 'id="form-errors-title"' in refused.text
    client.cookies.set("lang", "en")
    english = client.post(reuse, data=form)
    said = html.unescape(english.text)
    assert english.status_code == 422
    assert "The file's content is XLSX; this slot accepts only PDF, OFD, JPEG, PNG." in said
    # Nothing was linked to the evidence slot; the sheet's own slot still takes it.
    with portal.reading() as session:
        slots = session.exec(
            select(ApplicationAttachment.slot).where(ApplicationAttachment.application_id == application_id)
        ).all()
    assert slots == ["budget_sheet"]
    again = client.post(reuse, data={**form, "slot": "budget_sheet"}, follow_redirects=False)
    assert again.status_code == 303
