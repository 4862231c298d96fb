"""Every form answers bad input with a summary at the top that names each field and links to it
(issue 11 §3 and §7.3). The facts forms, the admin forms and procurement have their own modules;
these are the rest: sign-in, registration, the account pages, consents, the application form,
expert scores, objections, the payee account and a reviewer's action without its comment.
"""

from __future__ import annotations

import re
from html import unescape

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    PASSWORD,
    case_form,
    client_of,
    csrf_of,
    edit_target,
    enterprise_with_case,
    login,
    portal_app,
    register,
    scenario_answers,
    staff,
    start_application,
    stored,
)
from review_helpers import assign, declare, expert_client, score_form, to_expert_review, to_public_notice

from portal.services import banks

__all__ = ["portal_app"]


def summary(html: str) -> dict[str, str]:
    """The error summary's items: the element each links to, and the words it says."""
    block = re.search(r'<div class="alert alert-error"[^>]*>(.*?)</div>', html, re.S)
    assert block is not None, "no error summary"
    items = {}
    for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.S):
        target = re.search(r'href="#([^"]+)"', item)
        assert target is not None, f"a summary item links nowhere: {item}"
        items[target.group(1)] = re.sub(r"<[^>]+>", "", unescape(item)).strip()
    return items


def names(html: str, **fields: str) -> None:
    """Each `element id=label` is in the summary, says its label, and the element is marked."""
    items = summary(html)
    for target, label in fields.items():
        assert target in items, (target, items)
        assert items[target].startswith(label), (target, items[target])
        element = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(target)}"[^>]*>', html)
        assert element is not None and 'aria-invalid="true"' in element.group(0), target


def post(client: TestClient, path: str, form: str, data: dict[str, str], status: int = 422) -> str:
    response = client.post(path, data={"csrf_token": csrf_of(client, form), **data})
    assert response.status_code == status, response.text[-1500:]
    return response.text


def test_sign_in_names_the_empty_fields_and_leads_to_the_first_on_a_wrong_password(
    portal_app: FastAPI,
) -> None:
    visitor = client_of(portal_app)
    names(post(visitor, "/login", "/login", {"username": "", "password": ""}), **{
        "field-username": "用户名：此项必填。",
        "field-password": "密码：此项必填。",
    })  # fmt: skip
    wrong = post(visitor, "/login", "/login", {"username": "nobody", "password": "x" * 12}, status=401)
    assert summary(wrong) == {"field-username": summary(wrong)["field-username"]}
    assert summary(wrong)["field-username"].startswith("用户名或密码不正确")
    visitor.cookies.set("lang", "en")
    english = post(visitor, "/login", "/login", {"username": "someone", "password": ""})
    names(english, **{"field-password": "Password: This field is required."})


def test_registration_names_each_field(portal_app: FastAPI) -> None:
    html = post(client_of(portal_app), "/register", "/register", {"uscc": "123", "name": "", "username": "x"})
    items = summary(html)
    assert items["field-uscc"].startswith("统一社会信用代码：")
    assert items["field-name"].startswith("企业名称：")
    assert items["field-username"].startswith("用户名：")
    assert "此项必填。" not in [text for text in items.values()]  # every line says which field


