"""The supervision dashboard's figures, their pages and their files say the same thing in words.

On a generated year, over real HTTP on SQLite and PostgreSQL, zh and en:
- the expert figure counts scores and its drill-down lists cases: the page gives both numbers;
- the two medians of time are labelled for what each measures (time in a stage, per case; time to
  score, per score), so a 0 in one table and a 1 in the other are not read as the same thing;
- a district supervisor's CSV names its district (the pack's label) in its file name;
- money follows the portal's convention: on a page the cell carries the currency and the header
  no unit; in the CSV the header says yuan over a plain number.
"""

from __future__ import annotations

import csv
import html as markup
import io
import re
from urllib.parse import quote, unquote

import pytest
from fastapi import FastAPI
from portal_helpers import client_of, login, portal_app, staff
from starlette.testclient import TestClient

from portal.web.i18n import Translator
from tests.support.supervision_data import generate

__all__ = ["portal_app"]

PERIOD = "from=2026-01-01&to=2026-11-27"
DISTRICT = "haizhu"


@pytest.fixture(scope="module")
def readers(portal_app: FastAPI) -> dict[str, str]:
    portal = portal_app.state.portal
    generate(portal, 300)
    return {"city": staff(portal, "supervisor"), "district": staff(portal, "supervisor", district=DISTRICT)}


def _client(app: FastAPI, username: str, lang: str) -> TestClient:
    client = client_of(app)
    login(client, username)
    client.cookies.set("lang", lang)
    return client


