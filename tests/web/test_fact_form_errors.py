"""The facts forms (self-check, profile) say what is wrong, name the field, and keep the register's identity.

Issue 11 §3: a 40-digit amount is "too large", not "not negative"; a registration date in the
future is refused ("不能晚于今天"); each line of the error summary names its field; the
district the register holds is shown on the profile, not offered and silently reverted.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from portal_helpers import client_of, csrf_of, portal_app, profile_form, register

from portal.rules import load_pack
from portal.services.context import Portal
from portal.web.i18n import Translator
from portal.web.self_check import refusal_text

__all__ = ["portal_app"]


def _summary(html: str) -> list[str]:
    """The error summary's lines as read aloud: label and message."""
    block = re.search(r'<div class="alert alert-error".*?</div>', html, re.S)
    assert block is not None, html[:2000]
    return [
        re.sub(r"<[^>]+>", "", unescape(item)).strip()
        for item in re.findall(r"<li>(.*?)</li>", block[0], re.S)
    ]


def _self_check(client: TestClient, **fields: str) -> str:
    data = {"csrf_token": csrf_of(client, "/self-check"), "on": "2026-06-01", **fields}
    response = client.post("/self-check", data=data)
    assert response.status_code == 422
    return response.text


def test_the_summary_names_each_field_and_says_what_is_wrong(portal_app: FastAPI) -> None:
    facts = portal_app.state.portal.pack.facts
    revenue, founded = facts.get("enterprise.revenue"), facts.get("enterprise.registered_on")
    html = _self_check(
        client_of(portal_app),
        **{
            "enterprise.revenue": "1" * 40,
            "enterprise.registered_on": "2030-01-01",
            "enterprise.ai_revenue": "1.234",
        },
    )
    lines = _summary(html)
    assert f"{revenue.label.zh}：数值过大，请核对后重新填写。" in lines
    assert f"{founded.label.zh}：日期不能晚于今天。" in lines
    assert any(line.endswith("金额最多保留两位小数（精确到分）。") for line in lines)
    assert "不小于 0" not in html
    # The field itself is marked and its message sits beside it.
    assert re.search(r'id="f-enterprise-registered_on"[^>]*aria-invalid="true"', html)
    assert 'href="#f-enterprise-revenue"' in html

    english = client_of(portal_app)
    english.cookies.set("lang", "en")
    lines = _summary(_self_check(english, **{"enterprise.registered_on": "2030-01-01", "on": "not a date"}))
    assert f"{founded.label.en}: The date cannot be later than today." in lines
    assert "Evaluation date: Enter a date as YYYY-MM-DD." in lines


def test_today_is_allowed_and_the_clock_decides(portal_app: FastAPI) -> None:
    portal: Portal = portal_app.state.portal
    today = portal.today().isoformat()
    data = {"csrf_token": csrf_of(client := client_of(portal_app), "/self-check"), "on": today}
    response = client.post("/self-check", data={**data, "enterprise.registered_on": today})
    assert response.status_code == 200, _summary(response.text)


