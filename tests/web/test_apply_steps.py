"""The application's last steps over real HTTP forms: task list, check your answers, confirmation."""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    case_form,
    client_of,
    csrf_of,
    edit_target,
    enterprise_with_case,
    fire,
    login,
    portal_app,
    register,
    save_profile,
    scenario_answers,
    scenario_files,
    staff,
    start_application,
    stored,
)

from portal.web.application_steps import answer_text
from portal.web.case_views import label
from portal.web.i18n import Translator

__all__ = ["portal_app"]
MEASURE = "subsidy.ai_scenario_demo"


def drafted(app: FastAPI, lang: str) -> tuple[TestClient, int, str]:
    """A signed-in enterprise in `lang` with a fresh draft; returns the client, the id and the USCC."""
    client = client_of(app)
    _, code = register(client)
    save_profile(client)
    client.cookies.set("lang", lang)
    return client, start_application(client, MEASURE), code


def statuses(html: str) -> dict[str, str]:
    return dict(
        (section, status)
        for status, section in re.findall(r'task-status-(\w+)" id="task-status-(\w+)"', html)
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_task_list_follows_what_is_filled_in(portal_app: FastAPI, lang: str) -> None:
    client, application_id, code = drafted(portal_app, lang)
    action, token = edit_target(client, application_id)
    answers = scenario_answers(code)
    partial = {k: v for k, v in answers.items() if k not in ("project_name", "track", "start_on", "end_on")}
    partial = {**partial, "summary": "", "investment": "", "requested_amount": "300"}
    data = {**partial, "csrf_token": token, "action": "save"}
    saved = client.post(action, data=data, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(f"/applications/{application_id}/edit").text
    assert statuses(page) == {"applicant": "done", "project": "todo", "budget": "started"}
    t = Translator(lang)
    for status in ("done", "todo", "started"):
        assert t(f"apply.status.{status}") in page
    assert 'href="#section-project"' in page and 'id="section-project"' in page
    assert 'id="field-project_name"' in page  # the single-page form is still all there


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_section_above_the_ceiling_is_not_complete(portal_app: FastAPI, lang: str) -> None:
    """The amount requested is the budget's only problem, and it is one: the rule's ceiling fell
    (a lower investment) under the amount already saved."""
    client, application_id, code = drafted(portal_app, lang)
    answers = scenario_answers(code, investment="2000000", requested_amount="500000")
    action, token = edit_target(client, application_id)
    data = {**answers, "csrf_token": token, "action": "save"}
    saved = client.post(action, data=data, files=scenario_files(), follow_redirects=False)
    assert saved.status_code == 303
    action, token = edit_target(client, application_id)
    lowered = {**data, "csrf_token": token, "investment": "1000000"}
    assert client.post(action, data=lowered, follow_redirects=False).status_code == 422
    page = client.get(f"/applications/{application_id}/edit").text
    assert statuses(page) == {"applicant": "done", "project": "done", "budget": "started"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_check_answers_reads_back_labels_money_and_files(portal_app: FastAPI, lang: str) -> None:
    client, application_id, code = drafted(portal_app, lang)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "check"}
    response = client.post(action, data=data, files=scenario_files(), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/applications/{application_id}/check"
    page = client.get(response.headers["location"]).text
    t = Translator(lang)
    spec = portal_app.state.portal.forms.get(MEASURE)
    assert t("apply.check.title") in page
    assert spec.fields["track"].options["cheng"].get(lang) in page
    assert ">cheng<" not in page
    assert t.money(3000000) in page and "3000000<" not in page
    assert t.date("2025-01-01") in page
    assert "合同.pdf" in page and "budget.xlsx" in page
    for section in spec.sections:
        assert section.title.get(lang) in page
        assert f'href="/applications/{application_id}/edit#section-{section.id}"' in page
    assert 'class="field-error"' not in page  # nothing is wrong, so nothing is marked
    assert stored(portal_app, application_id).state == "draft"  # checking sends nothing


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_check_page_names_each_problem_and_the_form_marks_it(portal_app: FastAPI, lang: str) -> None:
    """A draft saves a malformed phone and no files; the check page says what is wrong, field by field."""
    client, application_id, code = drafted(portal_app, lang)
    action, token = edit_target(client, application_id)
    answers = scenario_answers(code, contact_phone="abc")
    data = {**answers, "csrf_token": token, "action": "check"}
    assert client.post(action, data=data, follow_redirects=False).status_code == 303
    page = client.get(f"/applications/{application_id}/check").text
    t = Translator(lang)
    spec = portal_app.state.portal.forms.get(MEASURE)
    problems = {
        e.path: e.message for e in spec.validate(answers, lang, today=portal_app.state.portal.today())
    }
    assert set(problems) == {"contact_phone"}
    phone = spec.fields["contact_phone"].label.get(lang)
    item = t("form.summary_item", field=phone, message=problems["contact_phone"])
    link = f'href="/applications/{application_id}/edit?check=1#field-contact_phone"'
    assert f"{link}>{item}</a>" in html.unescape(page)
    evidence = spec.attachments["investment_evidence"].label.get(lang)
    assert t("form.summary_item", field=evidence, message=t("apply.check.file_required")) in html.unescape(
        page
    )
    assert page.count('class="field-error"') == 1 + sum(s.required for s in spec.attachments.values())
    assert f'action="/applications/{application_id}/submit"' not in page
    # The link leads to the form with the same messages in its error summary and at the fields.
    form = client.get(f"/applications/{application_id}/edit?check=1").text
    assert 'href="#field-contact_phone"' in form and 'href="#attachment-investment_evidence"' in form
    assert html.escape(problems["contact_phone"], quote=False) in form and 'aria-invalid="true"' in form
    assert 'class="field-error"' not in client.get(f"/applications/{application_id}/edit").text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_submit_from_the_check_page_then_the_confirmation(portal_app: FastAPI, lang: str) -> None:
    client, application_id, code = drafted(portal_app, lang)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "check"}
    client.post(action, data=data, files=scenario_files())
    check = client.get(f"/applications/{application_id}/check").text
    version = re.search(r'name="expected_version" value="(\d+)"', check)
    assert version is not None
    url = f"/applications/{application_id}/submit"
    assert client.post(url, data={"expected_version": version.group(1)}).status_code == 403  # no CSRF
    sent = client.post(
        url, data={"csrf_token": token, "expected_version": version.group(1)}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/applications/{application_id}/submitted"
    page = client.get(sent.headers["location"]).text
    row = stored(portal_app, application_id)
    portal = portal_app.state.portal
    t = Translator(lang)
    assert row.state != "draft" and row.due_on is not None
    assert t("apply.done.title") in page and t("app.title", id=application_id) in page
    assert t("apply.flash.submitted", id=application_id) in page  # the flash, once
    assert t("apply.flash.submitted", id=application_id) not in client.get(sent.headers["location"]).text
    district = portal.city.jurisdictions.label(row.district, lang)
    assert district in page and f">{row.district}<" not in page
    assert t.date(row.due_on) in page
    check = f"/applications/{application_id}/check"
    again = client.post(
        url, data={"csrf_token": token, "expected_version": version.group(1)}, headers={"referer": check}
    )
    assert again.status_code == 409  # the version checked is gone: nothing is sent twice
    # The conflict page keeps the menu and leads back to the enterprise's own page, not home.
    assert t("error.409.text") in again.text and f'<a class="button" href="{check}">' in again.text
    assert t("nav.my_applications") in again.text


def test_check_page_sends_back_to_the_form_when_answers_are_missing(portal_app: FastAPI) -> None:
    client, application_id, code = drafted(portal_app, "zh")
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "project_name": "", "csrf_token": token, "action": "check"}
    client.post(action, data=data, files=scenario_files())
    check = client.get(f"/applications/{application_id}/check").text
    assert "有 1 个部分尚未填写完整" in check and "未填写" in check
    # Nothing to send yet: the page leads to the unfinished section, and offers no submit button.
    assert f'action="/applications/{application_id}/submit"' not in check
    assert f'href="/applications/{application_id}/edit?check=1#section-' in check
    # A submit posted all the same (an old tab) is refused with the field named.
    edit = client.get(f"/applications/{application_id}/edit").text
    version = re.search(r'action="/applications/\d+/edit\?v=(\d+)"', edit)
    assert version is not None
    token = csrf_of(client, f"/applications/{application_id}/edit")
    refused = client.post(
        f"/applications/{application_id}/submit",
        data={"csrf_token": token, "expected_version": version.group(1)},
    )
    assert refused.status_code == 422
    assert 'href="#field-project_name"' in refused.text and 'aria-invalid="true"' in refused.text
    assert stored(portal_app, application_id).state == "draft"


def test_confirmation_of_a_draft_goes_to_the_case(portal_app: FastAPI) -> None:
    client, application_id, _ = drafted(portal_app, "zh")
    response = client.get(f"/applications/{application_id}/submitted", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/applications/{application_id}"
    other = client_of(portal_app)
    register(other)
    assert other.get(f"/applications/{application_id}/check").status_code == 404
    assert other.get(f"/applications/{application_id}/submitted").status_code == 404


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_draft_keeps_the_good_answers_when_one_is_mistyped(portal_app: FastAPI, lang: str) -> None:
    """保存草稿 with `abc` in a money field: the other answers are saved, the bad one is shown as
    typed with its error, the summary says the rest was saved, and the draft keeps its earlier
    value for the refused field."""
    client, application_id, _ = drafted(portal_app, lang)
    t = Translator(lang)
    spec = portal_app.state.portal.forms.get(MEASURE)
    action, token = edit_target(client, application_id)
    first = {"contact_person": "王五", "requested_amount": "300", "csrf_token": token, "action": "save"}
    assert client.post(action, data=first, follow_redirects=False).status_code == 303
    action, token = edit_target(client, application_id)
    typed = {"contact_person": "李四", "contact_phone": "13900139000", "project_name": "智慧园区示范项目"}
    data = {**typed, "requested_amount": "abc", "csrf_token": token, "action": "save"}
    refused = client.post(action, data=data, follow_redirects=False)
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    label = spec.fields["requested_amount"].label.get(lang)
    assert t("form.errors_title", count=1) in page
    _, (wrong,) = spec.coerce_draft({"requested_amount": "abc"}, lang, today=portal_app.state.portal.today())
    item = t("form.summary_item", field=label, message=wrong.message)
    assert f'<a href="#field-requested_amount">{item}</a>' in page
    assert 'value="abc"' in page and 'value="李四"' in page  # nothing typed is lost on the page
    reopened = html.unescape(client.get(f"/applications/{application_id}/edit").text)
    for value in typed.values():
        assert f'value="{value}"' in reopened
    assert 'value="300"' in reopened and 'value="abc"' not in reopened  # the refused answer: not saved
    assert 'class="field-error"' not in reopened
    assert t("app.saved_except") in page  # the summary says what became of the rest


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_amendment_marks_the_reopened_sections_in_the_task_list(portal_app: FastAPI, lang: str) -> None:
    """Returned with only the budget reopened: the task list says "to amend" there and "locked"
    elsewhere, never "completed" for all three, and the banner names the section."""
    client, application_id = enterprise_with_case(portal_app)
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal_app.state.portal, "reviewer", district="haizhu"))
    assert fire(reviewer, application_id, "accept") == 303
    assert fire(reviewer, application_id, "return_for_amendment", "请补充投资明细", sections="budget") == 303
    client.cookies.set("lang", lang)
    page = html.unescape(client.get(f"/applications/{application_id}/edit").text)
    assert statuses(page) == {"applicant": "locked", "project": "locked", "budget": "amend"}
    t = Translator(lang)
    spec = portal_app.state.portal.forms.get(MEASURE)
    assert t("apply.status.amend") in page and t("apply.status.locked") in page
    assert t("apply.status.done") not in page
    assert t("apply.tasks.amend_summary", count=1, total=3) in page
    assert t("app.amend_sections", sections=spec.section("budget").title.get(lang)) in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_case_history_says_which_sections_each_return_reopened(portal_app: FastAPI, lang: str) -> None:
    """Reviewers and the enterprise read in the history what each return asked to amend, by
    section title: the first return the budget, the second the applicant and the project."""
    client, application_id = enterprise_with_case(portal_app)
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal_app.state.portal, "reviewer", district="haizhu"))
    assert fire(reviewer, application_id, "accept") == 303
    assert fire(reviewer, application_id, "return_for_amendment", "请补充投资明细", sections="budget") == 303
    action, token = edit_target(client, application_id)
    resubmitted = client.post(
        action,
        data={
            "csrf_token": token,
            "action": "submit",
            "investment": "15000000",
            "requested_amount": "4000000",
        },
        follow_redirects=False,
    )
    assert resubmitted.status_code == 303
    version, token = case_form(reviewer, f"/review/{application_id}")
    sections = ["applicant", "project"]
    data = {"csrf_token": token, "event": "return_for_amendment", "expected_version": str(version)}
    data |= {"comment": "请核对", "confirm": "yes"}
    returned = reviewer.post(
        f"/review/{application_id}/transition", data={**data, "sections": sections}, follow_redirects=False
    )
    assert returned.status_code == 303
    spec = portal_app.state.portal.forms.get(MEASURE)
    t = Translator(lang)

    def said(*ids: str) -> str:
        return t(
            "app.amend_sections",
            sections=t("punct.list_sep").join(spec.section(i).title.get(lang) for i in ids),
        )

    for who, path in ((client, f"/applications/{application_id}"), (reviewer, f"/review/{application_id}")):
        who.cookies.set("lang", lang)
        page = html.unescape(who.get(path).text)
        history = page[page.index('<ol class="history">') :]
        first, second = history.index(said("budget")), history.index(said(*sections))
        assert first < second


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_measure_page_names_the_enterprises_applications_under_way_before_another(
    portal_app: FastAPI, lang: str
) -> None:
    """A second click on "apply" must not start a duplicate unnoticed: the card and the measure
    page list the enterprise's own applications still under way, by stage, and the button says it
    starts another one. Another enterprise sees the plain button and nothing of these cases."""
    client, submitted = enterprise_with_case(portal_app)
    draft = start_application(client)
    portal = portal_app.state.portal
    workflow = portal.workflows[stored(portal_app, submitted).workflow]
    t = Translator(lang)

    def stage(case_id: int) -> str:
        return label(workflow.state(stored(portal_app, case_id).state).label, lang)

    client.cookies.set("lang", lang)
    for path in (f"/catalogue/{MEASURE}", "/catalogue"):
        page = html.unescape(client.get(path).text)
        for case_id in (submitted, draft):
            words = t("catalogue.open_case", id=case_id, stage=stage(case_id))
            link = f'<a href="/applications/{case_id}">{words}</a>'
            assert link in page, path
        assert t("catalogue.apply_again") in page
    other = client_of(portal_app)
    register(other)
    save_profile(other)
    other.cookies.set("lang", lang)
    fresh = html.unescape(other.get(f"/catalogue/{MEASURE}").text)
    assert t("catalogue.apply") in fresh and t("catalogue.apply_again") not in fresh
    assert "open-cases" not in fresh and f'href="/applications/{submitted}"' not in fresh


@pytest.mark.parametrize(("lang", "shown"), [("zh", "82%"), ("en", "82%")])
def test_a_share_reads_back_in_per_cent(app: FastAPI, lang: str, shown: str) -> None:
    """A rate typed as a decimal (the form asks for 0.82) reads back on the check page and to the
    reviewer as 82%, not 0.82 (a user trial read 自主化率 0.82); a value not yet a number as typed."""
    spec = app.state.portal.forms["procurement.ai_product_listing"]
    field = next(f for s in spec.sections for f in s.fields if f.widget == "ratio")
    assert answer_text(field, "0.82", Translator(lang)) == shown
    assert answer_text(field, "八成", Translator(lang)) == "八成"
