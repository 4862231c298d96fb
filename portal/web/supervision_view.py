"""The supervision dashboard as tables: labels in the reader's language, drill-down links, charts.

Each figure is one `Figure`: a table whose cells hold the exact values (Decimal yuan, counts,
shares), the text a reader sees, and the link to the cases behind the value. The page, the
SVG chart beside each table and the CSV export are all drawn from the same `Figure`, so they
cannot disagree. Labels come from the pack (measures, tracks, districts, units, stages) and the
message catalogue; no code reaches the reader.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from portal.services.banks import bank_name, english_names
from portal.services.context import Portal
from portal.services.supervision import Dashboard, Spread, merge
from portal.services.supervision_banks import CALLS, refused
from portal.services.supervision_sets import NO_TRACK
from portal.web.case_views import label, measure_title
from portal.web.i18n import Translator

Value = int | Decimal | str | None
SHARE = Decimal("0.001")
CENT = Decimal("0.01")
# SVG user units: a row is its label line and one bar per series; the bar's full length; a
# legend line per series above the chart (one too: it says which column the bars draw); the
# drawing's width, the gap before a bar's value and the value's font size (portal.css .chart-value).
LABEL_LINE, BAR_STEP, ROW_GAP, BAR_WIDTH, LEGEND_LINE = 21, 20, 3, 300, 20
CHART_WIDTH, VALUE_GAP, VALUE_FONT = 400, 6, 12
# A character's width at most, in ems: a wide (CJK) one is square, any other narrower.
WIDE_EM, NARROW_EM = Decimal(1), Decimal("0.62")
MEDIAN, P90 = Decimal("0.5"), Decimal("0.9")


@dataclass(frozen=True)
class Cell:
    """One table cell: the exact value (for CSV and the chart), its text and its drill-down."""

    value: Value
    text: str
    href: str | None = None


@dataclass
class Figure:
    """One table of the dashboard; `chart` names the columns drawn as bars, one series each (none:
    no chart)."""

    id: str
    title: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    chart: tuple[int, ...] = (1,)
    note: str | None = None
    # The CSV's headers: the page's, with the unit where a cell's text carries it on the page
    # (87.5%, 3 个工作日) but the exported value does not (0.875, 3).
    csv_headers: list[str] = field(default_factory=list)

    def drawing(self) -> Drawing | None:
        """The charted columns as horizontal bars, all scaled to the largest value, a row's bars
        under its label, and a legend of their headers above (None: no chart). The full length is
        shortened where a long bar's value (CNY 8,000,000.00) would run past the drawing's edge."""
        charted = [
            (row[0].text, [row[c] for c in self.chart])
            for row in self.rows
            if any(isinstance(row[c].value, int | Decimal) for c in self.chart)
        ]
        if not charted:
            return None
        top = max(_number(cell) for _, cells in charted for cell in cells)
        fits = [
            (CHART_WIDTH - VALUE_GAP - _text_width(cell.text)) * top / _number(cell)
            for _, cells in charted
            for cell in cells
            if _number(cell) > 0
        ]
        full = max(Decimal(0), min([Decimal(BAR_WIDTH), *fits]))
        legend = [self.headers[c] for c in self.chart]
        step = LABEL_LINE + BAR_STEP * len(self.chart) + ROW_GAP
        rows = []
        for i, (name, cells) in enumerate(charted):
            y = LEGEND_LINE * len(legend) + step * i
            bars = [
                Bar(
                    cell.text,
                    y + LABEL_LINE + BAR_STEP * series,
                    int(full * _number(cell) / top) if top > 0 else 0,
                    series,
                )
                for series, cell in enumerate(cells)
            ]
            rows.append(ChartRow(name, y, bars))
        return Drawing(legend, rows, LEGEND_LINE * len(legend) + step * len(rows) + 1, CHART_WIDTH)


def _number(cell: Cell) -> Decimal:
    """A cell's value as a bar's length; a cell with no number ("—") draws none."""
    return Decimal(cell.value) if isinstance(cell.value, int | Decimal) else Decimal(0)


def _text_width(text: str) -> Decimal:
    """A bar value's width in user units at most, as the browser may set it (no font to measure)."""
    return VALUE_FONT * sum(
        (WIDE_EM if unicodedata.east_asian_width(ch) in "WF" else NARROW_EM for ch in text), Decimal(0)
    )


