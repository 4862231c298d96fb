"""Taking a wrong file back out of a slot while the application can still be changed, on both
backends: the answers typed meanwhile are saved with it, the file stays in the library, the
trail says so in words, and a submitted application keeps its files."""

from __future__ import annotations

import html
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    PDF,
    case_form,
    client_of,
    edit_target,
    portal_app,
    register,
    save_profile,
    scenario_answers,
    start_application,
)
from sqlmodel import select

from portal.db.tables import ApplicationAttachment, AuditEvent
from portal.services.case_files import file_library
from portal.services.enterprises import actor_for_username

__all__ = ["portal_app"]

SLOT = "investment_evidence"


def _slots(app: FastAPI, application_id: int) -> list[str]:
    with app.state.portal.reading() as session:
        link = ApplicationAttachment
        return sorted(session.exec(select(link.slot).where(link.application_id == application_id)).all())


def _remove_buttons(page: str) -> list[str]:
    return re.findall(r'name="action" value="(remove:\d+:[a-z_]+)"', page)


def _draft_with_two_files(client: TestClient, code: str) -> int:
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    files = [
        ("attachment:" + SLOT, ("发票-错误.pdf", PDF + b"% wrong\n", "application/pdf")),
        ("attachment:" + SLOT, ("发票.pdf", PDF + b"% right\n", "application/pdf")),
    ]
    data = {**scenario_answers(code), "csrf_token": token, "action": "save"}
    assert client.post(action, data=data, files=files, follow_redirects=False).status_code == 303
    return application_id


def test_a_wrong_file_is_removed_and_what_was_typed_is_kept(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    username, code = register(client)
    save_profile(client)
    application_id = _draft_with_two_files(client, code)
    page = client.get(f"/applications/{application_id}/edit").text
    # Enter in a field presses the form's first submit button: it must save, never remove a file.
    first = re.search(r'<button[^>]*type="submit"[^>]*name="action" value="([^"]+)"', page)
    assert first is not None and first.group(1) == "save"
    wrong, right = _remove_buttons(page)
    assert "移除" in page and "发票-错误.pdf" in page

    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code, project_name="改过的项目名称"), "csrf_token": token, "action": wrong}
    removed = client.post(action, data=data, follow_redirects=False)
    assert removed.status_code == 303
    after = html.unescape(client.get(removed.headers["location"]).text)
    assert "已移除文件“发票-错误.pdf”，该文件仍保留在“我的附件库”中。" in after
    assert "改过的项目名称" in after  # typed before pressing remove, saved with it
    assert _remove_buttons(after) == [right] and _slots(portal_app, application_id) == [SLOT]
    portal = portal_app.state.portal
    names = sorted(f.original_name for f in file_library(portal, actor_for_username(portal, username)))
    assert names == ["发票-错误.pdf", "发票.pdf"]  # the library keeps it
    with portal.reading() as session:
        events = session.exec(
            select(AuditEvent.event).where(AuditEvent.subject_id == str(application_id))  # type: ignore[arg-type]
        ).all()
    assert events.count("detach") == 1

    # The same button again (a replayed post): the file is no longer there.
    action, token = edit_target(client, application_id)
    again = client.post(action, data={**data, "csrf_token": token})
    assert again.status_code == 404
    client.cookies.set("lang", "en")
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": right}
    english = client.post(action, data=data)
    assert english.status_code == 200
    assert 'Removed "发票.pdf"; it stays in My files.' in html.unescape(english.text)
    assert _slots(portal_app, application_id) == []


def test_a_submitted_applications_files_stay(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    _, code = register(client)
    save_profile(client)
    application_id = _draft_with_two_files(client, code)
    [button, _] = _remove_buttons(client.get(f"/applications/{application_id}/edit").text)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "submit"}
    files = [("attachment:budget_sheet", ("预算.pdf", PDF + b"% budget\n", "application/pdf"))]
    assert client.post(action, data=data, files=files, follow_redirects=False).status_code == 303
    version, token = case_form(client, f"/applications/{application_id}")
    late = client.post(
        f"/applications/{application_id}/edit?v={version}",
        data={**scenario_answers(code), "csrf_token": token, "action": button},
    )
    assert late.status_code == 409
    assert _slots(portal_app, application_id) == ["budget_sheet", SLOT, SLOT]
    # Said as a sentence in the reader's language: a capital, the stage in quotes, a full stop.
    client.cookies.set("lang", "en")
    again = client.post(
        f"/applications/{application_id}/edit?v={version}",
        data={**scenario_answers(code), "csrf_token": token, "action": button},
    )
    assert again.status_code == 409
    assert re.search(r"An application at the “[^”']+” stage cannot be changed\.", again.text), again.text
