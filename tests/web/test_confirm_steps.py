"""Irreversible actions ask once more on a page of their own; every action says what it did;
a stale action leads back to the case with the typed comment kept. Real HTTP forms throughout."""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    case_form,
    client_of,
    edit_target,
    enterprise_with_case,
    fire,
    login,
    portal_app,
    register,
    save_profile,
    scenario_answers,
    staff,
    start_application,
    stored,
)

from portal.web.i18n import Translator

__all__ = ["portal_app"]
COMMENT = "材料不齐 <b>全</b>，请核对后再报。"


def state_of(app: FastAPI, application_id: int) -> str:
    return stored(app, application_id).state


def reviewer_on(app: FastAPI, application_id: int) -> TestClient:
    """A district reviewer with the case accepted into their review."""
    reviewer = client_of(app)
    login(reviewer, staff(app.state.portal, "reviewer", district="haizhu"))
    version, token = case_form(reviewer, f"/review/{application_id}")
    data = {"csrf_token": token, "event": "accept", "expected_version": str(version)}
    moved = reviewer.post(f"/review/{application_id}/transition", data=data, follow_redirects=False)
    assert moved.status_code == 303  # accepting can be undone by the stages after it: no question asked
    return reviewer


def labels(app: FastAPI, event: str, lang: str) -> tuple[str, str]:
    workflow = app.state.portal.workflows["municipal"]
    edge = next(e for e in workflow.transitions if e.event == event)
    return getattr(edge.label, lang), getattr(workflow.state(edge.target).label, lang)


