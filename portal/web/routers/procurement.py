"""The public procurement catalogue (/procurement), its archive, the award registers, exports and API.

Reading is public and needs no account: purchasing units search and export the catalogue, the
city's procurement platform reads `GET /api/v1/procurement/listings`. Pages, exports and the API
call the same `services.listings.search`, so they cannot disagree. The lead unit suspends,
reinstates and revokes an entry from its page; the listed enterprise starts a renewal there.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import xlsxwriter
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from portal.rules.text import Text
from portal.services import listings
from portal.services.errors import NotFound, Refused, StaleVersion
from portal.services.listings import Entry, ListingFilter, Page, Vocabulary
from portal.web.bank_api_models import ProblemBody
from portal.web.errors import Problem
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import MAX_DB_INT, FormVersion, PathId
from portal.web.security import require_csrf
from portal.web.session_auth import current_actor, optional_actor, portal_of
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
api = APIRouter(prefix="/api/v1/procurement", tags=["procurement"])

View = Literal["current", "archive"]
_STATUSES_OF: dict[str, tuple[str, ...]] = {
    "current": listings.CURRENT_STATUSES,
    "archive": listings.ARCHIVE_STATUSES,
}
_MAX_QUERY = 100
_EXPORT_ROWS = 5000
Q = Annotated[
    str | None,
    Query(
        max_length=_MAX_QUERY,
        description="Words to find in names, descriptions, "
        "specifications, reference numbers, enterprise names and USCCs",
    ),
]
Code = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_]*$")]
PageNo = Annotated[int, Query(ge=1, le=MAX_DB_INT)]


def _clean(q: str | None) -> str | None:
    """The search text without surrounding blanks (control characters never get here: input_guard)."""
    return q.strip() or None if q is not None else None


def _filter(
    view: str, q: str | None, kind: str | None, track: str | None, district: str | None
) -> ListingFilter:
    return ListingFilter(
        register_kind=listings.CATALOGUE,
        statuses=_STATUSES_OF[view],
        q=_clean(q),
        kind=kind or None,
        track=track or None,
        district=district or None,
    )


@dataclass(frozen=True)
class Row:
    """One entry as a reader sees it: every code replaced by its label in the reader's language."""

    entry: Entry
    kind: str
    track: str
    district: str
    status: str
    also_holds: list[tuple[int, str]]


def _label(labels: dict[str, Text], code: str | None, lang: str) -> str:
    if code is None:
        return ""
    found = labels.get(code)
    return found.get(lang) if found is not None else ""


def _rows(entries: list[Entry], vocab: Vocabulary, t: Translator) -> list[Row]:
    districts = vocab.districts
    return [
        Row(
            entry=e,
            kind=_label(vocab.kinds, e.listing.kind, t.lang),
            track=_label(vocab.tracks, e.listing.track, t.lang),
            district=_label(districts, e.listing.district, t.lang),
            status=t(f"procurement.status.{e.listing.status}"),
            also_holds=[(h.listing_id, f"{h.title.get(t.lang)} ({h.year})") for h in e.also_holds],
        )
        for e in entries
    ]


def _base_url(request: Request) -> str:
    return portal_of(request).public_base_url


@router.get("/procurement", response_class=HTMLResponse)
@router.get("/procurement/archive", response_class=HTMLResponse)
def catalogue_page(
    request: Request,
    q: Q = None,
    kind: Code = None,
    track: Code = None,
    district: Code = None,
    page: PageNo = 1,
) -> HTMLResponse:
    """The catalogue (listed and suspended entries) or its archive (expired and revoked)."""
    view: View = "archive" if request.url.path.endswith("/archive") else "current"
    portal = portal_of(request)
    wanted = _filter(view, q, kind, track, district)
    result = listings.search(portal, wanted, page=page)
    vocab = listings.vocabulary(portal)
    t = Translator(request_lang(request))
    chosen = {"q": wanted.q or "", "kind": kind or "", "track": track or "", "district": district or ""}
    query = urlencode({k: v for k, v in chosen.items() if v})
    return render(
        request,
        "procurement/catalogue.html",
        {
            "actor": optional_actor(request),
            "view": view,
            "page": result,
            "rows": _rows(result.entries, vocab, t),
            "chosen": chosen,
            "query": query,
            "filters": [
                ("kind", [(c, x.get(t.lang)) for c, x in vocab.kinds.items()]),
                ("track", [(c, x.get(t.lang)) for c, x in vocab.tracks.items()]),
                ("district", [(c, x.get(t.lang)) for c, x in vocab.districts.items()]),
            ],
        },
    )


