"""The dashboard's money-by-month figure: months in words, both series drawn with a legend.

On a generated year, over real HTTP on SQLite and PostgreSQL: the table and the chart name each
month as the reader writes it (2026年10月 / October 2026), the chart draws approvals and
disbursements side by side with a legend of the table's two headers, and the CSV keeps YYYY-MM.
"""

from __future__ import annotations

import csv
import datetime as dt
import html as markup
import io
import re
from decimal import Decimal

import pytest
from fastapi import FastAPI
from portal_helpers import client_of, login, portal_app, staff
from sqlmodel import col, select

from portal.db.tables import Application, Decision, Transition
from portal.web.case_views import measure_title
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
    "zh": ["核定金额", "当月拨付"],
    "en": ["Approved", "Disbursed in the month"],
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


CSV_UNITS = {
    "zh": (
        "按时办结率",
        "按时办结率（比例，1 = 100%）",
        "阶段用时中位数（工作日）",
        "阶段用时90分位（工作日）",
    ),
    "en": (
        "On-time share",
        "On-time share (fraction, 1 = 100%)",
        "Median time in stage (working days)",
        "90th percentile time in stage (working days)",
    ),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_sla_csv_names_its_units_and_keeps_the_page_s_columns(
    portal_app: FastAPI, supervisor: str, lang: str
) -> None:
    """The page shows 87.5% and 3 个工作日; the CSV keeps 0.875 and 3 (docs/portal.md), so its
    headers say what the numbers are counted in."""
    client = client_of(portal_app)
    login(client, supervisor)
    client.get(f"/lang/{lang}")
    html = client.get(f"/supervision?{PERIOD}").text
    start = html.index('id="figure-sla_by_stage"')
    table = html[start : html.index("</table>", start)]
    page_headers = [
        re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", table)
    ]
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/supervision.csv?figure=sla_by_stage&{PERIOD}").text.lstrip("\ufeff"))
        )
    )
    page_share, share, median, p90 = CSV_UNITS[lang]
    column = page_headers.index(page_share)
    assert rows[0] == [
        {page_share: share, page_headers[column + 1]: median, page_headers[column + 2]: p90}.get(h, h)
        for h in page_headers
    ]
    shares = [Decimal(row[column]) for row in rows[1:] if row[column]]
    assert shares and all(0 <= s <= 1 for s in shares)
    first = next(r for r in re.findall(r"<tr>(.*?)</tr>", table, re.S) if "%" in r)
    shown = re.sub(r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", first)[column - 1]).strip()
    assert shown.rstrip("%") in {str(s * 100).rstrip("0").rstrip(".") for s in shares}, shown


@pytest.fixture(scope="module")
def some_paid(portal_app: FastAPI, supervisor: str) -> str:
    """A few approved cases moved on to their workflow's disbursement stage, the day after approval
    (the generated year leaves none there), as a stored transition like the generator writes."""
    portal = portal_app.state.portal
    with portal.transaction() as session:
        rows = session.execute(
            select(Application.id, Application.workflow, Application.state, Decision.decided_at)
            .join(Decision, col(Decision.application_id) == Application.id)
            .where(col(Decision.outcome) == "approved", col(Decision.granted_amount).is_not(None))
            .order_by(col(Application.id))
            .limit(3)
        ).all()
        for case_id, workflow, state, decided in rows:
            paying = next(
                s.name for s in portal.workflows[workflow].states if s.issues_letter == "disbursement"
            )
            session.add(
                Transition(
                    application_id=case_id,
                    from_state=state,
                    to_state=paying,
                    event="disburse",
                    at=decided + dt.timedelta(days=1),
                )
            )
    assert rows
    return supervisor


def _amount(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_money_figure_s_cases_show_the_money_it_sums(
    portal_app: FastAPI, some_paid: str, lang: str
) -> None:
    """From a ¥ cell of the money-by-district figure, the cases listed carry the amounts it sums: the
    granted amount of each (and the disbursed one behind the disbursed column), totalled as the cell."""
    client = client_of(portal_app)
    login(client, some_paid)
    client.get(f"/lang/{lang}")
    page = client.get(f"/supervision?{PERIOD}").text
    cells = []
    for name in ("money_by_district", "money_by_month"):
        start = page.index(f'id="figure-{name}"')
        figure = page[start : page.index("</table>", start)]
        cells += re.findall(r'<a href="(/supervision/cases\?[^"]*)">([^<]+)</a>', figure)
    money_cells = [
        (markup.unescape(href), text) for href, text in cells if ("¥" if lang == "zh" else "CNY") in text
    ]
    assert any("set=paid" in href for href, _ in money_cells), money_cells
    granted, disbursed = {"zh": ("核定金额", "已拨付金额"), "en": ("Granted amount", "Disbursed")}[lang]
    for href, text in money_cells:
        listed = client.get(href).text
        headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', listed)
        paid = "outcome=paid" in href or "set=paid" in href
        assert headers[-2:] == [granted, disbursed] if paid else headers[-1] == granted, (href, headers)
        totals = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", listed))
        assert totals[{"zh": "核定金额合计", "en": "Granted in all"}[lang]] == text, href
        if paid:
            assert totals[{"zh": "已拨付金额合计", "en": "Disbursed in all"}[lang]] == text, href
        amounts = re.findall(rf'<td data-label="{granted}" class="num">([^<]+)</td>', listed)
        assert amounts and all(a.startswith("¥" if lang == "zh" else "CNY ") for a in amounts), href
        if 'rel="next"' not in listed:  # the whole set on one page: its rows add up to the cell
            assert sum(_amount(a) for a in amounts) == _amount(text), href


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_unit_is_one_row_under_one_name(portal_app: FastAPI, supervisor: str, lang: str) -> None:
    """A district's stages are its bureau's where the pack names one (pack.yaml jurisdictions
    `units`), so the bureau that also leads measures is one row, named as the bureau, never the
    district; every row's late count still links to cases."""
    portal = portal_app.state.portal
    client = client_of(portal_app)
    login(client, supervisor)
    client.get(f"/lang/{lang}")
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/supervision.csv?figure=sla_by_unit&{PERIOD}").text.lstrip("\ufeff"))
        )
    )[1:]
    names = [row[0] for row in rows]
    assert len(names) == len(set(names)), names
    jurisdictions = portal.city.jurisdictions
    bureaus = {jurisdictions.units[d].get(lang) for d in jurisdictions.units}
    assert bureaus & set(names)  # the generated year has cases at district stages of such districts
    for district in jurisdictions.units:
        assert jurisdictions.label(district, lang) not in names, district
    # A bureau that leads measures too (rules/units.yaml names it alike) has its stages in the row.
    leading = {names_["zh"] for names_ in portal.pack.units.values()}
    assert any(jurisdictions.units[d].get("zh") in leading for d in jurisdictions.units)


