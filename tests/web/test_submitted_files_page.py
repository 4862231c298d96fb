"""The reviewer's case page after an amendment replaced a file, on both backends: the file first
submitted is listed as an earlier version of its submission and downloads, the changes are said
per slot by the form's label, and neither another district's reviewer nor another enterprise
can fetch it. The enterprise reads its last submission's files apart from an amendment's, and the
expert the earlier files as the reviewer does."""

from __future__ import annotations

import html
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    PDF,
    client_of,
    edit_target,
    login,
    portal_app,
    register,
    returned_case,
    staff,
)
from review_helpers import BUREAU, ReviewedCase, assign, declare, expert_client, pass_to_experts

__all__ = ["portal_app"]

AMENDED = PDF + b"% signed contract\n"
BUDGET = {"investment": "12000000", "requested_amount": "3000000"}  # the reopened section's fields


def _visible(page: str) -> str:
    """The page's text as read: tags and scripts out, entities decoded, white space as one space."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", body)))


def _swap_contract(enterprise: TestClient, application_id: int, action_name: str) -> None:
    """The enterprise takes the unsigned contract out and puts the signed one in (`action_name`:
    save the amendment, or submit it)."""
    form = enterprise.get(f"/applications/{application_id}/edit").text
    [remove] = re.findall(r'name="action" value="(remove:\d+:investment_evidence)"', form)
    action, token = edit_target(enterprise, application_id)
    assert enterprise.post(action, data={**BUDGET, "csrf_token": token, "action": remove}).status_code == 200
    action, token = edit_target(enterprise, application_id)
    signed = [("attachment:investment_evidence", ("合同-盖章.pdf", AMENDED, "application/pdf"))]
    sent = enterprise.post(action, data={**BUDGET, "csrf_token": token, "action": action_name}, files=signed)
    assert sent.status_code in (200, 303), sent.text[-2000:]


def test_the_reviewer_sees_and_downloads_what_the_first_submission_sent(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    enterprise, reviewer, application_id = returned_case(portal_app, "合同未盖章")
    _swap_contract(enterprise, application_id, "submit")

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


def test_the_enterprise_reads_its_submission_apart_from_its_amendment_and_the_expert_the_earlier_file(
    portal_app: FastAPI,
) -> None:
    enterprise, reviewer, application_id = returned_case(portal_app, "合同未盖章")
    _swap_contract(enterprise, application_id, "save")

    page = enterprise.get(f"/applications/{application_id}").text
    sent, pending = page.split('id="submitted-title"')[1].split("修改中，尚未提交的文件")
    # What the submission sent stays listed, the contract marked as taken out of the amendment …
    assert re.findall(r'/attachments/\d+">([^<]+)<', sent) == ["budget.xlsx", "合同.pdf"]
    assert re.search(r">合同\.pdf</a> <span[^>]*>修改中已移除<", sent) and sent.count("修改中已移除") == 1
    # … and the new file is listed apart, as not yet submitted.
    pending = pending.split("<h2")[0]
    assert re.findall(r'/attachments/\d+">([^<]+)<', pending) == ["合同-盖章.pdf"]
    assert "重新提交后才会送审" in pending
    enterprise.cookies.set("lang", "en")
    english = _visible(enterprise.get(f"/applications/{application_id}").text)
    assert (
        "Taken out in your amendment" in english and "Files in your amendment, not yet submitted" in english
    )
    assert "investment_evidence" not in english

    # Resubmitted and passed to the panel, the expert lists the replaced contract as the reviewer does.
    action, token = edit_target(enterprise, application_id)
    sent_again = enterprise.post(action, data={**BUDGET, "csrf_token": token, "action": "submit"})
    assert sent_again.status_code == 200, sent_again.text[-2000:]
    case = ReviewedCase(portal_app, application_id, enterprise, client_of(portal_app), "", reviewer)
    case.bureau_name = staff(case.portal, "reviewer", bureau=BUREAU)
    login(case.bureau, case.bureau_name)
    pass_to_experts(case.portal, application_id, {"district": reviewer, "bureau": case.bureau})
    name, _ = assign(case)
    expert = expert_client(case, name)
    declare(expert, application_id)
    page = expert.get(f"/expert/{application_id}").text
    earlier = page.split("此前提交的文件")[1].split("<h2")[0]
    [(url, file_name)] = re.findall(rf'href="(/expert/{application_id}/attachments/\d+)">([^<]+)<', earlier)
    assert file_name == "合同.pdf" and "此前提交" in earlier and "第1次提交" in earlier
    assert "投资凭证（合同、发票）" in earlier
    download = expert.get(url)
    assert download.status_code == 200 and download.content == PDF
    expert.cookies.set("lang", "en")
    english = _visible(expert.get(f"/expert/{application_id}").text)
    assert "Files from earlier submissions" in english and "submission 1" in english


def _attachments_block(page: str) -> str:
    return page.split("<h2>附件</h2>")[1].split("<h2")[0]


def test_the_reviewer_sees_nothing_of_an_amendment_until_it_is_resubmitted(portal_app: FastAPI) -> None:
    enterprise, reviewer, application_id = returned_case(portal_app, "合同未盖章")
    _swap_contract(enterprise, application_id, "save")
    own = enterprise.get(f"/applications/{application_id}").text.split("修改中，尚未提交的文件")[1]
    [draft_id] = re.findall(r'/attachments/(\d+)">合同-盖章\.pdf<', own)

    block = _attachments_block(reviewer.get(f"/review/{application_id}").text)
    # What the submission sent, the contract the amendment took out included; not the draft.
    assert re.findall(rf'href="/review/{application_id}/attachments/\d+">([^<]+)<', block) == [
        "budget.xlsx",
        "合同.pdf",
    ]
    assert "合同-盖章.pdf" not in block and "此前提交的文件" not in block
    assert "重新提交后才会显示" in block
    assert reviewer.get(f"/review/{application_id}/attachments/{draft_id}").status_code == 404
    assert enterprise.get(f"/applications/{application_id}/attachments/{draft_id}").content == AMENDED

    action, token = edit_target(enterprise, application_id)
    sent = enterprise.post(action, data={**BUDGET, "csrf_token": token, "action": "submit"})
    assert sent.status_code == 200, sent.text[-2000:]
    block = _attachments_block(reviewer.get(f"/review/{application_id}").text)
    names = re.findall(rf'href="/review/{application_id}/attachments/\d+">([^<]+)<', block)
    assert names[:2] == ["budget.xlsx", "合同-盖章.pdf"] and names[2:] == ["合同.pdf"]  # then the earlier one
    assert re.search(r">合同-盖章\.pdf</a> <span[^>]*>第2次提交新增<", block) and block.count("新增<") == 1
    assert reviewer.get(f"/review/{application_id}/attachments/{draft_id}").content == AMENDED
    reviewer.cookies.set("lang", "en")
    assert "New in submission 2" in _visible(reviewer.get(f"/review/{application_id}").text)
