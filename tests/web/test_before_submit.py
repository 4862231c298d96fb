"""What the enterprise is told before it submits, over real HTTP on SQLite and PostgreSQL, zh and en:
the amount requested is held to what the measure's rule works out (at save, on the check page, at
submission, in the JSON API), a negative amount is refused at save, an upload over the limit is
never given a wrong size, and an unverified enterprise is led to the verification page instead
of being offered a submission the portal would refuse."""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    PASSWORD,
    client_of,
    csrf_of,
    edit_target,
    login,
    new_uscc,
    portal_app,
    register,
    save_profile,
    scenario_answers,
    scenario_files,
    start_application,
    stored,
)
from sqlmodel import col, select

from portal.db.tables import ApplicationAnswers
from portal.services.verified import verify_enterprise
from portal.web.i18n import Translator
from tests.support.page_checks import visible_text

__all__ = ["portal_app"]


def _ceiling(lang: str, amount: str) -> str:
    """The scenario rule's amount is 30% of the investment (below its ¥5,000,000 cap)."""
    if lang == "en":
        return f"Cannot exceed the ceiling worked out under the policy, CNY {amount}."
    return f"不得超过按政策测算的上限 ¥{amount}。"


def _drafted(app: FastAPI, lang: str) -> tuple[TestClient, int, str]:
    client = client_of(app)
    _, code = register(client)
    save_profile(client)
    client.cookies.set("lang", lang)
    return client, start_application(client), code


def _field_error(page: str, field: str) -> str:
    """The message marked at a field of the form."""
    match = re.search(rf'id="field-{field}-error"[^>]*>(.*?)</', page, re.S)
    assert match is not None, f"no error at {field}: {visible_text(page)[:1500]}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def _saved_answers(app: FastAPI, application_id: int) -> dict[str, object]:
    with app.state.portal.reading() as session:
        row = session.exec(
            select(ApplicationAnswers)
            .where(col(ApplicationAnswers.application_id) == application_id)
            .order_by(col(ApplicationAnswers.version).desc())
        ).first()
        return dict(row.answers) if row is not None else {}