_EXPORT_COLUMNS = (
    "name", "kind", "track", "enterprise", "uscc", "district", "summary", "specs", "doc_number",
    "verify_url", "listed_on", "expires_on", "status", "also_holds", "url",
)  # fmt: skip


def _export_rows(
    request: Request, view: View, wanted: ListingFilter
) -> tuple[list[str], list[list[str | date | None]]]:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    result = listings.search(portal, wanted, page=1, per_page=listings.MAX_PER_PAGE)
    entries = list(result.entries)
    for number in range(2, min(result.pages, _EXPORT_ROWS // listings.MAX_PER_PAGE) + 1):
        entries += listings.search(portal, wanted, page=number, per_page=listings.MAX_PER_PAGE).entries
    base = _base_url(request)
    header = [t(f"procurement.col.{column}") for column in _EXPORT_COLUMNS]
    body: list[list[str | date | None]] = []
    for row in _rows(entries, listings.vocabulary(portal), t):
        listing = row.entry.listing
        body.append(
            [
                listing.name, row.kind, row.track, row.entry.enterprise_name, row.entry.enterprise_uscc,
                row.district, listing.summary or "", listing.specs or "", listing.doc_number,
                f"{base}/verify/{listing.verification_code}", listing.listed_on, listing.expires_on,
                row.status, "; ".join(text for _, text in row.also_holds), f"{base}/procurement/{listing.id}",
            ]
        )  # fmt: skip
    return header, body


def _cell(value: str | date | None) -> str:
    """CSV text that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, date) else value
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _download_name(view: View, extension: str) -> str:
    return f"procurement-catalogue{'-archive' if view == 'archive' else ''}.{extension}"


@router.get("/procurement/export.csv")
@router.get("/procurement/archive/export.csv")
def export_csv(
    request: Request, q: Q = None, kind: Code = None, track: Code = None, district: Code = None
) -> Response:
    """The filtered catalogue as CSV (UTF-8 with a BOM for spreadsheets), headers in the reader's language."""
    view: View = "archive" if "/archive/" in request.url.path else "current"
    header, body = _export_rows(request, view, _filter(view, q, kind, track, district))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in line] for line in body)
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_download_name(view, "csv")}"'},
    )


@router.get("/procurement/export.xlsx")
@router.get("/procurement/archive/export.xlsx")
def export_xlsx(
    request: Request, q: Q = None, kind: Code = None, track: Code = None, district: Code = None
) -> Response:
    """The filtered catalogue as an Excel workbook; text is written as text, never as a formula."""
    view: View = "archive" if "/archive/" in request.url.path else "current"
    header, body = _export_rows(request, view, _filter(view, q, kind, track, district))
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet(Translator(request_lang(request))("procurement.sheet"))
    bold = workbook.add_format({"bold": True})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for column, title in enumerate(header):
        sheet.write_string(0, column, title, bold)
    for row_no, line in enumerate(body, start=1):
        for column, value in enumerate(line):
            if isinstance(value, date):
                sheet.write_datetime(row_no, column, value, day)
            elif value:
                sheet.write_string(row_no, column, value)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(body), 1), len(header) - 1)
    workbook.close()
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_download_name(view, "xlsx")}"'},
    )