@dataclass(frozen=True)
class Bar:
    """One bar of a chart, in the SVG's user units: its top, its length, its value at its end."""

    text: str
    y: int
    width: int
    series: int


@dataclass(frozen=True)
class ChartRow:
    """One row of the table as the chart draws it: its label above its bars."""

    label: str
    y: int
    bars: list[Bar]


@dataclass(frozen=True)
class Drawing:
    """What the SVG beside a table draws: the legend's entries (series in order), rows, height
    and width."""

    legend: list[str]
    rows: list[ChartRow]
    height: int
    width: int


class Labels:
    """Codes to the reader's words, from the pack and the catalogue."""

    def __init__(self, portal: Portal, t: Translator) -> None:
        self.portal, self.t, self.lang = portal, t, t.lang

    def measure(self, code: str) -> str:
        return measure_title(self.portal.pack, code, self.lang)

    def bank(self, name: str | None) -> str:
        """A bank as the figures group its records, by its Chinese name (none: a query made with
        an unknown key), in the reader's words."""
        if not name:
            return self.t("supervision.unknown_bank")
        return bank_name(name, self._english_bank_names.get(name), self.lang)

    @cached_property
    def _english_bank_names(self) -> dict[str, str]:
        return english_names(self.portal) if self.lang == "en" else {}

    def track(self, code: str | None) -> str:
        if not code or code == NO_TRACK:
            return self.t("supervision.no_track")
        return self.portal.city.tracks.label(code, self.lang)

    def track_name(self, *, mid_sentence: bool = False) -> str:
        """What the pack calls its tracks (pack.yaml `tracks.label`), else the generic word; in
        English lower-cased inside a sentence unless it starts with an acronym ("AI track")."""
        name = self.portal.city.tracks.called(self.lang, self.t("supervision.th.track"))
        if mid_sentence and self.lang == "en" and name[1:2].islower():
            return name[:1].lower() + name[1:]
        return name

    def district(self, code: str | None) -> str:
        return self.portal.city.jurisdictions.label(code, self.lang) if code else ""

    def figure_title(self, key: str) -> str:
        """A figure's title, which its CSV file is named after too."""
        return self.t(f"supervision.fig.{key}", track=self.track_name(mid_sentence=True))

    def unit(self, code: str) -> str:
        names = self.portal.pack.units.get(code)
        return names.get(self.lang, code) if names else code

    def grants_money(self, measure: str) -> bool:
        """Whether any version of the measure has a money benefit: one without grants no money, and
        its cases' notices say 不涉及资金 (their granted amount is none)."""
        return any(
            spec.type == "money"
            for rule in self.portal.pack.versions(measure)
            for spec in rule.benefit.values()
        )

    def district_unit(self, code: str) -> str:
        """The unit that handles the district's stages: its bureau where the pack names one, else
        the district."""
        return self.portal.city.jurisdictions.unit(code, self.lang)

    def bureau_of(self, district: str) -> str | None:
        """The code of the unit (rules/units.yaml) that is the district's bureau: the one whose
        names are those the pack gives the district's handling unit; None when there is none."""
        bureau = self.portal.city.jurisdictions.units.get(district)
        if bureau is None:
            return None
        return next(
            (
                code
                for code, names in sorted(self.portal.pack.units.items())
                if names.get("zh") == bureau.get("zh")
            ),
            None,
        )

    def stage(self, workflow: str, state: str) -> str:
        """The stage's label in its workflow (any workflow that has it when none is named)."""
        flows = (
            [self.portal.workflows[workflow]]
            if workflow in self.portal.workflows
            else self.portal.workflows.values()
        )
        for flow in flows:
            if state in {s.name for s in flow.states}:
                return label(flow.state(state).label, self.lang)
        return self.t("supervision.unknown_stage")

    def stage_of(self, workflow: str, state: str, workflows: set[str]) -> str:
        """The stage's label, followed by its workflow's title when the figure spans workflows that
        share stage names (the municipal and a short-track workflow both have 区级初审)."""
        text = self.stage(workflow, state)
        flow = self.portal.workflows.get(workflow)
        if len(workflows) < 2 or flow is None:
            return text
        return f"{text} · {label(flow.title, self.lang)}"

    def product(self, code: str | None) -> str:
        measure = self.portal.city.banking.products.get(code or "")
        return self.measure(measure) if measure else (code or "")

    def outcome(self, code: str) -> str:
        """A bank call's outcome beside its kind of call: the enterprise's access log names the
        call in a loan's outcome (贷款备案), which the figures say apart (supervision.outcome.<code>)."""
        return self.t.label_or(
            f"supervision.outcome.{code}",
            self.t.label_or(f"access_log.outcome.{code}", self.t("access_log.outcome.other")),
        )