def test_the_workflow_says_which_actions_are_irreversible(portal_app: FastAPI) -> None:
    workflow = portal_app.state.portal.workflows["municipal"]
    for edge in workflow.transitions:
        # An event with guarded alternatives asks first if any of them cannot be undone.
        expected = any(
            e.style == "danger" or workflow.state(e.target).final
            for e in workflow.transitions_from(edge.source)
            if e.event == edge.event
        )
        assert workflow.irreversible(edge.source, edge.event) is expected, edge
    assert not workflow.irreversible("submitted", "accept")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_withdraw_asks_first_then_says_what_it_did(portal_app: FastAPI, lang: str) -> None:
    client, application_id = enterprise_with_case(portal_app)
    client.cookies.set("lang", lang)
    version, token = case_form(client, f"/applications/{application_id}")
    url = f"/applications/{application_id}/withdraw"
    data = {"csrf_token": token, "expected_version": str(version), "comment": COMMENT}
    asked = client.post(url, data=data, follow_redirects=False)
    t = Translator(lang)
    action, stage = labels(portal_app, "withdraw", lang)
    assert asked.status_code == 200
    assert t("confirm_step.title", action=action) in html.unescape(asked.text)
    assert t("confirm_step.consequence", stage=stage) in html.unescape(asked.text)
    assert html.escape(COMMENT, quote=False) in asked.text and "<b>全</b>" not in asked.text
    assert "<script>" not in asked.text and 'name="confirm" value="yes"' in asked.text
    assert state_of(portal_app, application_id) == "submitted"  # asking changed nothing
    assert client.post(url, data={**data, "confirm": "yes", "csrf_token": "forged"}).status_code == 403
    done = client.post(url, data={**data, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and state_of(portal_app, application_id) == "withdrawn"
    page = html.unescape(client.get(done.headers["location"]).text)
    assert 'class="alert alert-success flash"' in page
    assert t("flash.moved", action=action, stage=stage) in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_withdrawing_from_the_case_page_names_the_measure_and_asks_for_no_missing_comment(
    portal_app: FastAPI, lang: str
) -> None:
    """The case page's withdraw button has no comment box: the question names the case and its
    measure, and does not report a comment nobody could give."""
    client, application_id = enterprise_with_case(portal_app)
    client.cookies.set("lang", lang)
    version, token = case_form(client, f"/applications/{application_id}")
    data = {"csrf_token": token, "expected_version": str(version)}
    asked = html.unescape(client.post(f"/applications/{application_id}/withdraw", data=data).text)
    t = Translator(lang)
    title = stored(portal_app, application_id).measure_id
    measure = portal_app.state.portal.pack.versions(title)[-1].title.get(lang)
    assert f"{t('app.title', id=application_id)} · {measure}" in asked
    assert t("confirm_step.comment") not in asked and t("confirm_step.no_comment") not in asked


@pytest.mark.parametrize(
    ("lang", "discard", "withdraw"),
    [("zh", "放弃草稿", "撤回申报"), ("en", "Discard the draft", "Withdraw the application")],
)
def test_a_draft_is_discarded_not_withdrawn(
    portal_app: FastAPI, lang: str, discard: str, withdraw: str
) -> None:
    """A draft never reached anyone: its button, question, flash and history say 放弃草稿, the
    pack's label of `withdraw` from the draft stage, and never 撤回申报."""
    client = client_of(portal_app)
    register(client)
    save_profile(client)
    application_id = start_application(client)
    client.cookies.set("lang", lang)
    path = f"/applications/{application_id}"
    page = html.unescape(client.get(path).text)
    assert re.search(r'type="submit">' + re.escape(discard) + "</button>", page)
    assert withdraw not in page
    version, token = case_form(client, path)
    data = {"csrf_token": token, "expected_version": str(version)}
    asked = html.unescape(client.post(f"{path}/withdraw", data=data, follow_redirects=False).text)
    t = Translator(lang)
    assert t("confirm_step.title", action=discard) in asked and withdraw not in asked
    done = client.post(f"{path}/withdraw", data={**data, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and state_of(portal_app, application_id) == "withdrawn"
    after = html.unescape(client.get(path).text)
    stage = getattr(portal_app.state.portal.workflows["municipal"].state("withdrawn").label, lang)
    assert t("flash.moved", action=discard, stage=stage) in after
    assert withdraw not in after and after.count(discard) >= 2  # the flash and the history row


def test_reject_asks_first_and_going_back_keeps_the_comment(portal_app: FastAPI) -> None:
    _, application_id = enterprise_with_case(portal_app)
    reviewer = reviewer_on(portal_app, application_id)
    version, token = case_form(reviewer, f"/review/{application_id}")
    data = {"csrf_token": token, "event": "reject", "expected_version": str(version), "comment": COMMENT}
    url = f"/review/{application_id}/transition"
    asked = reviewer.post(url, data=data, follow_redirects=False)
    assert asked.status_code == 200 and "是否不予通过？" in asked.text
    assert html.escape(COMMENT, quote=False) in asked.text
    back = re.search(r'<a class="button" href="([^"]+)">返回，不执行</a>', asked.text)
    assert back is not None and back.group(1) == f"/review/{application_id}"
    case = reviewer.get(back.group(1)).text
    assert re.search(r'id="comment-reject"[^>]*>' + re.escape(html.escape(COMMENT, quote=False)), case)
    assert state_of(portal_app, application_id) == "district_review"
    done = reviewer.post(url, data={**data, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and state_of(portal_app, application_id) == "rejected"
    after = reviewer.get(f"/review/{application_id}").text
    assert "已办理“不予通过”。本申报现处于“不予通过”阶段。" in after
    assert 'id="comment-reject"' not in after or COMMENT not in after


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_stale_action_gets_409_in_the_layout_and_keeps_the_comment(portal_app: FastAPI, lang: str) -> None:
    _, application_id = enterprise_with_case(portal_app)
    reviewer = reviewer_on(portal_app, application_id)
    reviewer.cookies.set("lang", lang)
    version, token = case_form(reviewer, f"/review/{application_id}")
    colleague = client_of(portal_app)
    login(colleague, staff(portal_app.state.portal, "reviewer", district="haizhu"))
    _, colleague_token = case_form(colleague, f"/review/{application_id}")
    first = {"csrf_token": colleague_token, "event": "district_approve", "expected_version": str(version)}
    assert colleague.post(f"/review/{application_id}/transition", data=first).status_code == 200
    typed = "请补充第三季度的发票。"
    data = {"csrf_token": token, "event": "return_for_amendment", "expected_version": str(version)}
    stale = reviewer.post(f"/review/{application_id}/transition", data={**data, "comment": typed})
    t = Translator(lang)
    assert stale.status_code == 409
    assert t("error.409.title") in stale.text and t("flash.stale_kept") in html.unescape(stale.text)
    assert 'action="/logout"' in stale.text and 'href="/review"' in stale.text  # navigation, signed in
    assert f'href="/review/{application_id}">{t("error.409.back_case")}' in stale.text
    case = reviewer.get(f"/review/{application_id}").text
    assert typed in case


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_not_found_page_keeps_the_navigation_of_the_signed_in(portal_app: FastAPI, lang: str) -> None:
    client, application_id = enterprise_with_case(portal_app)
    client.cookies.set("lang", lang)
    missing = client.get(f"/applications/{application_id + 100000}")
    assert missing.status_code == 404
    assert Translator(lang)("error.404.title") in missing.text
    assert 'action="/logout"' in missing.text and 'href="/applications"' in missing.text
    nowhere = client.get("/no-such-page")
    assert nowhere.status_code == 404 and 'action="/logout"' in nowhere.text
    anonymous = client_of(portal_app).get("/no-such-page")
    assert anonymous.status_code == 404 and 'href="/login"' in anonymous.text


def test_after_resubmission_the_return_reason_is_history(portal_app: FastAPI) -> None:
    client, application_id = enterprise_with_case(portal_app)
    reviewer = reviewer_on(portal_app, application_id)
    reason = "请将申请金额调整为不超过项目总投资的 25%。"
    assert fire(reviewer, application_id, "return_for_amendment", reason, sections="budget") == 303
    returned = client.get(f"/applications/{application_id}").text
    assert re.search(r'id="reasons-title".*?' + re.escape(reason), returned, re.S)
    assert 'id="earlier-reasons-title"' not in returned
    # The review deadline is on hold while the enterprise amends, and every page says so.
    assert "补正期间暂停计时" in returned
    assert "补正期间暂停计时" in reviewer.get(f"/review/{application_id}").text
    assert "补正期间暂停计时" in reviewer.get("/review").text
    client.cookies.set("lang", "en")
    assert "On hold while the enterprise amends" in client.get(f"/applications/{application_id}").text
    client.cookies.set("lang", "zh")
    action, token = edit_target(client, application_id)
    answers = scenario_answers("sections not reopened are not read", requested_amount="2800000")
    data = {**answers, "csrf_token": token, "action": "check"}
    assert client.post(action, data=data, follow_redirects=False).status_code == 303
    check = client.get(f"/applications/{application_id}/check").text
    assert "补正后重新提交" in check
    assert check.count('class="check-change"') == 1  # only the reopened section can change
    version = re.search(r'name="expected_version" value="(\d+)"', check)
    assert version is not None
    sent = client.post(
        f"/applications/{application_id}/submit",
        data={"csrf_token": token, "expected_version": version.group(1)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    page = client.get(f"/applications/{application_id}").text
    assert 'id="reasons-title"' not in page  # no longer a request waiting for an answer
    assert "补正期间暂停计时" not in page
    assert re.search(r'id="earlier-reasons-title".*?' + re.escape(reason), page, re.S)


def test_the_500_page_keeps_the_navigation_of_the_signed_in(portal_app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("a bug in a future route")

    if not any(getattr(r, "path", "") == "/test-boom" for r in portal_app.routes):
        portal_app.add_api_route("/test-boom", boom)
    client, _ = enterprise_with_case(portal_app)
    failed = client.get("/test-boom")
    assert failed.status_code == 500 and "a bug in a future route" not in failed.text
    assert 'action="/logout"' in failed.text and 'href="/applications"' in failed.text
