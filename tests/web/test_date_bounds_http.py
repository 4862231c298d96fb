"""A contract signed in the future is refused where it is typed: on the form in zh and en (the field's
message, the summary naming the field, the rest saved, a `max` on the date input) and on the API.

The suite's day is pinned (tests/conftest.py: 2026-11-27), so "today" here is that day.
"""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    client_of,
    edit_target,
    portal_app,
    register,
    save_profile,
    scenario_answers,
    scenario_files,
    start_application,
)

from portal.web.i18n import Translator

__all__ = ["portal_app"]
MEASURE = "procurement.first_set_reward"
TODAY = "2026-11-27"
FUTURE = "2031-03-01"
SAID = {
    "zh": ("合同签订日期", "不能晚于今天（2026年11月27日）。"),
    "en": ("Contract signing date", "Cannot be later than today (November 27, 2026)."),
}


def drafted(app: FastAPI, lang: str) -> tuple[TestClient, int]:
    client = client_of(app)
    register(client)
    save_profile(client)
    client.cookies.set("lang", lang)
    return client, start_application(client, MEASURE)


def typed(**changes: str) -> dict[str, str]:
    return {
        "contact_person": "张三",
        "contact_phone": "13800138000",
        "product_name": "智能巡检机器人",
        "buyer_name": "广州市某电子制造有限公司",
        **changes,
    }


def date_input(page: str) -> str:
    found = re.search(r'<input type="date" id="field-contract_on"[^>]*>', page)
    assert found, page[:3000]
    return found.group(0)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_future_contract_date_is_refused_on_the_form(portal_app: FastAPI, lang: str) -> None:
    client, application_id = drafted(portal_app, lang)
    t = Translator(lang)
    # The browser's picker offers no day after today.
    assert f'max="{TODAY}"' in date_input(client.get(f"/applications/{application_id}/edit").text)
    action, token = edit_target(client, application_id)
    data = {**typed(contract_on=FUTURE), "csrf_token": token, "action": "save"}
    refused = client.post(action, data=data, follow_redirects=False)
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    label, message = SAID[lang]
    assert t("form.errors_title", count=1) in page
    item = t("form.summary_item", field=label, message=message)
    assert f'<a href="#field-contract_on">{item}</a>' in page
    assert f'<p class="field-error" id="field-contract_on-error">{message}</p>' in page
    assert t("app.saved_except") in page
    assert f'value="{FUTURE}"' in date_input(page)  # shown back as typed, to be corrected
    # Every other answer was saved; the future date was not.
    reopened = html.unescape(client.get(f"/applications/{application_id}/edit").text)
    for value in typed().values():
        assert f'value="{value}"' in reopened
    assert FUTURE not in reopened


