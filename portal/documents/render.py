"""Render a decision letter: LetterData → HTML (Jinja2) → PDF/A-3b bytes (WeasyPrint).

Pure: no database, no settings, no network, no file outside the package. The same
LetterData gives the same bytes, so a re-render for inspection can be compared with the
stored letter.

Render time is measured against a bare CJK page in the same font (bench/pdf_bench.py). What
keeps it close lives in `speedups`; the QR code is printed as a bitmap (see `qr_png`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from weasyprint import HTML, Attachment
from weasyprint.text.fonts import FontConfiguration

from portal.documents.capitals import rmb_capital
from portal.documents.decision_json import ATTACHMENT_NAME, letter_json
from portal.documents.fetcher import AssetOnlyFetcher
from portal.documents.formatting import format_amount
from portal.documents.model import LetterData
from portal.documents.speedups import compress_byte_streams_once, letter_stylesheet, thread_font_config
from portal.documents.templating import document_environment
from portal.documents.verification import qr_png
from portal.documents.wording import wording_for
from portal.locales import long_date
from portal.rules.trace_rows import numbers, reads

PDF_VARIANT = "pdf/a-3b"


def render_letter_html(letter: LetterData) -> str:
    """The letter as HTML, before WeasyPrint: useful to inspect wording and escaping.

    It carries no stylesheet link: `html_to_pdf` applies the packaged letter.css itself.
    """
    return document_environment().get_template("letter.html.j2").render(_context(letter))


def render_letter(letter: LetterData) -> bytes:
    """The letter as PDF/A-3b bytes, with `letter_json(letter)` embedded as decision.json."""
    # The template's HTML adds no font faces, so it may share the thread's warm font configuration.
    return html_to_pdf(
        render_letter_html(letter),
        letter_json(letter),
        _issued_at(letter),
        font_config=thread_font_config(),
    )


def html_to_pdf(
    html: str, decision_json: str, issued_at: datetime, *, font_config: FontConfiguration | None = None
) -> bytes:
    """Turn letter HTML into PDF/A-3b with the letter's stylesheet, through the restricted fetcher.

    Separate from render_letter so that the fetcher's wall can be tested with raw HTML that
    the template would have escaped. Such HTML gets a fresh font configuration (the default):
    an @font-face rule in it must not change the fonts of later letters.
    """
    fetcher = AssetOnlyFetcher()
    attachment = Attachment(
        string=decision_json,
        name=ATTACHMENT_NAME,
        description="Machine-readable decision (portal.decision-letter/1)",
        # Fixed dates instead of "now" keep the bytes reproducible.
        created=issued_at,
        modified=issued_at,
        relationship="Data",
        url_fetcher=fetcher,
    )
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[letter_stylesheet()],
        font_config=font_config,
        pdf_variant=PDF_VARIANT,
        attachments=[attachment],
        finisher=compress_byte_streams_once,
    )
    return pdf


def _issued_at(letter: LetterData) -> datetime:
    """Midnight of the issue date in the issuing city, in UTC (PDF dates are written with a Z)."""
    return datetime.combine(letter.issued_on, time(0), tzinfo=letter.zone).astimezone(UTC)


def _phrases(pattern: str, measure: str) -> list[str]:
    before, _, after = pattern.partition("{measure}")
    return [before, measure, after]


def _context(letter: LetterData) -> dict[str, Any]:
    t = wording_for(letter.lang, letter.kind)
    zh = letter.lang == "zh"
    measure_title = letter.measure_title_zh if zh else letter.measure_title_en
    show_benefits = letter.kind in ("approval", "disbursement")
    granted = (
        [
            {
                "label": t["granted"],
                "figures": format_amount(letter.granted_amount, "money", letter.lang),
                "capitals": rmb_capital(letter.granted_amount),
            }
        ]
        if letter.granted_amount is not None and show_benefits
        else []
    )
    payment = letter.payment
    paid = None
    if payment is not None:
        on = long_date(payment.paid_on, letter.lang)
        paid = (
            t["paid"].format(date=on, bank=payment.bank_name, account=payment.account_masked)
            if payment.bank_name is not None
            else t["paid.no_account"].format(date=on)
        )
    return {
        "letter": letter,
        "t": t,
        "supersedes": _supersedes(letter, t),
        # 二、上述资金已于…拨付至…: when and where the money went; the notes then come third.
        "paid": paid,
        "reasons_heading": t["reasons.after_payment"] if paid is not None else t["reasons"],
        "html_lang": "zh-CN" if zh else "en",
        "issuing_unit": letter.issuing_unit_zh if zh else letter.issuing_unit_en,
        "title": t["title"].format(measure=measure_title),
        # The title as phrases (before, the measure, after) that a line break falls between, so
        # that a Chinese title never splits a word (政/策): 回行时词意完整 (GB/T 9704).
        "title_phrases": [part for part in _phrases(t["title"], measure_title) if part],
        "measure_title": measure_title,
        "issued_on": long_date(letter.issued_on, letter.lang),
        "created": datetime.combine(letter.issued_on, time(0), tzinfo=letter.zone).isoformat(),
        # A refusal's annex lists the criteria but states no rule outcome: a case refused on
        # review may well have met the rule, and a refusal must never read 符合条件.
        "outcome": None if letter.kind == "rejection" else t.get(f"outcome.{letter.outcome}", letter.outcome),
        # One paragraph per line, so that a reviewer's multi-line comment keeps its indents.
        "reasons": [line for reason in letter.reason_list for line in reason.splitlines() if line.strip()],
        "benefits": granted
        + [
            {
                "label": line.label_zh if zh else line.label_en,
                "figures": format_amount(line.amount, line.kind, letter.lang),
                "capitals": rmb_capital(line.amount) if line.kind == "money" else "",
            }
            for line in letter.benefits
        ]
        if show_benefits
        else [],
        "trace": _trace_rows(letter, t),
        "trace_source": _shared_source(letter),
        # The longer "not met (another option is met)" gets a wider result column.
        "trace_covered": any(line.covered and line.outcome != "pass" for line in letter.trace),
        "qr_data_uri": "data:image/png;base64," + base64.b64encode(qr_png(letter.verify_url)).decode("ascii"),
    }


def _supersedes(letter: LetterData, t: Mapping[str, str]) -> str | None:
    """本决定书更正并取代本机关于…作出的…号决定书（核验码：…）。更正理由：…
    None on a letter that corrects none."""
    if letter.supersedes_code is None or letter.supersedes_issued_on is None:
        return None
    replaced = t["supersedes"].format(
        noun=t["noun"],
        date=long_date(letter.supersedes_issued_on, letter.lang),
        number=letter.supersedes_doc_number,
        code=letter.supersedes_code,
    )
    if letter.correction_reason is None:
        return replaced
    return replaced + t["correction_reason"].format(reason=letter.correction_reason)


def _shared_source(letter: LetterData) -> str:
    """The one legal source every criterion cites, said once above the annex table; "" when the
    criteria cite different sources (then each row keeps its own in a column)."""
    sources = {line.source for line in letter.trace if line.kind == "criterion"}  # a heading cites none
    return sources.pop() if len(sources) == 1 else ""


def _trace_rows(letter: LetterData, t: Mapping[str, str]) -> list[dict[str, Any]]:
    """The annex table's rows, numbered by depth (1, 2, 2.1, 2.2, 3): a group's heading in the
    letter's words, and an option its group did not need read as such, never as a bare 不符合."""
    rows: list[dict[str, Any]] = []
    for line, number in zip(letter.trace, numbers(line.depth for line in letter.trace), strict=True):
        shown = reads(line.outcome, line.covered)
        if line.kind == "criterion":
            message = line.message_zh if letter.lang == "zh" else line.message_en
        else:
            message = t[f"group.{line.kind}"]
        rows.append(
            {
                "number": number,
                "kind": line.kind,
                "depth": line.depth,
                "message": message,
                "outcome": shown,
                "result": t[f"result.{shown}"],
                "note": t["result.covered_note"] if line.covered and shown != "pass" else "",
                "source": line.source,
            }
        )
    return rows