def test_the_password_pages_name_their_fields(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    changed = post(
        client,
        "/account/password",
        "/account/password",
        {"current_password": "", "new_password": "Nw-pass-2026-x", "new_password2": "other"},
    )
    names(changed, **{"field-current_password": "当前密码："})
    assert summary(changed)["field-new_password2"].startswith("再次输入新密码：")
    reset = post(client_of(portal_app), "/password/reset", "/password/reset", {"identifier": ""})
    names(reset, **{"field-identifier": summary(reset)["field-identifier"].split("：")[0] + "："})


def test_consents_name_their_fields_in_the_readers_language(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    if not banks.active_banks(portal):
        banks.add_bank(portal, name="广州测试合作银行", code="test-bank")
    client = client_of(portal_app)
    register(client)
    bank = banks.active_banks(portal)[0].code
    html = post(client, "/consents", "/consents", {"bank": bank, "days": "0"})
    names(html, **{"field-days": "授权天数：请填写 1 至"})
    assert summary(html)["field-products"] == "授权查询的产品：请至少选择一项产品。"
    assert "choose" not in html and "between" not in html  # the service's words never reach the page
    client.cookies.set("lang", "en")
    english = post(client, "/consents", "/consents", {"bank": bank, "days": "x"})
    assert summary(english)["field-products"] == "Products the bank may check: Choose at least one product."
    assert stored_consents(portal_app) == 0


def stored_consents(app: FastAPI) -> int:
    from sqlalchemy import text

    with app.state.portal.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM bank_consent")).scalar_one())


def test_the_application_form_names_each_field(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    _, code = register(client)
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    answers = scenario_answers(code, contact_person="张" * 60, investment="很多")
    response = client.post(action, data={**answers, "csrf_token": token, "action": "save"})
    assert response.status_code == 422
    names(response.text, **{"field-contact_person": "联系人", "field-investment": "项目总投资"})
    assert "最多 40 个字" in summary(response.text)["field-contact_person"]


def test_expert_scores_name_each_criterion(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app)
    name, _ = assign(case)
    expert = expert_client(case, name)
    declare(expert, case.application_id)
    version, token = case_form(expert, f"/expert/{case.application_id}")
    form = {**score_form(case, "85"), "score:technology": "150"}
    refused = expert.post(
        f"/expert/{case.application_id}/score",
        data={"csrf_token": token, "expected_version": str(version), **form},
    )
    assert refused.status_code == 422
    technology = next(c for c in case.portal.rubric.criteria if c.id == "technology")
    names(refused.text, **{"score-technology": f"{technology.label.zh}："})


def test_an_objection_names_each_field(portal_app: FastAPI) -> None:
    case = to_public_notice(portal_app, name="广州异议表单测试科技有限公司")
    public = client_of(portal_app)
    path = f"/notices/{case.application_id}"
    html = post(
        public, f"{path}/objection", path, {"name": "", "contact": "", "email": "nope", "reasons": ""}
    )
    names(html, **{"objection-name": "姓名或单位名称：", "objection-email": "电子邮箱"})
    assert set(summary(html)) == {
        "objection-name",
        "objection-contact",
        "objection-email",
        "objection-reasons",
    }


def test_the_payee_account_names_each_field(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    html = post(client, "/profile/payee", "/profile", {"bank_name": "", "account_number": "12ab"})
    names(html, **{"field-bank_name": "开户银行（含支行）：", "field-account_number": "银行账号"})


def test_an_action_that_needs_a_comment_names_the_empty_box(portal_app: FastAPI) -> None:
    _, application_id = enterprise_with_case(portal_app)
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal_app.state.portal, "reviewer", district="haizhu"), PASSWORD)
    version, token = case_form(reviewer, f"/review/{application_id}")
    accepted = reviewer.post(
        f"/review/{application_id}/transition",
        data={"csrf_token": token, "event": "accept", "expected_version": str(version)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    version, token = case_form(reviewer, f"/review/{application_id}")
    data = {"csrf_token": token, "event": "reject", "expected_version": str(version), "comment": "  "}
    refused = reviewer.post(f"/review/{application_id}/transition", data=data)
    assert refused.status_code == 422  # asked before the "are you sure" page, not after it
    names(refused.text, **{"comment-reject": "意见：请填写“不予通过”的意见。"})
    assert stored(portal_app, application_id).version == version
    reviewer.cookies.set("lang", "en")
    english = reviewer.post(f"/review/{application_id}/transition", data=data).text
    assert summary(english)["comment-reject"].startswith('Comment: Enter a comment for "')
