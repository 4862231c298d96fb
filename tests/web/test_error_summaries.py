"""Every form names each refused field at the top, links to it, and marks the field itself.

Issue 11 §3 and §7.3: bad values go over HTTP to the real app; the summary (one shared
template) must say which field, by the label a person reads (zh, and en for some), link to
`#<the field's id>`, and the field must carry aria-invalid. The facts forms (self-check,
profile), the admin pages and procurement have such tests of their own.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi import FastAPI
from portal_helpers import (
    case_form,
    client_of,
    csrf_of,
    edit_target,
    enterprise_with_case,
    login,
    portal_app,
    register,
    scenario_answers,
    scenario_files,
    staff,
    start_application,
    stored,
)
from review_helpers import (
    assign,
    declare,
    expert_client,
    score_form,
    score_panel,
    to_expert_review,
    to_public_notice,
)

from portal.services import banks, passwords
from portal.web.i18n import Translator

__all__ = ["portal_app"]

ZH, EN = Translator("zh"), Translator("en")


def summary(html: str) -> dict[str, str]:
    """The error summary at the top of the form: link target → the line as read aloud."""
    block = re.search(
        r'<div class="alert alert-error" id="error-summary"[^>]*>.*?</div>',
        html,
        re.S,
    )
    assert block is not None, "no error summary"
    return {
        href: re.sub(r"<[^>]+>", "", unescape(text)).strip()
        for href, text in re.findall(r'<li><a href="#([^"]+)">(.*?)</a></li>', block[0], re.S)
    }


def at_top(html: str) -> bool:
    """Whether the page has one summary, which takes the focus, and it comes before the first
    section heading of the main content (so a long case page opens at it, not under it)."""
    main = html[html.index('<main id="main"') :]
    opened = re.findall(r'<div class="alert alert-error" id="error-summary" tabindex="-1" autofocus ', main)
    return len(opened) == 1 and main.index('id="error-summary"') < main.index("<h2", main.index("</h1>") + 5)


def marked(html: str, field_id: str) -> bool:
    """Whether the element with this id is marked invalid for assistive technology."""
    return re.search(rf'<[^>]*\bid="{re.escape(field_id)}"[^>]*aria-invalid="true"', html) is not None


def assert_names(html: str, expected: dict[str, str]) -> None:
    """Each field id is linked from the summary, the line starts with its label, the field is marked."""
    lines = summary(html)
    for field_id, label in expected.items():
        assert field_id in lines, (field_id, lines)
        assert lines[field_id].startswith(label), (label, lines[field_id])
        assert marked(html, field_id), field_id


def test_login_names_the_empty_fields_and_keeps_the_username(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    token = csrf_of(client, "/login")
    blank = client.post("/login", data={"csrf_token": token, "username": "", "password": ""})
    assert blank.status_code == 422
    assert_names(
        blank.text, {"field-username": "用户名：此项为必填项。", "field-password": "密码：此项为必填项。"}
    )

    client.cookies.set("lang", "en")
    half = client.post("/login", data={"csrf_token": token, "username": "someone", "password": ""})
    assert half.status_code == 422
    assert summary(half.text) == {"field-password": "Password: This field is required."}
    assert 'value="someone"' in half.text and not marked(half.text, "field-username")


def test_register_names_each_field(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    token = csrf_of(client, "/register")
    data = {"csrf_token": token, "uscc": "123", "name": "", "district": "", "username": "",
            "display_name": "", "email": "not-mail", "password": "a", "password2": "b"}  # fmt: skip
    refused = client.post("/register", data=data)
    assert refused.status_code == 422
    lines = summary(refused.text)
    for name, key in [("uscc", "auth.uscc"), ("name", "auth.enterprise_name"), ("username", "auth.username")]:
        assert lines[f"field-{name}"].startswith(ZH(key) + "："), lines
        assert marked(refused.text, f"field-{name}")
    assert len(set(lines.values())) == len(lines)  # no line is a bare "此项为必填项。" repeated
    english = client.post("/register", data=data, cookies={"lang": "en"})
    assert summary(english.text)["field-uscc"].startswith(EN("auth.uscc") + ": ")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_register_says_every_problem_at_once_in_page_order(portal_app: FastAPI, lang: str) -> None:
    """A bad e-mail and differing passwords come back with the other fields' problems, not in a
    second round; the summary lists the fields as the page shows them."""
    client = client_of(portal_app)
    client.cookies.set("lang", lang)
    data = {"csrf_token": csrf_of(client, "/register"), "uscc": "123", "name": "", "district": "",
            "ai_track": "mars", "username": "ab", "display_name": "", "email": "clerk@example",
            "password": "short", "password2": "other"}  # fmt: skip
    refused = client.post("/register", data=data)
    assert refused.status_code == 422
    lines = summary(refused.text)
    order = [
        "uscc",
        "name",
        "district",
        "ai_track",
        "username",
        "display_name",
        "email",
        "password",
        "password2",
    ]
    assert list(lines) == [f"field-{name}" for name in order]
    assert (
        re.findall(r'<(?:input|select)[^>]*\bid="field-([a-z_0-9]+)"', refused.text) == order
    )  # as on the page
    said = ZH if lang == "zh" else EN
    assert lines["field-email"].endswith(said("auth.error.email"))
    assert lines["field-password2"].endswith(said("auth.error.password_mismatch"))


def test_password_change_and_reset_name_their_fields(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    username, _ = register(client)
    token = csrf_of(client, "/account/password")
    data = {"csrf_token": token, "current_password": "", "new_password": "x", "new_password2": "y"}
    changed = client.post("/account/password", data=data)
    assert changed.status_code == 422
    assert_names(
        changed.text, {"field-current_password": "当前密码：", "field-new_password2": "再次输入新密码："}
    )

    anonymous = client_of(portal_app)
    anonymous.cookies.set("lang", "en")
    asked = anonymous.post("/password/reset", data={"csrf_token": csrf_of(anonymous, "/password/reset")})
    assert asked.status_code == 422
    assert_names(asked.text, {"field-identifier": "User name or e-mail address: This field is required."})

    mail = passwords.request_reset(portal_app.state.portal, username)
    assert mail is not None
    path = f"/password/reset/{mail.token}"
    reset = anonymous.post(path, data={"csrf_token": csrf_of(anonymous, path), "new_password": ""})
    assert reset.status_code == 422
    assert_names(reset.text, {"field-new_password": "New password: This field is required."})


def test_the_consent_form_names_products_and_days_in_the_readers_language(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    if not any(b.code == "summary_bank" for b in banks.active_banks(portal)):
        banks.add_bank(portal, name="测试银行广州分行", code="summary_bank")
    client = client_of(portal_app)
    register(client)
    data = {"csrf_token": csrf_of(client, "/consents"), "bank": "summary_bank", "days": "abc"}
    refused = client.post("/consents", data=data)
    assert refused.status_code == 422
    assert_names(
        refused.text, {"field-products": "授权查询的产品：请至少选择一项产品。", "field-days": "授权天数："}
    )
    assert "choose at least" not in refused.text  # no service English on the zh page
    english = client.post("/consents", data={**data, "bank": "nobody"}, cookies={"lang": "en"})
    assert_names(english.text, {"field-days": "Days: Enter a whole number of days from 1 to"})
    assert (
        summary(english.text)["field-products"] == "Products the bank may check: Choose at least one product."
    )


def test_the_application_form_names_its_fields(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    _, code = register(client)
    application_id = start_application(client)
    spec = portal_app.state.portal.forms.get(stored(portal_app, application_id).measure_id)
    for bad in ({"requested_amount": "abc"}, {"project_name": "", "contact_person": "张" * 60}):
        action, token = edit_target(client, application_id)
        answers = {**scenario_answers(code, **bad), "csrf_token": token, "action": "submit"}
        refused = client.post(action, data=answers, files=scenario_files())
        assert refused.status_code == 422
        lines = summary(refused.text)
        for name in bad:
            assert lines[f"field-{name}"].startswith(spec.fields[name].label.zh + "："), lines
            assert marked(refused.text, f"field-{name}")


def test_expert_scores_name_the_criterion_and_the_box(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app)
    expert, _ = assign(case)
    client = expert_client(case, expert)
    version, token = case_form(client, f"/expert/{case.application_id}")
    unsigned = {"csrf_token": token, "expected_version": str(version)}
    unticked = client.post(f"/expert/{case.application_id}/declare", data=unsigned)
    assert unticked.status_code == 422 and at_top(unticked.text)
    assert_names(unticked.text, {"declare-confirm": "无利益冲突声明：请勾选确认声明。"})
    no_reason = client.post(f"/expert/{case.application_id}/recuse", data={**unsigned, "reason": " "})
    assert_names(no_reason.text, {"recuse-reason": "利益冲突情况说明：请说明利益冲突情况。"})
    declare(client, case.application_id)
    first = case.rubric.criteria[0]
    version, token = case_form(client, f"/expert/{case.application_id}")
    # The other criteria's scores typed on a Chinese keyboard (８５．５) are read, not refused.
    form = {**score_form(case, "８５．５"), f"score:{first.id}": "150", f"comment:{first.id}": "很" * 3000}
    data = {"csrf_token": token, "expected_version": str(version), **form}
    refused = client.post(f"/expert/{case.application_id}/score", data=data)
    assert refused.status_code == 422 and at_top(refused.text)
    assert_names(
        refused.text,
        {
            f"score-{first.id}": f"{first.label.zh}（得分）：分数须在 0 至 100 之间。",
            f"comment-{first.id}": f"{first.label.zh}（评审意见）：",
        },
    )
    assert len(summary(refused.text)) == 2
    english = client.post(f"/expert/{case.application_id}/score", data=data, cookies={"lang": "en"})
    lines = summary(english.text)
    assert lines[f"score-{first.id}"] == f"{first.label.en} (Score): The score must be between 0 and 100."
    assert "分" not in lines[f"score-{first.id}"]


def test_an_objection_and_the_granted_amount_name_their_fields(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app)  # the amount is set during review, before the notice shows it
    version, token = case_form(case.bureau, f"/review/{case.application_id}")
    # Typed on a Chinese keyboard: read as 99999999999, then refused for what it is.
    grant = {
        "csrf_token": token,
        "expected_version": str(version),
        "granted_amount": "９９，９９９，９９９，９９９",
    }
    too_much = case.bureau.post(f"/review/{case.application_id}/grant", data=grant)
    assert too_much.status_code == 422 and at_top(too_much.text)
    assert 'value="９９，９９９，９９９，９９９"' in too_much.text  # what was typed is kept
    assert_names(
        too_much.text,
        {"granted_amount": ZH("grant.field.granted_amount") + "：核定金额不得超过企业的申请金额"},
    )

    score_panel(case)
    public = client_of(portal_app)
    path = f"/notices/{case.application_id}"
    data = {"csrf_token": csrf_of(public, path), "name": "", "contact": "", "email": "x", "reasons": ""}
    refused = public.post(f"{path}/objection", data=data)
    assert refused.status_code == 422
    assert_names(
        refused.text,
        {
            "objection-name": "姓名或单位名称：",
            "objection-email": "电子邮箱（用于告知处理结果）：",
            "objection-reasons": "异议事实和理由：",
        },
    )
    english = public.post(f"{path}/objection", data=data, cookies={"lang": "en"})
    assert_names(english.text, {"objection-reasons": "Facts and reasons: "})


def test_the_payee_form_names_its_fields(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    data = {"csrf_token": csrf_of(client, "/profile"), "bank_name": "", "account_number": "12ab"}
    refused = client.post("/profile/payee", data=data)
    assert refused.status_code == 422
    assert_names(
        refused.text,
        {
            "field-bank_name": ZH("confirm.bank_name") + "：",
            "field-account_number": ZH("confirm.account_number") + "：",
        },
    )


def test_reject_without_a_comment_names_the_box_and_keeps_the_case_where_it_is(portal_app: FastAPI) -> None:
    _, application_id = enterprise_with_case(portal_app)
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal_app.state.portal, "reviewer", district="haizhu"))
    version, token = case_form(reviewer, f"/review/{application_id}")
    url = f"/review/{application_id}/transition"
    accepted = reviewer.post(
        url, data={"csrf_token": token, "event": "accept", "expected_version": str(version)}
    )
    assert accepted.status_code == 200
    version, token = case_form(reviewer, f"/review/{application_id}")
    data = {"csrf_token": token, "event": "reject", "expected_version": str(version), "comment": "  "}
    refused = reviewer.post(url, data=data)
    assert refused.status_code == 422 and at_top(refused.text)
    assert "确认不予通过？" not in refused.text  # not asked to confirm an action that cannot be done
    assert_names(refused.text, {"comment-reject": "意见：此操作必须填写意见。"})
    assert stored(portal_app, application_id).state == "district_review"

    sections = [
        s.id
        for s in portal_app.state.portal.forms.get(stored(portal_app, application_id).measure_id).sections
    ]
    back = {**data, "event": "return_for_amendment", "sections": sections[:1]}
    english = reviewer.post(url, data=back, cookies={"lang": "en"})
    assert english.status_code == 422
    assert_names(english.text, {"comment-return_for_amendment": "Comment: This action needs a comment."})
    assert re.search(
        rf'name="sections" value="{re.escape(sections[0])}" checked', english.text
    )  # what was ticked stays


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_refused_files_and_wrong_answers_are_named_in_one_pass(portal_app: FastAPI, lang: str) -> None:
    """A fake PDF, a CSV, a short phone number and a negative amount: all four are in the summary
    and marked at their fields at once, not the files first and the answers one submit later."""
    client = client_of(portal_app)
    _, code = register(client)
    client.cookies.set("lang", lang)
    application_id = start_application(client)
    spec = portal_app.state.portal.forms.get(stored(portal_app, application_id).measure_id)
    action, token = edit_target(client, application_id)
    answers = scenario_answers(code, contact_phone="12345", requested_amount="-500")
    files = [
        ("attachment:investment_evidence", ("发票.pdf", b"this is not a pdf at all", "application/pdf")),
        ("attachment:budget_sheet", ("budget.csv", "项目,金额\n设备,100\n".encode(), "text/csv")),
    ]
    refused = client.post(action, data={**answers, "csrf_token": token, "action": "check"}, files=files)
    assert refused.status_code == 422
    expected = {
        "field-contact_phone": spec.fields["contact_phone"].label.get(lang),
        "field-requested_amount": spec.fields["requested_amount"].label.get(lang),
        "attachment-investment_evidence": spec.attachments["investment_evidence"].label.get(lang),
        "attachment-budget_sheet": spec.attachments["budget_sheet"].label.get(lang),
    }
    assert_names(refused.text, expected)
    assert list(summary(refused.text)) == list(expected)  # in the order of the form
    assert Translator(lang)("form.errors_title", count=4) in refused.text
    assert 'value="12345"' in refused.text and 'value="-500"' in refused.text
    assert stored(portal_app, application_id).state == "draft"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_objection_with_a_refused_file_names_every_field_too(portal_app: FastAPI, lang: str) -> None:
    case = to_public_notice(portal_app)
    public = client_of(portal_app)
    public.cookies.set("lang", lang)
    path = f"/notices/{case.application_id}"
    data = {"csrf_token": csrf_of(public, path), "name": "", "contact": "", "email": "x@", "reasons": "不实"}
    csv = {"file": ("evidence.csv", b"a,b\n1,2\n", "text/csv")}
    refused = public.post(f"{path}/objection", data=data, files=csv)
    assert refused.status_code == 422
    t = Translator(lang)
    names = {f"objection-{name}": t(f"notices.field.{name}") for name in ("name", "contact", "email", "file")}
    assert_names(refused.text, names)
    assert list(summary(refused.text)) == list(names)
    assert t("form.errors_title", count=4) in refused.text and "不实" in refused.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_blank_required_field_is_called_alike_on_every_page(lang: str) -> None:
    """Sign-in, objections, bank keys and the application forms said it three ways in Chinese."""
    from portal.forms.messages import message

    t = Translator(lang)
    keys = ("auth.error.required", "notices.error.required", "admin_banks.error.required")
    assert {t(key) for key in keys} == {message("required", lang)}
