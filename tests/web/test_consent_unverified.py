"""An unverified enterprise's consent page says up front why it cannot grant a bank consent yet and
where it verifies itself; a post it was not offered is refused on that page, in words, in the
layout, and nothing is stored. Through the real app on SQLite and PostgreSQL, in zh and en."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import PASSWORD, client_of, csrf_of, login, new_uscc, portal_app
from sqlmodel import col, func, select

from portal.db.tables import BankConsent, Enterprise
from portal.services import banks
from portal.services.verified import verify_enterprise
from tests.support.page_checks import visible_text

__all__ = ["portal_app"]

BANK = "consent_gate_bank"
WORDS = {
    "zh": {
        # The verification page by the menu's name for it (身份核验 / Verification).
        "title": "身份核验通过后才能授权银行查询",
        "what": "请在“身份核验”页面上传营业执照和授权书",
        "link": "前往身份核验",
        "refused": "您的授权未被记录。",
    },
    "en": {
        "title": "You can grant banks consent once your enterprise is verified",
        "what": "Upload the business licence and the authorisation letter on the Verification page",
        "link": "Go to Verification",
        "refused": "Your consent was not recorded.",
    },
}


def _partner_bank(app: FastAPI) -> None:
    """One partner bank, so that a verified enterprise would be offered the form."""
    portal = app.state.portal
    if BANK not in {b.code for b in banks.active_banks(portal)}:
        banks.add_bank(portal, name="丙银行广州分行", code=BANK)


def _unverified(app: FastAPI, lang: str) -> tuple[TestClient, str]:
    """A newly registered enterprise, signed in and not verified; (its client, its USCC)."""
    client = client_of(app)
    code = new_uscc()
    username = f"gate{code[-8:].lower()}"
    token = csrf_of(client, "/register")
    form = {
        "csrf_token": token,
        "uscc": code,
        "name": "广州授权门槛测试科技有限公司",
        "district": "haizhu",
        "username": username,
        "display_name": "钱会计",
        "email": "gate@example.cn",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    assert client.post("/register", data=form, follow_redirects=False).status_code == 303
    login(client, username)
    client.cookies.set("lang", lang)
    return client, code


def _consents_of(app: FastAPI, code: str) -> int:
    with app.state.portal.reading() as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(BankConsent)
                .join(Enterprise, col(Enterprise.id) == BankConsent.enterprise_id)
                .where(col(Enterprise.uscc) == code)
            ).one()
        )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_says_why_and_offers_no_form(portal_app: FastAPI, lang: str) -> None:
    _partner_bank(portal_app)
    client, code = _unverified(portal_app, lang)
    page = client.get("/consents")
    assert page.status_code == 200
    words = WORDS[lang]
    assert 'id="consent-unverified"' in page.text
    text = visible_text(page.text)
    assert words["title"] in text and words["what"] in text and words["link"] in text
    assert words["refused"] not in text  # nothing was refused yet
    assert 'href="/verification"' in page.text
    # No form to fill in and no button to press: nothing the service would refuse on submit.
    assert 'action="/consents"' not in page.text and 'name="products"' not in page.text

    verify_enterprise(portal_app.state.portal, code)
    verified = client.get("/consents").text
    assert 'id="consent-unverified"' not in verified and 'action="/consents"' in verified


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_post_it_was_not_offered_is_refused_in_words_on_the_page(portal_app: FastAPI, lang: str) -> None:
    _partner_bank(portal_app)
    client, code = _unverified(portal_app, lang)
    token = csrf_of(client, "/consents")
    form = {"csrf_token": token, "bank": BANK, "products": "guarantee_fee", "days": "30"}
    answer = client.post("/consents", data=form, follow_redirects=False)
    assert answer.status_code == 409
    page = answer.text
    # The consent page in the layout, saying what happened and why: not the bare error page.
    assert "<main" in page and 'class="error-code"' not in page
    assert 'id="consent-unverified"' in page and 'role="alert"' in page
    text = visible_text(page)
    words = WORDS[lang]
    assert words["refused"] in text and words["title"] in text and words["what"] in text
    assert 'href="/verification"' in page and 'action="/consents"' not in page
    assert _consents_of(portal_app, code) == 0


@pytest.mark.parametrize(("lang", "limit"), [("zh", "不超过 20 MB"), ("en", "at most 20 MB")])
def test_the_verification_page_names_the_upload_limit(portal_app: FastAPI, lang: str, limit: str) -> None:
    """The papers' hint says how large a file may be, as the other upload forms do ("within the
    upload size limit" named none)."""
    client, _ = _unverified(portal_app, lang)
    text = visible_text(client.get("/verification").text)
    assert text.count(limit) == 2, text  # the licence and the authorisation