@pytest.fixture(scope="module")
def moneyless_approved(portal_app: FastAPI, supervisor: str) -> str:
    """An undecided case made one of a measure without a money benefit, and approved granting
    nothing, as such a measure's approvals are (the generated year grants every measure money)."""
    portal = portal_app.state.portal
    measure = next(
        m
        for m in portal.pack.measure_ids()
        if not any(spec.type == "money" for rule in portal.pack.versions(m) for spec in rule.benefit.values())
    )
    with portal.transaction() as session:
        case = session.exec(
            select(Application)
            .where(col(Application.id).not_in(select(Decision.application_id)))
            .order_by(col(Application.id))
        ).first()
        assert case is not None and case.id is not None
        case.measure_id = measure
        session.add(case)
        session.add(
            Decision(
                application_id=case.id,
                outcome="approved",
                decided_at=dt.datetime(2026, 6, 1, 3, tzinfo=dt.UTC),
            )
        )
    return supervisor


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_measure_that_grants_no_money_says_so_not_zero(
    portal_app: FastAPI, moneyless_approved: str, lang: str
) -> None:
    """The money-by-measure table says 不涉及资金 / No funds involved for a measure without a money
    benefit (as its notices do), not ¥0.00; its CSV keeps the 0.00 it sums."""
    portal = portal_app.state.portal
    client = client_of(portal_app)
    login(client, moneyless_approved)
    client.get(f"/lang/{lang}")
    page = client.get(f"/supervision?{PERIOD}").text
    start = page.index('id="figure-money_by_measure"')
    figure = page[start : page.index("</table>", start)]
    rows = {
        re.sub(r"<[^>]+>", "", name): [re.sub(r"<[^>]+>", "", cell) for cell in cells]
        for name, cells in (
            (row.split("</th>", 1)[0], re.findall(r"<td[^>]*>(.*?)</td>", row))
            for row in re.findall(r'<th scope="row">(.*?)</tr>', figure, re.S)
        )
    }
    no_funds = {"zh": "不涉及资金", "en": "No funds involved"}[lang]
    moneyless = {
        measure_title(portal.pack, measure, lang)
        for measure in portal.pack.measure_ids()
        if not any(
            spec.type == "money" for rule in portal.pack.versions(measure) for spec in rule.benefit.values()
        )
    }
    sheet = list(
        csv.reader(
            io.StringIO(
                client.get(f"/supervision.csv?figure=money_by_measure&{PERIOD}").text.lstrip("\ufeff")
            )
        )
    )
    # (The generated year grants some money under such measures too; those rows show it.)
    none_granted = {row[0] for row in sheet[1:] if row[0] in moneyless and row[2:] == ["0.00"] * 3}
    assert none_granted, (list(rows), moneyless)
    for name, cells in rows.items():
        if name in none_granted:
            assert cells[1:] == [no_funds] * 3, (name, cells)
        else:
            assert no_funds not in cells, (name, cells)
    # Its cases say so too, where a money measure's case without an amount reads "—".
    granted = {"zh": "核定金额", "en": "Granted amount"}[lang]
    for row in re.findall(r'<th scope="row">(.*?)</tr>', figure, re.S):
        if re.sub(r"<[^>]+>", "", row.split("</th>", 1)[0]) in none_granted:
            href = re.search(r'<a href="(/supervision/cases\?[^"]*)">', row)
            assert href is not None
            listed = client.get(markup.unescape(href.group(1))).text
            assert f'<td data-label="{granted}" class="num">{no_funds}</td>' in listed


SELF_CHECK_SERIES = {"zh": "符合条件的企业", "en": "Eligible firms"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_chart_says_which_column_it_draws(portal_app: FastAPI, supervisor: str, lang: str) -> None:
    """A chart of one series has its legend too: the self-check figure's bars are its eligible
    firms, not its checks, and the chart says so with the table's header."""
    client = client_of(portal_app)
    login(client, supervisor)
    client.get(f"/lang/{lang}")
    html = client.get(f"/supervision?{PERIOD}").text
    svgs = re.findall(r'id="figure-([a-z_]+)".*?<svg(.*?)</svg>', html, re.S)
    assert len(svgs) > 10
    for figure, svg in svgs:
        headers = re.findall(r'<th scope="col">([^<]+)</th>', html.split(f'id="figure-{figure}"')[1])
        legend = re.findall(r'<text class="chart-legend"[^>]*>([^<]+)</text>', svg)
        assert legend and set(legend) <= set(headers), (figure, legend)
    start = html.index('id="figure-funnel_self_check"')
    svg = html[html.index("<svg", start) : html.index("</svg>", start)]
    assert re.findall(r'<text class="chart-legend"[^>]*>([^<]+)</text>', svg) == [SELF_CHECK_SERIES[lang]]
