"""A partner bank's English name (`bank.name_en`, 0029) on the pages that name a bank.

English pages name a bank by its English name, and by its Chinese name when it has none;
Chinese pages always by its Chinese name: the enterprise's consents and access log, the
supervision banks figures, their drill-down and CSV, the administrator's page, the staff's
一企一档. Bank "alpha" of the world has no English name; "gamma", added here, has one.
"""

import csv
import html
import io
import re

import pytest
from fastapi.testclient import TestClient

from portal.services import banks, consents
from portal.services.enterprises import create_staff_user
from tests.bank.bank_world import ALL_PRODUCTS, PASSWORD, BankWorld, loan
from tests.bank.test_consent_pages import sign_in

ALPHA_ZH = "甲银行广州分行"
GAMMA_ZH, GAMMA_EN = "丙银行广州分行", "Gamma Bank Guangzhou Branch"
# Gamma's name as each language shows it, and the one it must not show.
IN_EACH_LANGUAGE = pytest.mark.parametrize(
    ("lang", "shown", "hidden"), [("en", GAMMA_EN, GAMMA_ZH), ("zh", GAMMA_ZH, GAMMA_EN)]
)
_RECORDS = re.compile(r'href="(/supervision/bank-records\?[^"]*)"')


@pytest.fixture
def gamma(world: BankWorld) -> BankWorld:
    """Gamma, with an English name, and alpha, without, each hold the enterprise's consent and
    have checked it once."""
    banks.add_bank(world.portal, name=GAMMA_ZH, name_en=GAMMA_EN, code="gamma")
    key = banks.issue_key(world.portal, "gamma").key
    consents.grant_consent(world.portal, world.enterprise, bank_code="gamma", products=ALL_PRODUCTS)
    for by in (key, world.key):
        body = {"uscc": world.uscc, "product": "credit_risk_compensation", "loan": loan()}
        assert world.check(body, key=by).status_code == 200
    return world


def _staff(world: BankWorld, role: str, lang: str) -> TestClient:
    create_staff_user(world.portal, None, username=role, password=PASSWORD, display_name=role, role=role)
    client = TestClient(world.client.app, raise_server_exceptions=False)
    signed = client.post(
        "/login",
        data={"username": role, "password": PASSWORD, "csrf_token": csrf_of_client(client, "/login")},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    client.cookies.set("lang", lang)
    return client


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@IN_EACH_LANGUAGE
def test_the_enterprise_sees_each_bank_named_in_its_language(
    gamma: BankWorld, lang: str, shown: str, hidden: str
) -> None:
    sign_in(gamma)
    gamma.client.cookies.set("lang", lang)
    for path in ("/consents", "/access-log", "/catalogue"):
        page = gamma.client.get(path)
        assert page.status_code == 200, path
        assert shown in page.text and hidden not in page.text, path
        assert ALPHA_ZH in page.text, path  # no English name: its Chinese one, in English too
    option = re.search(r'<option value="gamma" ?>([^<]+)</option>', gamma.client.get("/consents").text)
    assert option is not None and option.group(1) == shown


@IN_EACH_LANGUAGE
def test_supervision_names_each_bank_in_the_readers_language(
    gamma: BankWorld, lang: str, shown: str, hidden: str
) -> None:
    client = _staff(gamma, "supervisor", lang)
    page = client.get("/supervision")
    assert page.status_code == 200
    section = _text(page.text.split('id="section-banks"', 1)[1])
    assert shown in section and hidden not in section and ALPHA_ZH in section
    for figure in ("bank_queries", "bank_consents"):
        sheet = client.get(f"/supervision.csv?figure={figure}")
        assert sheet.status_code == 200
        names = {row[0] for row in csv.reader(io.StringIO(sheet.content.decode("utf-8-sig")))}
        assert {shown, ALPHA_ZH} <= names and hidden not in names, figure
    # The drill-down behind gamma's consents: its filter and its rows name the bank likewise.
    links = [html.unescape(h) for h in _RECORDS.findall(page.text) if "kind=consents" in h]
    [gamma_consents] = [h for h in links if "bank=%E4%B8%99" in h]
    listed = client.get(gamma_consents)
    assert listed.status_code == 200
    assert shown in _text(listed.text) and hidden not in _text(listed.text)


@IN_EACH_LANGUAGE
def test_the_administrator_adds_a_bank_with_its_english_name_and_sees_it_in_each_language(
    gamma: BankWorld, lang: str, shown: str, hidden: str
) -> None:
    admin = _staff(gamma, "admin", lang)
    token = csrf_of_client(admin, "/admin/banks")
    form = {"csrf_token": token, "code": "delta", "name": "丁银行广州分行", "name_en": " Delta Bank "}
    added = admin.post("/admin/banks", data=form, follow_redirects=False)
    assert added.status_code == 303, added.text
    assert [(b.name, b.name_en) for b in banks.list_banks(gamma.portal) if b.code == "delta"] == [
        ("丁银行广州分行", "Delta Bank")
    ]
    listing = admin.get("/admin/banks").text
    assert ("Delta Bank" if lang == "en" else "丁银行广州分行") in listing  # the flash and the heading
    heading = re.search(r'<h2 id="bank-gamma">([^<]+)<span', listing)
    assert heading is not None and heading.group(1).strip() == shown
    # A new key's page says whom to hand it to by the bank's name, never its code.
    issued = admin.post(
        "/admin/banks/keys", data={"csrf_token": token, "bank": "gamma", "scopes": ["loans:write"]}
    )
    told = re.search(r'<div class="alert alert-success".*?</div>', issued.text, re.S)
    assert told is not None and shown in told.group(0) and "gamma" not in told.group(0)
    efile = _text(admin.get(f"/enterprises/{gamma.uscc}").text)
    assert shown in efile and hidden not in efile and ALPHA_ZH in efile


def csrf_of_client(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None, path
    return match.group(1)