@router.get("/procurement/awards", response_class=HTMLResponse)
def awards_page(
    request: Request,
    q: Q = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    page: PageNo = 1,
) -> HTMLResponse:
    """The public award registers (首台（套）, ...): product, enterprise, year; amounts where published."""
    portal = portal_of(request)
    wanted = ListingFilter(
        register_kind=listings.AWARDS, statuses=listings.CURRENT_STATUSES, q=_clean(q), year=year
    )
    result = listings.search(portal, wanted, page=page)
    t = Translator(request_lang(request))
    chosen = {"q": wanted.q or "", "year": str(year or "")}
    return render(
        request,
        "procurement/awards.html",
        {
            "actor": optional_actor(request),
            "page": result,
            "rows": _rows(result.entries, listings.vocabulary(portal), t),
            "chosen": chosen,
            "query": urlencode({k: v for k, v in chosen.items() if v}),
        },
    )


def _entry_context(request: Request, listing_id: int, **extra: Any) -> dict[str, Any]:
    portal = portal_of(request)
    entry = listings.get_entry(portal, listing_id)
    actor = optional_actor(request)
    t = Translator(request_lang(request))
    return {
        "actor": actor,
        "row": _rows([entry], listings.vocabulary(portal), t)[0],
        "history": listings.entry_history(portal, listing_id),
        "letter_codes": listings.history_letters(portal, listing_id),
        "may_manage": listings.may_manage(actor, entry),
        "may_renew": listings.may_renew(portal, actor, entry),
        "actions": [a for a in ("suspend", "reinstate", "revoke") if _allowed(a, entry.listing.status)],
        **extra,
    }


def _allowed(action: str, status: str) -> bool:
    return {"suspend": status == "listed", "reinstate": status == "suspended"}.get(
        action, status in listings.CURRENT_STATUSES
    )


@router.get("/procurement/{listing_id:int}", response_class=HTMLResponse)
def entry_page(request: Request, listing_id: PathId) -> HTMLResponse:
    """One entry at its stable URL, in any status, with its history."""
    return render(request, "procurement/entry.html", _entry_context(request, listing_id, error=None))


