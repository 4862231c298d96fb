"""The supervision dashboard says bank outcomes in words, never their codes.

Every outcome the bank access log can record (`bank_access.ACCESS_OUTCOMES`, the list its
writers are typed against) has a zh and an en label; one the catalogue does not know reads 其他 /
Other. Over real HTTP on SQLite and PostgreSQL: the bank-queries figure, its drill-down and its
CSV, in both languages. A row names its call since 0028; older rows (no call) are told by outcome.
"""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from fastapi import FastAPI
from portal_helpers import client_of, login, new_uscc, portal_app, staff
from starlette.testclient import TestClient

from portal.db.access_log import append_access
from portal.messages import catalogue
from portal.rules import Outcome
from portal.services.bank_access import ACCESS_OUTCOMES, CALL_OF_OUTCOME, answered, log_refusal
from portal.services.context import Portal

__all__ = ["portal_app"]

# A code no writer knows today (a row of a later release, read by this one); a call likewise.
STRANGER = "some_future_refusal"
STRANGE_CALL = "some_future_call"
_RECORDS = re.compile(r'href="(/supervision/bank-records\?[^"]*kind=queries[^"]*)"')


def test_every_outcome_the_log_can_record_has_a_label_in_both_languages() -> None:
    words = catalogue()
    for outcome in ACCESS_OUTCOMES:
        texts = words.get(f"access_log.outcome.{outcome}")
        assert texts is not None and texts["zh"].strip() and texts["en"].strip(), outcome
        assert outcome not in (texts["zh"], texts["en"]), outcome
        assert outcome in CALL_OF_OUTCOME, outcome
    assert {answered(outcome) for outcome in Outcome} <= set(ACCESS_OUTCOMES)
    assert {"zh", "en"} <= set(words["access_log.outcome.other"])


@pytest.fixture(scope="module")
def logged(portal_app: FastAPI) -> str:
    """One row per outcome the log can record, written as before 0028 (no call), one of an unknown
    code, all without a USCC; one naming a USCC no enterprise here has; then refusals that name
    their call, as the bank API writes them now, and one of a call no release knows yet.
    Returns the supervisor's username."""
    portal: Portal = portal_app.state.portal
    with portal.transaction() as session:
        for outcome in (*ACCESS_OUTCOMES, STRANGER):
            append_access(session, outcome=outcome, http_status=400, at=portal.now())
    with portal.transaction() as session:
        append_access(
            session, outcome="no_consent", http_status=403, uscc_queried=new_uscc(), at=portal.now()
        )
    log_refusal(portal, None, call="eligibility", outcome="unauthorized", http_status=401)
    log_refusal(portal, None, call="loan_registration", outcome="no_consent", http_status=403)
    log_refusal(portal, None, call="loan_status", outcome="rate_limited", http_status=429)
    with portal.transaction() as session:
        append_access(
            session, outcome="bad_request", http_status=400, call_kind=STRANGE_CALL, at=portal.now()
        )
    return staff(portal, "supervisor")


def _reader(app: FastAPI, username: str, lang: str) -> TestClient:
    client = client_of(app)
    login(client, username)
    client.cookies.set("lang", lang)
    return client


