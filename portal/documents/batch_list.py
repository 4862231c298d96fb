"""The printable list of a payment batch (拨付清单): plain values in, PDF bytes out.

The finance office signs a paper list against the file sent to the bank, so the list prints
every line with the batch's total in figures and in capitals. Like the letters, it renders
through `AssetOnlyFetcher` (payee names are typed by people) with its own packaged stylesheet,
and its labels come in from the caller in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from portal.documents.capitals import rmb_capital
from portal.documents.templating import document_environment
from portal.locales import long_date, money

if TYPE_CHECKING:
    from weasyprint import CSS

STYLESHEET = "batch_list.css"


@dataclass(frozen=True)
class BatchListLine:
    """One payment, as the list prints it."""

    reference: str
    payee_name: str
    uscc: str
    bank_name: str
    account_number: str
    amount: Decimal
    measure: str


@dataclass(frozen=True)
class BatchList:
    """Everything the list prints; `labels` holds its headings, in the reader's language."""

    lang: str
    title: str
    unit: str
    printed_on: date
    lines: tuple[BatchListLine, ...]
    labels: dict[str, str]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


@cache
def _stylesheet() -> CSS:
    from weasyprint import CSS

    from portal.documents.fetcher import ASSET_SCHEME, AssetOnlyFetcher

    return CSS(url=ASSET_SCHEME + STYLESHEET, url_fetcher=AssetOnlyFetcher())


def render_batch_list_html(data: BatchList) -> str:
    return (
        document_environment()
        .get_template("batch_list.html.j2")
        .render(
            data=data,
            money=lambda amount: money(amount, data.lang),
            printed_on=long_date(data.printed_on, data.lang),
            capital=rmb_capital(data.total),
        )
    )


def render_batch_list(data: BatchList) -> bytes:
    """The list as PDF bytes (A4 landscape), fonts subset and embedded; loads WeasyPrint on first use."""
    from weasyprint import HTML

    from portal.documents.fetcher import AssetOnlyFetcher
    from portal.documents.speedups import thread_font_config

    html = HTML(string=render_batch_list_html(data), url_fetcher=AssetOnlyFetcher())
    pdf: bytes = html.write_pdf(stylesheets=[_stylesheet()], font_config=thread_font_config())
    return pdf