@router.post("/procurement/{listing_id:int}/actions", response_class=HTMLResponse)
def act(
    request: Request,
    listing_id: PathId,
    actor: Annotated[Actor, Depends(current_actor)],
    expected_version: FormVersion,
    action: Annotated[str, Form(max_length=20)],
    reasons: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Suspend, reinstate or revoke with reasons; the enterprise receives the letter."""
    t = Translator(request_lang(request))
    try:
        listings.act_on(portal_of(request), actor, listing_id, action, reasons, expected_version)
    except (Refused, StaleVersion) as exc:
        message = t("procurement.stale") if isinstance(exc, StaleVersion) else exc.said_in(t.lang)
        context = _entry_context(request, listing_id, error=message)
        return render(
            request,
            "procurement/entry.html",
            context,
            status_code=409 if isinstance(exc, StaleVersion) else 422,
        )
    flash(request, f"procurement.done.{action}")  # the service refused any other action
    return RedirectResponse(f"/procurement/{listing_id}", status_code=303)


@router.post("/procurement/{listing_id:int}/renew")
def renew(request: Request, listing_id: PathId, actor: Annotated[Actor, Depends(current_actor)]) -> Response:
    """Start (or reopen) the renewal application, prefilled from the entry, and go to its form."""
    application = listings.start_renewal(portal_of(request), actor, listing_id)
    return RedirectResponse(f"/applications/{application.id}/edit", status_code=303)


# --- the JSON API -----------------------------------------------------------------------------


class Label(BaseModel):
    zh: str
    en: str


class Coded(BaseModel):
    """A code for machines with its labels for people."""

    code: str
    label: Label


class EnterpriseRef(BaseModel):
    name: str
    uscc: str
    district: Coded


class HeldRef(BaseModel):
    listing_id: int
    register_kind: Literal["catalogue", "awards"]
    measure: Label
    year: int
    url: str


class ListingBody(BaseModel):
    id: int
    url: str
    register_kind: Literal["catalogue", "awards"]
    measure: Label
    name: str
    kind: Coded | None
    track: Coded | None
    enterprise: EnterpriseRef
    summary: str | None
    specifications: str | None
    reference_number: str
    verify_url: str
    listed_on: date
    expires_on: date | None
    status: Literal["listed", "suspended", "expired", "revoked"]
    amount: str | None
    also_holds: list[HeldRef]


class ListingPage(BaseModel):
    items: list[ListingBody]
    page: int
    per_page: int
    total: int
    pages: int


def _coded(labels: dict[str, Text], code: str | None) -> Coded | None:
    if code is None:
        return None
    text = labels.get(code, Text(code, code))
    return Coded(code=code, label=Label(zh=text.zh, en=text.en))


def listing_body(entry: Entry, vocab: Vocabulary, base: str) -> ListingBody:
    listing = entry.listing
    district = _coded(vocab.districts, listing.district)
    assert district is not None
    return ListingBody(
        id=int(listing.id or 0),
        url=f"{base}/procurement/{listing.id}",
        register_kind=listing.register_kind,
        measure=Label(zh=entry.measure_title.zh, en=entry.measure_title.en),
        name=listing.name,
        kind=_coded(vocab.kinds, listing.kind),
        track=_coded(vocab.tracks, listing.track),
        enterprise=EnterpriseRef(name=entry.enterprise_name, uscc=entry.enterprise_uscc, district=district),
        summary=listing.summary,
        specifications=listing.specs,
        reference_number=listing.doc_number,
        verify_url=f"{base}/verify/{listing.verification_code}",
        listed_on=listing.listed_on,
        expires_on=listing.expires_on,
        status=listing.status,
        amount=str(entry.amount) if entry.amount is not None else None,
        also_holds=[
            HeldRef(
                listing_id=h.listing_id,
                register_kind=h.register_kind,
                measure=Label(zh=h.title.zh, en=h.title.en),
                year=h.year,
                url=f"{base}/procurement/{h.listing_id}",
            )
            for h in entry.also_holds
        ],
    )


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemBody"}}}


@api.get(
    "/listings",
    summary="The procurement catalogue, paged and filtered (read-only, public)",
    response_model=ListingPage,
    responses={422: {"description": "A parameter is not valid", "content": _PROBLEM, "model": ProblemBody}},
)
def api_listings(
    request: Request,
    q: Q = None,
    kind: Code = None,
    track: Code = None,
    district: Code = None,
    status: Annotated[
        Literal["current", "archive", "listed", "suspended", "expired", "revoked"],
        Query(description="current = listed and suspended (the default); archive = expired and revoked"),
    ] = "current",
    page: PageNo = 1,
    per_page: Annotated[int, Query(ge=1, le=listings.MAX_PER_PAGE)] = 20,
) -> ListingPage:
    """Entries newest first. Codes come with zh and en labels; the same filters as /procurement."""
    statuses = _STATUSES_OF.get(status, (status,))
    wanted = ListingFilter(
        register_kind=listings.CATALOGUE,
        statuses=statuses,
        q=_clean(q),
        kind=kind,
        track=track,
        district=district,
    )
    portal = portal_of(request)
    result: Page = listings.search(portal, wanted, page=page, per_page=per_page)
    vocab = listings.vocabulary(portal)
    base = _base_url(request)
    return ListingPage(
        items=[listing_body(e, vocab, base) for e in result.entries],
        page=result.page,
        per_page=result.per_page,
        total=result.total,
        pages=result.pages,
    )


@api.get(
    "/listings/{listing_id}",
    summary="One entry of the catalogue or its archive, at its stable id",
    response_model=ListingBody,
    responses={
        404: {"description": "No such entry", "content": _PROBLEM, "model": ProblemBody},
        422: {"description": "The id is not valid", "content": _PROBLEM, "model": ProblemBody},
    },
)
def api_listing(request: Request, listing_id: PathId) -> ListingBody:
    portal = portal_of(request)
    try:
        entry = listings.get_entry(portal, listing_id)
    except NotFound:
        raise Problem(404, "No such listing.") from None
    if entry.listing.register_kind != listings.CATALOGUE:
        raise Problem(404, "No such listing.")
    return listing_body(entry, listings.vocabulary(portal), _base_url(request))