def _codes_in(text: str, lang: str) -> list[str]:
    """The outcome codes in `text`; in English, those that are no English word ("eligible" is one)."""
    codes = [code for code in (*ACCESS_OUTCOMES, STRANGER, STRANGE_CALL) if lang == "zh" or "_" in code]
    return [code for code in codes if re.search(rf"\b{code}\b", text)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_bank_figure_its_records_and_its_csv_say_no_outcome_code(
    portal_app: FastAPI, logged: str, lang: str
) -> None:
    client = _reader(portal_app, logged, lang)
    page = client.get("/supervision")
    assert page.status_code == 200
    section = page.text.split('id="section-banks"', 1)[1]
    visible = re.sub(r"<[^>]+>", " ", section)  # the text, not the drill-down links' query strings
    assert _codes_in(visible, lang) == []
    other = catalogue()["access_log.outcome.other"][lang]
    for outcome in ("unauthorized", "insufficient_scope", "not_found"):
        words = (
            catalogue().get(f"supervision.outcome.{outcome}") or catalogue()[f"access_log.outcome.{outcome}"]
        )
        assert words[lang] in visible, outcome
    assert other in visible

    sheet = client.get("/supervision.csv?figure=bank_queries")
    assert sheet.status_code == 200
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert _codes_in("\n".join(",".join(row) for row in rows), lang) == []
    assert other in {row[2] for row in rows[1:]}

    links = {html.unescape(href) for href in _RECORDS.findall(page.text)}
    stranger = next(href for href in links if f"state={STRANGER}" in href)
    for href in (stranger, next(href for href in links if "state=not_found" in href)):
        listed = client.get(href)
        assert listed.status_code == 200
        assert _codes_in(re.sub(r"<[^>]+>", " ", listed.text), lang) == [], href
    assert other in client.get(stranger).text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_request_without_a_uscc_is_not_called_a_firm_off_the_portal(
    portal_app: FastAPI, logged: str, lang: str
) -> None:
    words = catalogue()
    listed = _reader(portal_app, logged, lang).get("/supervision/bank-records?kind=queries").text
    assert words["supervision.no_uscc"][lang] in listed
    # The one row naming a USCC no enterprise here has is the one firm off the portal.
    assert listed.count(f">{words['supervision.unknown_enterprise'][lang]}<") == 1


_CALL_CELL = re.compile(r'<a href="(/supervision/bank-records\?[^"]*call=[^"]*)">([\d,]+)</a>')
_RECORDS_TOTAL = {
    "zh": re.compile(r"记录数</dt><dd>([\d,]+)</dd>"),
    "en": re.compile(r"Records in all</dt><dd>([\d,]+)</dd>"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_eligibility_queries_are_counted_apart_from_loan_calls(
    portal_app: FastAPI, logged: str, lang: str
) -> None:
    """The calls by kind: an eligibility query is not a loan registration or a status read; a
    refusal that names its call counts under it, and the older refusals that do not say which call
    they were are a row of their own; each row lists its calls."""
    words = catalogue()
    client = _reader(portal_app, logged, lang)
    sheet = client.get("/supervision.csv?figure=bank_calls")
    assert sheet.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert header == [
        words["supervision.th.call"][lang],
        words["supervision.th.calls"][lang],
        words["supervision.th.refused"][lang],
        words["supervision.csv.refused_share"][lang],
    ]
    # One older row per outcome the log can record (4 answered checks, 9 registrations of which 8
    # refused, 2 status reads of which 1 refused, 5 unattributed refusals), one more no_consent,
    # one of an unknown outcome; then a refusal naming each call (key, consent, throttle) and
    # one naming an unknown call.
    assert rows == [
        [words["supervision.call.eligibility"][lang], "5", "1", "0.200"],
        [words["supervision.call.loan_registration"][lang], "10", "9", "0.900"],
        [words["supervision.call.loan_status"][lang], "3", "2", "0.667"],
        [words["supervision.call.unattributed"][lang], "6", "6", "1.000"],
        [words["supervision.call.other"][lang], "2", "2", "1.000"],
    ]
    # Each row of both figures lists as many records as it counts (the figure by bank, product and
    # outcome links with the row's call too: one outcome may come from two calls).
    cells = _CALL_CELL.findall(client.get("/supervision").text)
    assert len([href for href, _ in cells if "kind=queries&amp;call=" in href]) == len(rows)
    for href, n in cells:
        listed = client.get(html.unescape(href))
        assert listed.status_code == 200
        total = _RECORDS_TOTAL[lang].search(listed.text)
        assert total is not None and total.group(1) == n, href
    # The figure by bank, product and outcome keeps its four columns first and says the kind last.
    header, *rows = list(
        csv.reader(
            io.StringIO(client.get("/supervision.csv?figure=bank_queries").content.decode("utf-8-sig"))
        )
    )
    assert header[3:] == [words["supervision.th.calls"][lang], words["supervision.th.call"][lang]]
    assert sum(int(row[3]) for row in rows) == 26
    # A refusal's outcome reads alike under either call: the row of the call that named it says so.
    no_consent = catalogue()["access_log.outcome.no_consent"][lang]
    assert sorted((row[4], row[3]) for row in rows if row[2] == no_consent) == sorted(
        [
            (words["supervision.call.loan_registration"][lang], "1"),
            (words["supervision.call.unattributed"][lang], "2"),
        ]
    )
    assert client.get("/supervision/bank-records?kind=loans&call=eligibility").status_code == 404
    assert client.get("/supervision/bank-records?kind=queries&call=nonsense").status_code == 404


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_outcome_says_how_the_call_ended_not_which_call_it_was(
    portal_app: FastAPI, logged: str, lang: str
) -> None:
    """Beside its kind of call (贷款备案) a row's outcome says how it ended (已备案, or why it was
    refused), where the enterprise's access log, which has no such column, names the call in it."""
    words = catalogue()
    client = _reader(portal_app, logged, lang)
    _, *rows = list(
        csv.reader(
            io.StringIO(client.get("/supervision.csv?figure=bank_queries").content.decode("utf-8-sig"))
        )
    )
    for _, _, outcome, _, call in rows:
        if call != words["supervision.call.other"][lang]:  # (a call and outcome of a later release)
            assert call not in outcome and outcome not in call, (outcome, call)
    registration, status = (
        words[f"supervision.call.{c}"][lang] for c in ("loan_registration", "loan_status")
    )
    ended = {(call, outcome) for _, _, outcome, _, call in rows}
    assert (registration, words["supervision.outcome.loan_registered"][lang]) in ended
    assert (status, words["supervision.outcome.loan_status"][lang]) in ended
    page = re.sub(r"<[^>]+>", " ", client.get("/supervision").text.split('id="figure-bank_queries"')[1])
    assert words["supervision.outcome.loan_registered"][lang] in page
