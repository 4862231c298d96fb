"""The reviewer's case page after an amendment replaced a file, on both backends: the file first
submitted is listed as an earlier version of its submission and downloads, the changes are said
per slot by the form's label, and neither another district's reviewer nor another enterprise
can fetch it."""

from __future__ import annotations

import html
import re

from fastapi import FastAPI
from portal_helpers import (
    PDF,
    client_of,
    edit_target,
    enterprise_with_case,
    fire,
    login,
    portal_app,
    register,
    staff,
)

__all__ = ["portal_app"]

AMENDED = PDF + b"% signed contract\n"
BUDGET = {"investment": "12000000", "requested_amount": "3000000"}  # the reopened section's fields


def _visible(page: str) -> str:
    """The page's text as read: tags and scripts out, entities decoded, white space as one space."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", body)))


def test_the_reviewer_sees_and_downloads_what_the_first_submission_sent(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    enterprise, application_id = enterprise_with_case(portal_app)
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal, "reviewer", district="haizhu"))
    assert fire(reviewer, application_id, "accept") == 303
    assert fire(reviewer, application_id, "return_for_amendment", "合同未盖章", sections="budget") == 303

    # The enterprise takes the unsigned contract out and sends the signed one.
    form = enterprise.get(f"/applications/{application_id}/edit").text
    [remove] = re.findall(r'name="action" value="(remove:\d+:investment_evidence)"', form)
    action, token = edit_target(enterprise, application_id)
    assert enterprise.post(action, data={**BUDGET, "csrf_token": token, "action": remove}).status_code == 200
    action, token = edit_target(enterprise, application_id)
    signed = [("attachment:investment_evidence", ("合同-盖章.pdf", AMENDED, "application/pdf"))]
    sent = enterprise.post(action, data={**BUDGET, "csrf_token": token, "action": "submit"}, files=signed)
    assert sent.status_code == 200, sent.text[-2000:]

    page = reviewer.get(f"/review/{application_id}").text
    earlier = page.split("此前提交的文件")[1].split("<h2")[0]
    [(url, name)] = re.findall(rf'href="(/review/{application_id}/attachments/\d+)">([^<]+)<', earlier)
    assert name == "合同.pdf" and "此前提交" in earlier and "第1次提交" in earlier
    assert "投资凭证（合同、发票）" in earlier
    text = _visible(page)
    assert "第2次提交与第1次提交相比：" in text
    assert "投资凭证（合同、发票）：新增 合同-盖章.pdf；移除 合同.pdf" in text
    assert "investment_evidence" not in text
    download = reviewer.get(url)
    assert download.status_code == 200 and download.content == PDF

    reviewer.cookies.set("lang", "en")
    english = _visible(reviewer.get(f"/review/{application_id}").text)
    assert "Files from earlier submissions" in english and "Earlier version" in english
    assert "submission 1" in english and "Submission 2 compared with submission 1:" in english
    assert "Evidence of investment (contracts, invoices): added 合同-盖章.pdf; removed 合同.pdf" in english

    outsider = client_of(portal_app)
    login(outsider, staff(portal, "reviewer", district="tianhe"))
    assert outsider.get(url).status_code == 404
    other = client_of(portal_app)
    register(other)
    attachment_id = url.rsplit("/", 1)[1]
    assert other.get(f"/applications/{application_id}/attachments/{attachment_id}").status_code == 404
    # The owner reads its own earlier file as it reads the current ones.
    own = enterprise.get(f"/applications/{application_id}/attachments/{attachment_id}")
    assert own.status_code == 200 and own.content == PDF
