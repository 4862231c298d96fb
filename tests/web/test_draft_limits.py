"""A saved draft is held to the limits that typing more never fixes (issue 11 §3).

An unfinished answer waits for the submission, but 60 characters where the form allows 40, or
words where a number goes, are said when the draft is saved, by field; those answers are not
stored, and every other answer is.
"""

from __future__ import annotations

import re
from html import unescape

from fastapi import FastAPI
from portal_helpers import (
    client_of,
    edit_target,
    portal_app,
    register,
    scenario_answers,
    start_application,
    stored,
)

__all__ = ["portal_app"]


def test_saving_a_draft_refuses_a_value_over_its_limit_and_keeps_the_rest_waiting(
    portal_app: FastAPI,
) -> None:
    client = client_of(portal_app)
    _, code = register(client)
    application_id = start_application(client)
    version = stored(portal_app, application_id).version
    action, token = edit_target(client, application_id)
    answers = scenario_answers(code, contact_person="张" * 60, investment="很多", summary="太短")
    refused = client.post(action, data={**answers, "csrf_token": token, "action": "save"})
    assert refused.status_code == 422
    block = re.search(r'<div class="alert alert-error".*?</div>', refused.text, re.S)
    assert block is not None
    lines = [
        re.sub(r"<[^>]+>", "", unescape(li)) for li in re.findall(r"<li>(.*?)</li>", block.group(0), re.S)
    ]
    assert any(line.startswith("联系人：") and "40" in line for line in lines), lines
    assert any(line.startswith("项目总投资") for line in lines), lines
    assert not any("项目简介" in line or "summary" in line for line in lines)  # too short waits
    assert "其余填写内容已保存为草稿" in refused.text
    # The refused answers are not stored; the rest of the draft is.
    assert stored(portal_app, application_id).version == version + 1
    saved = client.get(f"/applications/{application_id}/edit").text
    assert answers["project_name"] in saved and "太短" in saved
    assert "张" * 60 not in saved and "很多" not in saved
