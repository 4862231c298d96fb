"""The dashboard's money-by-month figure: months in words, both series drawn with a legend.

On a generated year, over real HTTP on SQLite and PostgreSQL: the table and the chart name each
month as the reader writes it (2026年10月 / October 2026), the chart draws approvals and
disbursements side by side with a legend of the table's two headers, and the CSV keeps YYYY-MM.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi import FastAPI
from portal_helpers import client_of, login, portal_app, staff

from tests.support.supervision_data import generate

__all__ = ["portal_app"]

PERIOD = "from=2026-01-01&to=2026-11-27"
MONTH = {
    "zh": re.compile(r"2026年(1[0-2]|[1-9])月"),
    "en": re.compile(
        r"(January|February|March|April|May|June|July|August|September|October|November|December) 2026"
    ),
}
HEADERS = {
    "zh": ["核定金额（元）", "当月拨付（元）"],
    "en": ["Approved (yuan)", "Disbursed in the month (yuan)"],
}


@pytest.fixture(scope="module")
def supervisor(portal_app: FastAPI) -> str:
    portal = portal_app.state.portal
    generate(portal, 300)
    return staff(portal, "supervisor")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_money_by_month_reads_months_in_words_and_draws_both_series(
    portal_app: FastAPI, supervisor: str, lang: str
) -> None:
    client = client_of(portal_app)
    login(client, supervisor)
    client.get(f"/lang/{lang}")
    html = client.get(f"/supervision?{PERIOD}").text
    start = html.index('id="figure-money_by_month"')
    figure = html[start : html.index("</table>", start)]
    months = re.findall(r'<th scope="row">([^<]+)</th>', figure)
    assert len(months) >= 3 and all(MONTH[lang].fullmatch(m) for m in months), months
    svg = figure[figure.index("<svg") : figure.index("</svg>")]
    assert re.findall(r'<text class="chart-legend"[^>]*>([^<]+)</text>', svg) == HEADERS[lang]
    labels = re.findall(r'<text class="chart-label"[^>]*>([^<]+)</text>', svg)
    assert labels == months
    series = re.findall(r'class="chart-bar chart-series-(\d)"', svg)
    # One legend swatch and one bar per month for each series, each bar saying its table cell.
    assert series.count("0") == series.count("1") == len(months) + 1
    cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", figure)]
    assert re.findall(r'<text class="chart-value"[^>]*>([^<]+)</text>', svg) == cells
    assert 'role="img"' in svg and "<title" in svg  # the table beside it is the text alternative

    answer = client.get(f"/supervision.csv?figure=money_by_month&{PERIOD}")
    rows = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])
    assert rows[1:] and all(re.fullmatch(r"2026-\d\d", row[0]) for row in rows[1:]), rows