def _save(client: TestClient, application_id: int, answers: dict[str, str], **files: object) -> str:
    action, token = edit_target(client, application_id)
    data = {**answers, "csrf_token": token, "action": "save"}
    response = client.post(action, data=data, follow_redirects=False, **files)  # type: ignore[arg-type]
    return response.text if response.status_code == 422 else str(response.status_code)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_request_above_the_rules_amount_is_refused_at_the_field(portal_app: FastAPI, lang: str) -> None:
    client, application_id, code = _drafted(portal_app, lang)
    over = scenario_answers(code, investment="2000000", requested_amount="900000")
    page = _save(client, application_id, over, files=scenario_files())
    assert _field_error(page, "requested_amount") == _ceiling(lang, "600,000.00")
    assert 'value="900000"' in page  # the form comes back as typed
    saved = _saved_answers(portal_app, application_id)
    assert saved["investment"] == 2000000 or str(saved["investment"]) == "2000000"
    assert "requested_amount" not in saved  # the rest of the draft is kept, not the refused amount

    # A lower investment afterwards leaves the amount stored above the new ceiling: the check page
    # says so at the field and offers no submit, and a submission anyway is refused at the field.
    assert _save(client, application_id, {**over, "requested_amount": "500000"}) == "303"
    page = _save(client, application_id, {**over, "investment": "1000000", "requested_amount": "500000"})
    assert _field_error(page, "requested_amount") == _ceiling(lang, "300,000.00")
    check = client.get(f"/applications/{application_id}/check").text
    assert _ceiling(lang, "300,000.00") in visible_text(check)
    assert f'action="/applications/{application_id}/submit"' not in check
    marked = client.get(f"/applications/{application_id}/edit?check=1").text
    assert _field_error(marked, "requested_amount") == _ceiling(lang, "300,000.00")
    token = csrf_of(client, f"/applications/{application_id}/check")
    version = str(stored(portal_app, application_id).version)
    refused = client.post(
        f"/applications/{application_id}/submit", data={"csrf_token": token, "expected_version": version}
    )
    assert refused.status_code == 422
    assert _field_error(refused.text, "requested_amount") == _ceiling(lang, "300,000.00")
    assert stored(portal_app, application_id).state == "draft"

    assert (
        _save(client, application_id, {**over, "investment": "1000000", "requested_amount": "300000"})
        == "303"
    )
    assert (
        f'action="/applications/{application_id}/submit"'
        in client.get(f"/applications/{application_id}/check").text
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_api_refuses_a_request_above_the_rules_amount_by_field(portal_app: FastAPI, lang: str) -> None:
    client, application_id, code = _drafted(portal_app, lang)
    token = {"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]}
    url = f"/api/v1/applications/{application_id}"
    over = scenario_answers(code, investment="2000000", requested_amount="900000")
    body = {"answers": over, "expected_version": client.get(url).json()["version"], "lang": lang}
    refused = client.put(f"{url}/answers", json=body, headers=token)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"] == [
        {"field": "requested_amount", "message": _ceiling(lang, "600,000.00")}
    ]

    # Within the amount the draft is saved; then the investment drops and the submission is refused.
    body["answers"] = {**over, "requested_amount": "600000"}
    assert client.put(f"{url}/answers", json=body, headers=token).status_code == 200
    assert _save(client, application_id, body["answers"], files=scenario_files()) == "303"
    with portal_app.state.portal.transaction() as session:  # stored by an older portal, say
        row = session.exec(
            select(ApplicationAnswers).where(col(ApplicationAnswers.application_id) == application_id)
        ).one()
        row.answers = {**row.answers, "investment": "1000000"}
        session.add(row)
    version = client.get(url).json()["version"]
    refused = client.post(f"{url}/submit", json={"expected_version": version, "lang": lang}, headers=token)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "requested_amount", "message": _ceiling(lang, "300,000.00")}
    ]
    assert stored(portal_app, application_id).state == "draft"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_negative_amount_is_refused_when_the_draft_is_saved(portal_app: FastAPI, lang: str) -> None:
    client, application_id, code = _drafted(portal_app, lang)
    page = _save(client, application_id, scenario_answers(code, requested_amount="-100"))
    assert _field_error(page, "requested_amount") == (
        "必须大于 0。" if lang == "zh" else "Must be greater than 0."
    )
    assert "requested_amount" not in _saved_answers(portal_app, application_id)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_upload_over_the_limit_is_not_given_a_wrong_size(portal_app: FastAPI, lang: str) -> None:
    """A real multipart post of a 60,000,000-byte file: the message says it is over the limit,
    and no size the server never read to the end."""
    client, application_id, _ = _drafted(portal_app, lang)
    action, token = edit_target(client, application_id)
    huge = b"%PDF-1.4\n" + b"0" * (60_000_000 - 9)
    files = [("attachment:investment_evidence", ("huge.pdf", huge, "application/pdf"))]
    refused = client.post(action, data={"csrf_token": token, "action": "save"}, files=files)
    assert refused.status_code == 422
    text = visible_text(refused.text)
    if lang == "zh":
        assert "“huge.pdf”未上传：文件超过 20 MB 的上限。" in text
    else:
        assert "The file is larger than the 20 MB limit." in text
    assert "21.0" not in text and "MB，超过" not in text


UNVERIFIED_NAME = "广州未核验测试科技有限公司"