class Board:
    """Builds every figure of one dashboard reading; `link` makes a drill-down URL."""

    def __init__(self, portal: Portal, t: Translator, board: Dashboard, period: dict[str, str]) -> None:
        self.board, self.t, self.names = board, t, Labels(portal, t)
        self.link, self.bank_link = drill_url(period), bank_records_url(period)
        self.sla = {
            (name, state.name): state.sla_working_days
            for name, flow in portal.workflows.items()
            for state in flow.states
            if state.sla_working_days is not None
        }
        self.responsible = {
            (name, state.name): state.responsible
            for name, flow in portal.workflows.items()
            for state in flow.states
        }

    # -- cells ---------------------------------------------------------------------------

    def count(self, n: int, **drill: str) -> Cell:
        return Cell(n, self.t.number(n), self.link(**drill) if drill and n else None)

    def money(self, amount: Decimal, **drill: str) -> Cell:
        # Yuan to the fen in the CSV too: a sum over no rows is 0.00, as every other amount.
        return Cell(
            amount.quantize(CENT), self.t.money(amount), self.link(**drill) if drill and amount else None
        )

    def records(self, n: int, kind: str, **drill: str | None) -> Cell:
        """A count of bank records, linked to the records behind it."""
        return Cell(n, self.t.number(n), self.bank_link(kind, **drill) if n else None)

    def share(self, part: int, whole: int) -> Cell:
        if whole == 0:
            return Cell(None, "—")
        value = (Decimal(part) / Decimal(whole)).quantize(SHARE)
        return Cell(value, self.t.percent(value))

    def days(self, value: int | None) -> Cell:
        if value is None:
            return Cell(None, "—")
        return Cell(value, self.t("supervision.day" if value == 1 else "supervision.days", n=value))

    @staticmethod
    def text(value: str) -> Cell:
        return Cell(value, value)

    def figure(
        self, key: str, headers: Iterable[str], chart: tuple[int, ...] = (1,), note: str | None = None
    ) -> Figure:
        names = list(headers)
        shown = [self.names.track_name() if h == "track" else self.t(f"supervision.th.{h}") for h in names]
        return Figure(
            key,
            self.names.figure_title(key),
            shown,
            chart=chart,
            note=self.t(note) if note else None,
            csv_headers=[
                self.t.label_or(f"supervision.csv.{h}", text) for h, text in zip(names, shown, strict=True)
            ],
        )

    # -- sections --------------------------------------------------------------------------

    def all(self) -> list[tuple[str, list[Figure]]]:
        return [
            ("applications", self.applications()),
            ("funnels", self.funnels()),
            ("sla", self.sla_figures()),
            ("money", self.money_figures()),
            ("banks", self.bank_figures()),
            ("experts", self.expert_figures()),
        ]

    def applications(self) -> list[Figure]:
        totals: dict[str, dict[Any, int]] = {"measure": {}, "track": {}, "district": {}, "stage": {}}
        for (measure, track, district, workflow, state), n in self.board.received.items():
            for kind, key in (
                ("measure", measure),
                ("track", track),
                ("district", district),
                ("stage", (workflow, state)),
            ):
                totals[kind][key] = totals[kind].get(key, 0) + n
        figures = []
        flows = {workflow for (_, _, _, workflow, _) in self.board.received}
        name_of: dict[str, Callable[[Any], str]] = {
            "measure": self.names.measure,
            "track": self.names.track,
            "district": self.names.district,
            "stage": lambda key: self.names.stage_of(key[0], key[1], flows),
        }
        for kind, counts in totals.items():
            figure = self.figure(f"received_by_{kind}", (kind, "cases"))
            for key, n in sorted(counts.items(), key=lambda item: (-item[1], name_of[kind](item[0]))):
                if kind == "stage":
                    drill = {"workflow": key[0], "state": key[1]}
                elif kind == "track" and key is None:
                    drill = {"track": NO_TRACK}
                else:
                    drill = {kind: key}
                figure.rows.append([self.text(name_of[kind](key)), self.count(n, set="received", **drill)])
            figures.append(figure)
        return figures

    def funnels(self) -> list[Figure]:
        steps = ("applied", "approved", "paid")
        screening = self.figure(
            "funnel_screening", ("measure", "notified", *steps), note="supervision.note.screening"
        )
        measures = sorted(
            set(self.board.notified) | {m for (c, m) in self.board.cohorts if c == "notified"},
            key=self.names.measure,
        )
        for measure in measures:
            _, applied, _, approved, disbursed = self.board.cohorts.get(("notified", measure), [0] * 5)
            screening.rows.append(
                [
                    self.text(self.names.measure(measure)),
                    self.count(self.board.notified.get(measure, 0), set="notified", measure=measure),
                    *[
                        self.count(n, set="notified", outcome=step, measure=measure)
                        for step, n in zip(steps, (applied, approved, disbursed), strict=True)
                    ],
                ]
            )
        reach = self.figure("funnel_reach", ("measure", "offered", "confirmed", "approved", "paid"))
        for (cohort, measure), (cases, _, confirmed, approved, disbursed) in sorted(
            self.board.cohorts.items()
        ):
            if cohort != "offered":
                continue
            reach.rows.append(
                [
                    self.text(self.names.measure(measure)),
                    self.count(cases, set="offered", measure=measure),
                    self.count(confirmed, set="offered", outcome="confirmed", measure=measure),
                    self.count(approved, set="offered", outcome="approved", measure=measure),
                    self.count(disbursed, set="offered", outcome="paid", measure=measure),
                ]
            )
        totals = self.figure("funnel_totals", ("step", "enterprises"))
        for step, column in (
            (("notified", 1), ("applied", 2), ("approved", 3), ("paid", 4)) if screening.rows else ()
        ):
            total = sum(int(row[column].value or 0) for row in screening.rows)
            drill = {"set": "notified", **({"outcome": step} if step != "notified" else {})}
            totals.rows.append([self.text(self.t(f"supervision.th.{step}")), self.count(total, **drill)])
        self_check = self.figure(
            "funnel_self_check",
            ("measure", "checks", "eligible_checks", "eligible_firms", "started", *steps),
            chart=(3,),
            note="supervision.note.self_check_district"
            if self.board.district_scope
            else "supervision.note.self_check",
        )
        for measure in sorted(
            set(self.board.self_checks) | {m for (c, m) in self.board.cohorts if c == "self_checked"},
            key=self.names.measure,
        ):
            checks, eligible, firms = self.board.self_checks.get(measure, [0, 0, 0])
            started, applied, _, approved, disbursed = self.board.cohorts.get(
                ("self_checked", measure), [0] * 5
            )
            self_check.rows.append(
                [
                    self.text(self.names.measure(measure)),
                    self.count(checks),
                    self.count(eligible),
                    self.count(firms),
                    self.count(started, set="self_checked", measure=measure),
                    *[
                        self.count(n, set="self_checked", outcome=step, measure=measure)
                        for step, n in zip(steps, (applied, approved, disbursed), strict=True)
                    ],
                ]
            )
        runs = self.figure(
            "funnel_runs",
            ("measure", "screened_rows", "eligible_rows"),
            chart=(2,),
            note="supervision.note.runs_district" if self.board.district_scope else "supervision.note.runs",
        )
        for measure, (screened, eligible) in sorted(
            self.board.screened.items(), key=lambda i: self.names.measure(i[0])
        ):
            runs.rows.append(
                [self.text(self.names.measure(measure)), self.count(screened), self.count(eligible)]
            )
        return [runs, totals, screening, reach, self_check]

    def sla_figures(self) -> list[Figure]:
        by_stage: dict[tuple[str, str], list[dict[int, int]]] = {}
        by_unit: dict[tuple[str, str], list[tuple[dict[int, int], int]]] = {}
        for (workflow, state, district, unit), counts in self.board.visits.items():
            by_stage.setdefault((workflow, state), []).append(counts)
            kind, code = (
                ("district", district)
                if self.responsible[(workflow, state)] == "district"
                else ("unit", unit)
            )
            by_unit.setdefault((kind, code), []).append((counts, self.sla[(workflow, state)]))
        stages = self.figure(
            "sla_by_stage",
            ("stage", "finished", "on_time", "on_time_share", "median", "p90", "overdue", "escalations"),
            chart=(3,),
            note="supervision.note.sla",
        )
        keys = set(by_stage) | set(self.board.overdue) | set(self.board.escalations)
        for workflow, state in sorted(keys, key=lambda k: self._stage_order(*k)):
            spread = merge(by_stage.get((workflow, state), []))
            limit = self.sla.get((workflow, state))
            on_time = spread.within(limit) if limit is not None else 0
            stage = {"workflow": workflow, "state": state}
            stages.rows.append(
                [
                    self.text(self.names.stage_of(workflow, state, {w for w, _ in keys})),
                    self.count(spread.total, set="visits", **stage),
                    self.count(on_time),
                    self.share(on_time, spread.total),
                    self.days(spread.percentile(MEDIAN)),
                    self.days(spread.percentile(P90)),
                    self.count(self.board.overdue.get((workflow, state), 0), set="overdue", **stage),
                    self.count(self.board.escalations.get((workflow, state), 0), set="escalated", **stage),
                ]
            )
        # A district's stages are handled by its bureau where the pack names one (jurisdictions
        # `units`); a bureau that is also a measure's lead unit is one row, under its one name.
        merged: dict[tuple[str, str], list[tuple[dict[int, int], int]]] = {}
        drills: dict[tuple[str, str], dict[str, str]] = {}
        for (kind, code), spreads in by_unit.items():
            bureau = self.names.bureau_of(code) if kind == "district" else None
            key = ("unit", bureau) if bureau is not None else (kind, code)
            merged.setdefault(key, []).extend(spreads)
            # The late cases of a district's stages are the district's; those of a lead unit's, the
            # unit's. A bureau doing both lists its district's (its own measures' cases among them).
            if kind == "district" or key not in drills:
                drills[key] = {"district": code} if kind == "district" else {"unit": code}
        units = self.figure("sla_by_unit", ("unit", "finished", "on_time_share", "late"), chart=(2,))
        for (kind, code), spreads in sorted(merged.items(), key=lambda item: self._unit_name(*item[0])):
            total = sum(Spread(c).total for c, _ in spreads)
            on_time = sum(Spread(c).within(limit) for c, limit in spreads)
            drill = drills[(kind, code)]
            units.rows.append(
                [
                    self.text(self._unit_name(kind, code)),
                    self.count(total),
                    self.share(on_time, total),
                    self.count(total - on_time, set="late", **drill),
                ]
            )
        return [stages, units]

    def _stage_order(self, workflow: str, state: str) -> tuple[str, int]:
        names = [s for (w, s) in self.responsible if w == workflow]
        return workflow, names.index(state) if state in names else len(names)

    def _unit_name(self, kind: str, code: str) -> str:
        return self.names.district_unit(code) if kind == "district" else self.names.unit(code)

    def money_figures(self) -> list[Figure]:
        figures = []
        for kind, index in (("measure", 0), ("district", 1)):
            totals: dict[str, list[Any]] = {}
            for key, (n, amount, paid_n, paid) in self.board.approved.items():
                mine = totals.setdefault(key[index], [0, Decimal(0), 0, Decimal(0)])
                mine[0] += n
                mine[1] += amount
                mine[2] += paid_n
                mine[3] += paid
            name = self.names.measure if kind == "measure" else self.names.district
            figure = self.figure(
                f"money_by_{kind}",
                (kind, "approved_cases", "approved_amount", "disbursed_amount", "outstanding"),
                chart=(2,),
            )
            for code, (n, amount, _, paid) in sorted(totals.items(), key=lambda item: -item[1][1]):
                drill = {kind: code}
                amounts = [
                    self.money(amount, set="approved", **drill),
                    self.money(paid, set="approved", outcome="paid", **drill),
                    self.money(amount - paid),
                ]
                if kind == "measure" and not amount and not self.names.grants_money(code):
                    # The CSV keeps its 0.00; the page says why there is no money, as the notice does.
                    amounts = [Cell(cell.value, self.t("supervision.no_funds")) for cell in amounts]
                figure.rows.append([self.text(name(code)), self.count(n, set="approved", **drill), *amounts])
            figures.append(figure)
        months: dict[str, list[Decimal]] = {}
        for (_, _, month), (_, amount, _, _) in self.board.approved.items():
            months.setdefault(month, [Decimal(0), Decimal(0)])[0] += amount
        for (_, _, month), (_, amount) in self.board.disbursed.items():
            months.setdefault(month, [Decimal(0), Decimal(0)])[1] += amount
        by_month = self.figure(
            "money_by_month", ("month", "approved_amount", "disbursed_in_month"), chart=(1, 2)
        )
        for month, (approved, paid) in sorted(months.items()):
            by_month.rows.append(
                [
                    # The CSV keeps the month as YYYY-MM, which sorts and parses; the page says it.
                    Cell(month, self.t.month(month)),
                    self.money(approved, set="approved", month=month),
                    self.money(paid, set="paid", month=month),
                ]
            )
        return [*figures, by_month]

    def bank_figures(self) -> list[Figure]:
        # Every call a bank made to the API, by kind (what its row names, or for a row written
        # before the log named calls, what its outcome tells), with the refusals: the eligibility
        # queries apart from loan registrations and status reads.
        calls = self.figure(
            "bank_calls", ("call", "calls", "refused", "refused_share"), note="supervision.note.bank_calls"
        )
        by_call: dict[str, list[int]] = {}
        for (_, _, outcome, call), n in self.board.bank_queries.items():
            mine = by_call.setdefault(call, [0, 0])
            mine[0] += n
            mine[1] += n if refused(outcome) else 0
        for call in (c for c in CALLS if c in by_call):
            n, no = by_call[call]
            calls.rows.append(
                [
                    self.text(self.t(f"supervision.call.{call}")),
                    self.records(n, "queries", call=call),
                    self.count(no),
                    self.share(no, n),
                ]
            )
        # The same calls by bank, product and outcome; the kind of call is the last column, after
        # the columns the CSV had before it (published: new columns go at the end).
        queries = self.figure(
            "bank_queries",
            ("bank", "product", "outcome", "calls", "call"),
            chart=(),
            note="supervision.note.banks",
        )
        for (bank, product, outcome, call), n in sorted(
            self.board.bank_queries.items(),
            key=lambda i: (CALLS.index(i[0][3]), str(i[0][0]), str(i[0][1]), i[0][2]),
        ):
            queries.rows.append(
                [
                    self.text(self.names.bank(bank)),
                    self.text(self.names.product(product)),
                    self.text(self.names.outcome(outcome)),
                    self.records(
                        n, "queries", bank=bank or "", product=product or "", state=outcome, call=call
                    ),
                    self.text(self.t(f"supervision.call.{call}")),
                ]
            )
        consents = self.figure("bank_consents", ("bank", "consents"))
        for bank, n in sorted(self.board.consents.items()):
            consents.rows.append([self.text(self.names.bank(bank)), self.records(n, "consents", bank=bank)])
        loans = self.figure("bank_loans", ("bank", "product", "stage", "loans", "principal"), chart=())
        flow = self.names.portal.city.banking.loan_workflow
        for (bank, product, state), (n, amount) in sorted(self.board.loans.items()):
            loans.rows.append(
                [
                    self.text(self.names.bank(bank)),
                    self.text(self.names.product(product)),
                    self.text(self.names.stage(flow, state)),
                    self.records(n, "loans", bank=bank, product=product, state=state),
                    self.money(amount),
                ]
            )
        exposure = self.figure(
            "bank_exposure", ("stage", "loans", "principal"), chart=(2,), note="supervision.note.exposure"
        )
        for state, (n, amount) in sorted(
            self.board.exposure.items(), key=lambda i: self._stage_order(flow, i[0])
        ):
            exposure.rows.append(
                [
                    self.text(self.names.stage(flow, state)),
                    self.records(n, "exposure", state=state),
                    self.money(amount),
                ]
            )
        return [calls, queries, consents, loans, exposure]

    def expert_figures(self) -> list[Figure]:
        # Time to score is per score, from the expert's assignment; the expert stage's time in
        # `sla_by_stage` is per case, from entering the stage to leaving it: the labels say which.
        experts = self.figure(
            "experts",
            ("measure", "panels", "conflicts", "scores", "score_median", "score_p90"),
            chart=(1,),
            note="supervision.note.experts",
        )
        measures = set(self.board.panels) | set(self.board.conflicts) | set(self.board.score_days)
        for measure in sorted(measures, key=self.names.measure):
            spread = Spread(self.board.score_days.get(measure, {}))
            experts.rows.append(
                [
                    self.text(self.names.measure(measure)),
                    self.count(self.board.panels.get(measure, 0), set="panel", measure=measure),
                    self.count(self.board.conflicts.get(measure, 0), set="conflict", measure=measure),
                    self.count(spread.total, set="scored", measure=measure),
                    self.days(spread.percentile(MEDIAN)),
                    self.days(spread.percentile(P90)),
                ]
            )
        objections = self.figure("objections", ("measure", "filed", "upheld", "dismissed"))
        for measure, (filed, upheld, dismissed) in sorted(
            self.board.objections.items(), key=lambda i: self.names.measure(i[0])
        ):
            objections.rows.append(
                [
                    self.text(self.names.measure(measure)),
                    self.count(filed, set="objection", measure=measure),
                    self.count(upheld, set="upheld", measure=measure),
                    self.count(dismissed, set="dismissed", measure=measure),
                ]
            )
        return [experts, objections]


def bank_records_url(base: dict[str, str]) -> Callable[..., str]:
    """A link maker for `/supervision/bank-records`: the period, the figure's kind and its row's
    values, where an empty value (kept in the URL) means the records without one."""

    def link(kind: str, **drill: str | None) -> str:
        return "/supervision/bank-records?" + urlencode(
            {**base, "kind": kind, **{k: v for k, v in drill.items() if v is not None}}
        )

    return link


def drill_url(base: dict[str, str]) -> Callable[..., str]:
    """A link maker for `/supervision/cases` that keeps the period and adds a figure's filters."""

    def link(**drill: str) -> str:
        return "/supervision/cases?" + urlencode({**base, **{k: v for k, v in drill.items() if v}})

    return link