def _words(fragment: str) -> str:
    return re.sub(r"\s+", " ", markup.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _figure(page: str, figure: str) -> str:
    start = page.index(f'id="figure-{figure}"')
    return page[start : page.index("</table>", start)]


def _headers(table: str) -> list[str]:
    return [_words(h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table, re.S)]


def _csv(client: TestClient, figure: str) -> list[list[str]]:
    answer = client.get(f"/supervision.csv?figure={figure}&{PERIOD}")
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_score_figure_and_its_cases_page_agree_in_words(
    portal_app: FastAPI, readers: dict[str, str], lang: str
) -> None:
    client = _client(portal_app, readers["city"], lang)
    table = _figure(client.get(f"/supervision?{PERIOD}").text, "experts")
    column = _headers(table).index("提交评分（份）" if lang == "zh" else "Scores submitted")
    checked = 0
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        link = re.search(r'href="([^"]+)"', cells[column - 1]) if cells else None
        if link is None:
            continue
        cell = cells[column - 1]
        scores = int(_words(cell).replace(",", ""))
        page = client.get(markup.unescape(link.group(1))).text
        cases = int(
            _words(
                page.split("<dt>" + ("案件总数" if lang == "zh" else "Cases in all"), 1)[1].split("</dd>", 1)[
                    0
                ]
            )
            .split()[-1]
            .replace(",", "")
        )
        said = _words(page.split('id="scores-on-cases">', 1)[1].split("</p>", 1)[0])
        if lang == "zh":
            assert f"提交专家评分 {scores} 份，涉及以下 {cases} 件案件" in said, said
        elif scores > 1 and cases > 1:
            assert said.startswith(f"{scores} expert scores submitted in the period, on the {cases} cases"), (
                said
            )
        checked += scores > cases
    assert checked, "no expert row with more scores than cases: the check proved nothing"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_median_says_what_it_measures(portal_app: FastAPI, readers: dict[str, str], lang: str) -> None:
    client = _client(portal_app, readers["city"], lang)
    page = client.get(f"/supervision?{PERIOD}").text
    stage, expert = _headers(_figure(page, "sla_by_stage")), _headers(_figure(page, "experts"))
    if lang == "zh":
        assert {"阶段用时中位数", "阶段用时90分位"} <= set(stage) and "评分用时中位数" in expert
        assert "评分用时90分位" in expert and not {"用时中位数", "用时90分位"} & set(stage + expert)
        assert "从专家被分配到提交该份评分的工作日数" in _words(page)
    else:
        assert {"Median time in stage", "90th percentile time in stage"} <= set(stage)
        assert {"Median time to score", "90th percentile time to score"} <= set(expert)
        assert "Median" not in stage + expert
        assert "working days from the expert's assignment to that score" in _words(page)
    assert _csv(client, "experts")[0][-2:] == (
        ["评分用时中位数（工作日）", "评分用时90分位（工作日）"]
        if lang == "zh"
        else ["Median time to score (working days)", "90th percentile time to score (working days)"]
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_district_supervisor_s_csv_names_its_district(
    portal_app: FastAPI, readers: dict[str, str], lang: str
) -> None:
    """The file is named after its figure's title in the reader's words, never its code; a
    district supervisor's names the district too. Old clients get the English, in ASCII."""
    jurisdictions = portal_app.state.portal.city.jurisdictions
    name, english = jurisdictions.label(DISTRICT, lang), jurisdictions.label(DISTRICT, "en")
    title = Translator(lang)("supervision.fig.experts")
    client = _client(portal_app, readers["district"], lang)
    answer = client.get(f"/supervision.csv?figure=experts&{PERIOD}")
    disposition = answer.headers["content-disposition"]
    stem = "supervision-{}-2026-01-01-2026-11-27.csv"
    assert f'filename="{stem.format(english + "-Expert-review")}"' in disposition, disposition
    assert f"filename*=UTF-8''{quote(stem.format(f'{name}-{title}'), safe='')}" in disposition, disposition
    assert disposition.encode("latin-1").isascii() and "experts" not in disposition
    city = _client(portal_app, readers["city"], lang).get(f"/supervision.csv?figure=experts&{PERIOD}")
    city_wide = city.headers["content-disposition"]
    assert f'filename="{stem.format("Expert-review")}"' in city_wide, city_wide
    assert f"filename*=UTF-8''{quote(stem.format(title), safe='')}" in city_wide, city_wide


@pytest.mark.parametrize(
    ("lang", "title"), [("zh", "按人工智能赛道（造车健城）统计的申报数"), ("en", "Applications by AI track")]
)
def test_a_csv_is_named_after_its_title_in_the_packs_words(
    portal_app: FastAPI, readers: dict[str, str], lang: str, title: str
) -> None:
    answer = _client(portal_app, readers["city"], lang).get(
        f"/supervision.csv?figure=received_by_track&{PERIOD}"
    )
    disposition = answer.headers["content-disposition"]
    named = unquote(disposition.split("filename*=UTF-8''")[1])
    assert named == f"supervision-{title}-2026-01-01-2026-11-27.csv", named
    assert 'filename="supervision-Applications-by-AI-track-2026-01-01-2026-11-27.csv"' in disposition


MONEY = {
    "zh": (["核定金额", "其中已拨付", "待拨付"], ["核定金额（元）", "其中已拨付（元）", "待拨付（元）"], "¥"),
    "en": (
        ["Approved", "Of which disbursed", "Committed, not yet disbursed"],
        ["Approved (yuan)", "Of which disbursed (yuan)", "Committed, not yet disbursed (yuan)"],
        "CNY ",
    ),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_money_reads_as_on_the_rest_of_the_portal(
    portal_app: FastAPI, readers: dict[str, str], lang: str
) -> None:
    page_headers, file_headers, currency = MONEY[lang]
    client = _client(portal_app, readers["city"], lang)
    page = client.get(f"/supervision?{PERIOD}").text
    for figure in ("money_by_measure", "money_by_district", "money_by_month", "bank_loans", "bank_exposure"):
        table = _figure(page, figure)
        assert not any("元" in h or "yuan" in h for h in _headers(table)), (figure, _headers(table))
        rows = _csv(client, figure)
        money_columns = [i for i, h in enumerate(rows[0]) if h.endswith("（元）") or h.endswith("(yuan)")]
        assert money_columns, (figure, rows[0])
        assert all(re.fullmatch(r"\d+\.\d\d", row[i]) for row in rows[1:] for i in money_columns), figure
    assert _headers(_figure(page, "money_by_measure"))[2:] == page_headers
    assert _csv(client, "money_by_measure")[0][2:] == file_headers
    cells = [_words(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", _figure(page, "money_by_district"), re.S)]
    assert any(c.startswith(currency) for c in cells), cells
    records = client.get(f"/supervision/bank-records?{PERIOD}&kind=exposure").text
    assert "金额（元）" not in records and "Amount (yuan)" not in records