def _unverified(app: FastAPI, lang: str) -> tuple[TestClient, str]:
    """A newly registered enterprise, signed in and not verified, with its profile saved."""
    client = client_of(app)
    code = new_uscc()
    username = f"unv{code[-8:].lower()}"
    form = {
        "csrf_token": csrf_of(client, "/register"),
        "uscc": code,
        "name": UNVERIFIED_NAME,
        "district": "haizhu",
        "ai_track": "cheng",
        "username": username,
        "display_name": "孙会计",
        "email": "unverified@example.cn",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    assert client.post("/register", data=form, follow_redirects=False).status_code == 303
    login(client, username)
    save_profile(client)
    client.cookies.set("lang", lang)
    return client, code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unverified_enterprise_is_led_to_verification_not_offered_submit(
    portal_app: FastAPI, lang: str
) -> None:
    t = Translator(lang)
    client, code = _unverified(portal_app, lang)
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code, enterprise_name=UNVERIFIED_NAME), "csrf_token": token, "action": "check"}
    assert client.post(action, data=data, files=scenario_files(), follow_redirects=False).status_code == 303
    check_url = f"/applications/{application_id}/check"
    check = client.get(check_url).text
    page = t("nav.verification")
    link = f'href="/verification">{html.escape(t("apply.unverified.link", page=page))}</a>'
    assert 'id="check-unverified"' in check and link in check
    text = visible_text(check)
    assert t("apply.unverified.title") in text
    assert t("apply.unverified.body", page=page) in text
    assert f'action="/applications/{application_id}/submit"' not in check  # no button to be refused

    # Pressed anyway, from a tab opened before: refused on the check page, with the link, in words.
    version = str(stored(portal_app, application_id).version)
    token = csrf_of(client, check_url)
    refused = client.post(
        f"/applications/{application_id}/submit", data={"csrf_token": token, "expected_version": version}
    )
    assert refused.status_code == 409 and link in refused.text
    said = "企业身份尚未核验：请先在“身份核验”页面" if lang == "zh" else "on the Verification page"
    assert said in visible_text(refused.text)
    assert stored(portal_app, application_id).state == "draft"
    # The form's own submit (scripted clients) says the same, with the link.
    action, token = edit_target(client, application_id)
    refused = client.post(action, data={**data, "csrf_token": token, "action": "submit"})
    assert refused.status_code == 409 and link in refused.text and said in visible_text(refused.text)

    verify_enterprise(portal_app.state.portal, code)
    check = client.get(check_url).text
    assert 'id="check-unverified"' not in check and f'action="/applications/{application_id}/submit"' in check


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_enterprise_without_a_profile_is_led_to_it_not_offered_submit(
    portal_app: FastAPI, lang: str
) -> None:
    """A first-time firm's submission is judged on its profile: the check page says so before the
    last step and leads to the profile page, instead of a refusal naming a step no page shows."""
    t = Translator(lang)
    client = client_of(portal_app)
    _, code = register(client)  # verified, no profile saved yet
    client.cookies.set("lang", lang)
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    data = {**scenario_answers(code), "csrf_token": token, "action": "check"}
    assert client.post(action, data=data, files=scenario_files(), follow_redirects=False).status_code == 303
    check_url = f"/applications/{application_id}/check"
    check = client.get(check_url).text
    page = t("nav.profile")
    link = f'href="/profile">{html.escape(t("apply.unverified.link", page=page))}</a>'
    assert 'id="check-no-profile"' in check and link in check
    text = visible_text(check)
    assert t("apply.no_profile.title") in text and t("apply.no_profile.body", page=page) in text
    assert f'action="/applications/{application_id}/submit"' not in check

    # Pressed anyway, from a tab opened before: refused on the check page, with the link.
    version = str(stored(portal_app, application_id).version)
    token = csrf_of(client, check_url)
    refused = client.post(
        f"/applications/{application_id}/submit", data={"csrf_token": token, "expected_version": version}
    )
    said = "请先填写并保存企业信息" if lang == "zh" else "Fill in and save the enterprise profile first."
    assert refused.status_code == 409 and link in refused.text and said in visible_text(refused.text)
    # The form's own submit says the same, with the link.
    action, token = edit_target(client, application_id)
    refused = client.post(action, data={**data, "csrf_token": token, "action": "submit"})
    assert refused.status_code == 409 and link in refused.text and said in visible_text(refused.text)
    assert stored(portal_app, application_id).state == "draft"

    save_profile(client)
    assert t("profile.confirm_hint") in visible_text(client.get("/profile").text)
    check = client.get(check_url).text
    assert 'id="check-no-profile"' not in check and f'action="/applications/{application_id}/submit"' in check


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_before_the_profile_is_confirmed_the_answers_alone_set_the_ceiling(
    portal_app: FastAPI, lang: str
) -> None:
    """No profile yet: the rule's amount reads only the investment the form asks for, so the draft
    is told already, not first at submission (which needs the confirmed profile anyway)."""
    client = client_of(portal_app)
    _, code = register(client)
    client.cookies.set("lang", lang)
    application_id = start_application(client)
    page = _save(
        client, application_id, scenario_answers(code, investment="2000000", requested_amount="900000")
    )
    assert _field_error(page, "requested_amount") == _ceiling(lang, "600,000.00")
