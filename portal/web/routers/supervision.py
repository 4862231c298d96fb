"""监管评估: `/supervision`, its per-figure CSV, `/supervision/cases` (the cases behind a figure)
and `/supervision/bank-records` (the 一链一行 records behind a bank figure).

Supervisors (city-wide or one district) and the admin only; everything is read-only, so there
is no form to protect with CSRF. The period comes from the query string (`from`, `to`,
YYYY-MM-DD), the current year to today by default; a bad date is a field error on the page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from portal.services.supervision import (
    CASE_LIST_LIMIT,
    default_period,
    granted_total,
    list_cases,
    read_dashboard,
    scores_total,
)
from portal.services.supervision_banks import (
    BANK_KINDS,
    CALLS,
    RECORD_LIST_LIMIT,
    BankChoice,
    list_bank_records,
)
from portal.services.supervision_sets import CASE_SETS, OUTCOMES, Selection, district_scope
from portal.services.supervision_sql import period_of
from portal.web.downloads import attachment_disposition
from portal.web.i18n import Translator, request_lang
from portal.web.params import MAX_DB_INT
from portal.web.session_auth import SupervisorUser, portal_of
from portal.web.spreadsheets import CSV_TYPE, Cell, csv_bytes
from portal.web.supervision_view import Board, Figure, Labels, drill_url
from portal.web.templating import render
from portal.web.uploads import name_part
from portal.workflows import Actor

router = APIRouter(include_in_schema=False)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DRILL_FILTERS = ("measure", "track", "district", "unit", "workflow", "state", "month")


class PeriodChoice:
    """`from` and `to` from the query string, with a field error per unreadable one."""

    def __init__(
        self,
        request: Request,
        date_from: Annotated[str, Query(alias="from", max_length=20)] = "",
        date_to: Annotated[str, Query(alias="to", max_length=20)] = "",
    ) -> None:
        first, last = default_period(portal_of(request))
        t = Translator(request_lang(request))
        self.values = {"from": date_from, "to": date_to}
        self.errors: dict[str, str] = {}
        self.start = self._day("from", date_from, first, t)
        self.end = self._day("to", date_to, last, t)
        if not self.errors and self.start > self.end:
            self.errors["to"] = t("supervision.error.order")
        if self.errors:
            self.start, self.end = first, last

    def _day(self, name: str, text: str, default: dt.date, t: Translator) -> dt.date:
        if not text:
            return default
        try:
            if _DAY.match(text):
                return dt.date.fromisoformat(text)
        except ValueError:
            pass
        self.errors[name] = t("supervision.error.date")
        return default

    def query(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


Chosen = Annotated[PeriodChoice, Depends()]


def _board(request: Request, actor: Actor, chosen: PeriodChoice) -> tuple[Board, Translator]:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    board = read_dashboard(portal, actor, chosen.start, chosen.end)
    return Board(portal, t, board, chosen.query()), t


@router.get("/supervision", response_class=HTMLResponse)
def dashboard(request: Request, actor: SupervisorUser, chosen: Chosen) -> HTMLResponse:
    board, t = _board(request, actor, chosen)
    scope = district_scope(actor)
    context = {
        "actor": actor,
        "sections": board.all(),
        "chosen": chosen,
        "scope": board.names.district(scope) if scope else t("supervision.city_wide"),
        "scope_is_district": scope is not None,
        "export_query": chosen.query(),
    }
    return render(request, "portal/supervision.html", context, status_code=422 if chosen.errors else 200)


@router.get("/supervision.csv")
def dashboard_csv(
    request: Request,
    actor: SupervisorUser,
    chosen: Chosen,
    figure: Annotated[str, Query(max_length=40)],
) -> Response:
    """One figure's table as CSV: the page's headers and labels, exact amounts and shares."""
    board, _ = _board(request, actor, chosen)
    found = next((f for _, figures in board.all() for f in figures if f.id == figure), None)
    if found is None:
        raise HTTPException(status_code=404, detail="No such figure.")
    name, fallback = _file_names(board.names, found, chosen, district_scope(actor))
    return Response(
        csv_bytes(_lines(found)),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": attachment_disposition(name, fallback)},
    )


def _file_names(names: Labels, figure: Figure, chosen: PeriodChoice, scope: str | None) -> tuple[str, str]:
    """The file's name in the reader's language and its English for the ASCII fallback: the
    figure's title, and for a district supervisor the district (the pack's label), so files of
    two figures or two districts saved side by side are not mistaken for each other."""
    dates = f"{chosen.start.isoformat()}-{chosen.end.isoformat()}"
    english = Labels(names.portal, Translator("en"))

    def named(labels: Labels, title: str) -> str:
        words = [labels.district(scope), title] if scope else [title]
        return "-".join(["supervision", *(name_part(w) for w in words), dates]) + ".csv"

    return named(names, figure.title), named(english, english.figure_title(figure.id))


def _lines(figure: Figure) -> list[list[Cell]]:
    """The page's headers with their units, then each row's values: its label (a month as
    YYYY-MM), exact amounts, shares as fractions, working days as whole numbers."""
    lines: list[list[Cell]] = [list(figure.csv_headers)]
    for row in figure.rows:
        lines.append([cell.value if cell.value is not None else "" for cell in row])
    return lines


@router.get("/supervision/cases", response_class=HTMLResponse)
def cases(
    request: Request,
    actor: SupervisorUser,
    chosen: Chosen,
    case_set: Annotated[str, Query(alias="set", max_length=20)] = "received",
    outcome: Annotated[str, Query(max_length=20)] = "",
    measure: Annotated[str, Query(max_length=100)] = "",
    track: Annotated[str, Query(max_length=40)] = "",
    district: Annotated[str, Query(max_length=40)] = "",
    unit: Annotated[str, Query(max_length=40)] = "",
    workflow: Annotated[str, Query(max_length=60)] = "",
    state: Annotated[str, Query(max_length=60)] = "",
    month: Annotated[str, Query(max_length=7)] = "",
    after: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
) -> HTMLResponse:
    if case_set not in CASE_SETS or outcome not in OUTCOMES:
        raise HTTPException(status_code=404, detail="No such figure.")
    portal = portal_of(request)
    t = Translator(request_lang(request))
    scope = district_scope(actor)
    if scope is not None and district and district != scope:
        raise HTTPException(status_code=403, detail="Outside your district.")
    period = period_of(chosen.start, chosen.end, portal.calendar.zone)
    selection = Selection(
        case_set,  # type: ignore[arg-type]
        period,
        scope,
        outcome,  # type: ignore[arg-type]
        measure=measure,
        track=track,
        district=district,
        unit=unit,
        workflow=workflow,
        state=state,
        month=month,
    )
    lines, total, firms = list_cases(portal, actor, selection, after)
    granted = granted_total(portal, actor, selection)
    # The expert figure counts scores, its page lists the cases scored: it says both numbers.
    scores = scores_total(portal, actor, selection)
    # A money figure's cases show what it sums: the granted amount, and once paid, the disbursed.
    paid_column = granted is not None and (case_set == "paid" or outcome == "paid")
    names = Labels(portal, t)
    filters = {"set": case_set, "outcome": outcome, **{k: getattr(selection, k) for k in DRILL_FILTERS}}
    described = _described(names, t, filters)
    rows = [
        {
            "id": line.id,
            "enterprise": line.enterprise,
            "uscc": line.uscc,
            "measure": names.measure(line.measure_id),
            "district": names.district(line.district),
            "stage": names.stage(line.workflow, line.state),
            "received": portal.clock.local_date(line.received),
            "granted": t.money(line.granted)
            if line.granted is not None
            else ("—" if names.grants_money(line.measure_id) else t("supervision.no_funds")),
        }
        for line in lines
    ]
    more = (
        drill_url(chosen.query())(**{k: v for k, v in filters.items() if v}, after=str(lines[-1].id))
        if len(lines) == CASE_LIST_LIMIT
        else None
    )
    context = {
        "actor": actor,
        "chosen": chosen,
        "rows": rows,
        "total": total,
        "firms": firms,
        "scores": scores,
        "described": described,
        "more": more,
        "back": "/supervision?" + urlencode(chosen.query()),
        "case_link": actor.role == "admin",
        "money": granted is not None,
        "paid_column": paid_column,
        "granted_total": t.money(granted) if granted is not None else None,
    }
    return render(request, "portal/supervision_cases.html", context)


def _described(names: Labels, t: Translator, filters: dict[str, str]) -> list[tuple[str, str]]:
    """The figure's filters in words, as (label, value) pairs for the page's heading."""
    out = [(t("supervision.drill.set"), t(f"supervision.set.{filters['set']}"))]
    if filters["outcome"]:
        out.append((t("supervision.drill.outcome"), t(f"supervision.th.{filters['outcome']}")))
    words: dict[str, Callable[[str], str]] = {
        "measure": names.measure,
        "track": names.track,
        "district": names.district,
        "unit": names.unit,
        "month": str,
    }
    for key, say in words.items():
        if filters.get(key):
            out.append((t(f"supervision.th.{key}"), say(filters[key])))
    if filters.get("state"):
        out.append((t("supervision.th.stage"), names.stage(filters.get("workflow", ""), filters["state"])))
    return out


@router.get("/supervision/bank-records", response_class=HTMLResponse)
def bank_records(
    request: Request,
    actor: SupervisorUser,
    chosen: Chosen,
    kind: Annotated[str, Query(max_length=20)] = "queries",
    bank: Annotated[str | None, Query(max_length=200)] = None,
    product: Annotated[str | None, Query(max_length=100)] = None,
    state: Annotated[str | None, Query(max_length=60)] = None,
    call: Annotated[str | None, Query(max_length=40)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
) -> HTMLResponse:
    """The 一链一行 records behind one bank figure: API calls (queries), consents or loans."""
    if kind not in BANK_KINDS or (call is not None and (kind != "queries" or call not in CALLS)):
        raise HTTPException(status_code=404, detail="No such figure.")
    portal = portal_of(request)
    t = Translator(request_lang(request))
    period = period_of(chosen.start, chosen.end, portal.calendar.zone)
    selection = BankChoice(kind, period, district_scope(actor), bank, product, state, call)  # type: ignore[arg-type]
    lines, total = list_bank_records(portal, actor, selection, after)
    names = Labels(portal, t)
    flow = portal.city.banking.loan_workflow

    def state_of(code: str | None) -> str:
        if code is None:
            return ""
        return names.outcome(code) if kind == "queries" else names.stage(flow, code)

    rows = [
        {
            "at": portal.clock.in_words(line.at, t.lang),
            "bank": names.bank(line.bank),
            "products": t("supervision.separator").join(names.product(p) for p in line.products),
            # A USCC no enterprise here has is a firm off the portal; a row without one (a request
            # refused before its body was read, or unreadable) names no enterprise at all.
            "enterprise": line.enterprise
            or t("supervision.unknown_enterprise" if line.uscc else "supervision.no_uscc"),
            "uscc": line.uscc or "",
            "state": state_of(line.state),
            "amount": t.money(line.amount) if line.amount is not None else "",
        }
        for line in lines
    ]
    described = [(t("supervision.drill.set"), t(f"supervision.bank_kind.{kind}"))]
    for key, value, say in (
        ("bank", bank, names.bank),
        ("product", product, lambda v: names.product(v) if v else t("supervision.no_product")),
        ("outcome" if kind == "queries" else "stage", state, state_of),
    ):
        if value is not None:
            described.append((t(f"supervision.th.{key}"), say(value)))
    if call is not None:
        described.append((t("supervision.th.call"), t(f"supervision.call.{call}")))
    filters = {"kind": kind, "bank": bank, "product": product, "state": state, "call": call}
    more = (
        "/supervision/bank-records?"
        + urlencode(
            {**chosen.query(), **{k: v for k, v in filters.items() if v is not None}, "after": lines[-1].id}
        )
        if len(lines) == RECORD_LIST_LIMIT
        else None
    )
    context = {
        "actor": actor,
        "chosen": chosen,
        "kind": kind,
        "rows": rows,
        "total": total,
        "described": described,
        "more": more,
        "back": "/supervision?" + urlencode(chosen.query()),
    }
    return render(request, "portal/supervision_bank_records.html", context)