def test_today_itself_is_a_contract_date_the_form_keeps(portal_app: FastAPI) -> None:
    client, application_id = drafted(portal_app, "zh")
    action, token = edit_target(client, application_id)
    data = {**typed(contract_on=TODAY), "csrf_token": token, "action": "save"}
    assert client.post(action, data=data, follow_redirects=False).status_code == 303
    assert f'value="{TODAY}"' in date_input(client.get(f"/applications/{application_id}/edit").text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_api_refuses_a_future_contract_date_by_field(portal_app: FastAPI, lang: str) -> None:
    client, application_id = drafted(portal_app, lang)
    token = {"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]}
    version = client.get(f"/api/v1/applications/{application_id}").json()["version"]
    url = f"/api/v1/applications/{application_id}/answers"
    refused = client.put(
        url,
        json={"answers": typed(contract_on=FUTURE), "expected_version": version, "lang": lang},
        headers=token,
    )
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(
        "application/problem+json"
    )
    (error,) = refused.json()["errors"]
    assert error["field"] == "contract_on" and SAID[lang][1] in str(error)
    kept = client.put(
        url,
        json={"answers": typed(contract_on=TODAY), "expected_version": version, "lang": lang},
        headers=token,
    )
    assert kept.status_code == 200, kept.text


# A project's end is not before its start (subsidy.ai_scenario_demo: end_on `not_before: {field: start_on}`)

ENDED_EARLY = {"start_on": "2025-03-01", "end_on": "2025-02-27"}
BEFORE_START = {
    "zh": ("完成日期", "不能早于“开始日期”（2025年3月1日）。"),
    "en": ("End date", "Cannot be earlier than the Start date (March 1, 2025)."),
}


def scenario(app: FastAPI, lang: str) -> tuple[TestClient, str, int]:
    client = client_of(app)
    _, code = register(client)
    save_profile(client)
    client.cookies.set("lang", lang)
    return client, code, start_application(client)


@pytest.mark.parametrize(("lang", "action"), [("zh", "save"), ("en", "save"), ("en", "submit")])
def test_an_end_before_the_start_is_refused_on_the_form(portal_app: FastAPI, lang: str, action: str) -> None:
    client, code, application_id = scenario(portal_app, lang)
    target, token = edit_target(client, application_id)
    data = {**scenario_answers(code, **ENDED_EARLY), "csrf_token": token, "action": action}
    refused = client.post(target, data=data, files=scenario_files(), follow_redirects=False)
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    t = Translator(lang)
    label, message = BEFORE_START[lang]
    item = t("form.summary_item", field=label, message=message)
    assert f'<a href="#field-end_on">{item}</a>' in page
    assert f'<p class="field-error" id="field-end_on-error">{message}</p>' in page
    # The end on the start's day is a one-day project, and is kept.
    target, token = edit_target(client, application_id)
    same_day = scenario_answers(code, start_on="2025-03-01", end_on="2025-03-01")
    kept = client.post(
        target, data={**same_day, "csrf_token": token, "action": "save"}, follow_redirects=False
    )
    assert kept.status_code == 303, kept.text[-2000:]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_api_refuses_an_end_before_the_start_by_field(portal_app: FastAPI, lang: str) -> None:
    client, code, application_id = scenario(portal_app, lang)
    token = {"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]}
    version = client.get(f"/api/v1/applications/{application_id}").json()["version"]
    url = f"/api/v1/applications/{application_id}/answers"
    body = {"answers": scenario_answers(code, **ENDED_EARLY), "expected_version": version, "lang": lang}
    refused = client.put(url, json=body, headers=token)
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["errors"]
    assert error["field"] == "end_on" and BEFORE_START[lang][1] in str(error)
    body["answers"] = scenario_answers(code)
    assert client.put(url, json=body, headers=token).status_code == 200


def end_input(page: str) -> str:
    found = re.search(r'<input type="date" id="field-end_on"[^>]*>', page)
    assert found, page[:3000]
    return found.group(0)


def test_the_end_date_input_takes_its_min_from_the_start_answered(portal_app: FastAPI) -> None:
    """The picker offers no end before the start: `min` is the start as saved, or as just typed on a
    refused page; `data-min-from` names the start's input, which /static/js/date-bounds.js follows."""
    client, code, application_id = scenario(portal_app, "zh")
    blank = end_input(client.get(f"/applications/{application_id}/edit").text)
    assert "min=" not in blank and f'max="{TODAY}"' in blank and 'data-min-from="field-start_on"' in blank
    target, token = edit_target(client, application_id)
    saved = {**scenario_answers(code, start_on="2025-03-01"), "csrf_token": token, "action": "save"}
    assert client.post(target, data=saved, follow_redirects=False).status_code == 303
    reopened = end_input(client.get(f"/applications/{application_id}/edit").text)
    assert 'min="2025-03-01"' in reopened and f'max="{TODAY}"' in reopened
    target, token = edit_target(client, application_id)
    data = {**scenario_answers(code, **ENDED_EARLY), "csrf_token": token, "action": "save"}
    refused = client.post(target, data=data, follow_redirects=False)
    assert refused.status_code == 422 and 'min="2025-03-01"' in end_input(refused.text)
    assert client.get("/static/js/date-bounds.js").status_code == 200