def test_the_profile_shows_the_registered_district_and_refuses_a_future_date(portal_app: FastAPI) -> None:
    portal: Portal = portal_app.state.portal
    client = client_of(portal_app)
    register(client, district="haizhu")
    page = client.get("/profile").text
    district = portal.city.jurisdictions.fact
    assert f'name="{district}"' not in page  # not offered, so it cannot silently revert
    assert "海珠区" in page and "以企业注册登记信息为准" in page
    token = csrf_of(client, "/profile")
    refused = client.post(
        "/profile", data={**profile_form(**{"enterprise.registered_on": "2031-05-01"}), "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "日期不能晚于今天。" in " ".join(_summary(refused.text))
    assert "海珠区" in refused.text  # the registered district stays on the page it is refused on
    english = client.get("/profile", cookies={"lang": "en"}).text
    assert "Haizhu" in english and "cannot be changed here" in english


def test_grouped_digits_are_read_and_words_are_named_as_not_a_number(portal_app: FastAPI) -> None:
    facts = portal_app.state.portal.pack.facts
    employees = facts.get("enterprise.employees")
    html = _self_check(
        client_of(portal_app),
        **{
            "enterprise.revenue": "6,000,000",
            "enterprise.total_assets": "1，200，000.50",
            "enterprise.employees": "abc",
        },
    )
    lines = _summary(html)
    # Only the head-count is refused, and not for being "negative".
    assert lines == [f"{employees.label.zh}：请填写整数，如 120。"], lines
    assert "负数" not in html


def _profile_post(client: TestClient, **changes: str) -> Response:
    token = csrf_of(client, "/profile")
    data = {**profile_form(**changes), "csrf_token": token}
    return client.post("/profile", data=data, follow_redirects=False)


def test_the_profile_refuses_a_score_out_of_its_range_at_the_field(portal_app: FastAPI) -> None:
    """facts.yaml's `max: 100`: 150 is named at the field and in the summary, zh and en; nothing saved."""
    portal: Portal = portal_app.state.portal
    score = portal.pack.facts.get("enterprise.innovation_score")
    client = client_of(portal_app)
    register(client)
    before = client.get("/profile").text
    refused = _profile_post(client, **{"enterprise.innovation_score": "150"})
    assert refused.status_code == 422
    assert _summary(refused.text) == [f"{score.label.zh}：请填写 0 至 100 之间的数。"]
    assert re.search(r'id="f-enterprise-innovation_score"[^>]*aria-invalid="true"', refused.text)
    assert 'value="150"' in refused.text  # kept as typed, to be corrected
    client.cookies.set("lang", "en")
    english = _profile_post(client, **{"enterprise.innovation_score": "１５０"})
    assert _summary(english.text) == [f"{score.label.en}: Enter a number from 0 to 100."]
    client.cookies.set("lang", "zh")
    assert client.get("/profile").text == before  # no version was written


def test_the_profile_reads_full_width_digits(portal_app: FastAPI) -> None:
    """An IME's １２３ and ５０．５ are the numbers they show; a decimal comma is refused, not guessed."""
    portal: Portal = portal_app.state.portal
    employees = portal.pack.facts.get("enterprise.employees")
    client = client_of(portal_app)
    register(client)
    saved = _profile_post(
        client,
        **{"enterprise.innovation_score": "８５", "enterprise.revenue": "１２，３４５，６７８．５０"},
    )
    assert saved.status_code == 303, _summary(saved.text)
    page = client.get("/profile").text
    assert 'value="85"' in page and 'value="12345678.50"' in page
    refused = _profile_post(client, **{"enterprise.employees": "１２，３４"})
    assert _summary(refused.text) == [f"{employees.label.zh}：请填写整数，如 120。"]


def test_the_profile_summary_lists_fields_in_page_order(portal_app: FastAPI) -> None:
    """A future registration date (checked after the others) still comes first, as on the page."""
    portal: Portal = portal_app.state.portal
    facts = portal.pack.facts
    client = client_of(portal_app)
    register(client)
    refused = _profile_post(
        client, **{"enterprise.registered_on": "2031-05-01", "enterprise.employees": "abc"}
    )
    page = refused.text
    fields = re.findall(r'<input id="(f-enterprise-(?:registered_on|employees))"', page)
    assert fields == ["f-enterprise-registered_on", "f-enterprise-employees"]  # the page's order
    assert _summary(page) == [
        f"{facts.get('enterprise.registered_on').label.zh}：日期不能晚于今天。",
        f"{facts.get('enterprise.employees').label.zh}：请填写整数，如 120。",
    ]


def test_a_refused_number_names_the_ends_its_fact_has() -> None:
    """Two ends say both; one end says that one (a loan term of at least one month)."""
    pack = load_pack(Path(__file__).resolve().parents[2] / "rules")
    score, term = pack.facts.get("enterprise.innovation_score"), pack.facts.get("loan.term_months")
    assert refusal_text(Translator("zh"), score, "range") == "请填写 0 至 100 之间的数。"
    assert refusal_text(Translator("en"), term, "range") == "This cannot be less than 1."
    assert refusal_text(Translator("zh"), term, "negative") == "不能为负数。"
