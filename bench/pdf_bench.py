"""Decision-letter rendering cost against a bare CJK page, in one process (issue 5 §6).

The issue asks for a one-page letter against a bare one-page CJK page in the same font. A
real letter has no one-page form: GB/T 9704 starts the appendix (附件, here the per-criterion
trace with its citations and the QR code) on a page of its own, so even a rejection is two
pages. Two comparisons are therefore made, each against bare HTML holding the same text on
the same number of pages, so that the ratio measures what the letter adds (its layout, tables,
PDF/A-3b, the embedded JSON, the restricted fetcher, the QR code) and not how much text it has:

- the whole letter (approval, eight trace lines, two pages) against its text as two bare pages;
- the letter's first page alone: the same template, stylesheet and PDF/A-3b pipeline with the
  appendix section left out, against that page's text as one bare page. This is the issue's
  one-page figure.

The bare pages are rendered the way WeasyPrint renders by default. The letter renderer keeps
its font configuration warm from one letter to the next (portal.documents.speedups); to show
how much of the gap that cache closes, the bare pages are also timed with a warm one.

Every case runs interleaved with the others, so that load from other processes falls on all of
them alike; medians of wall time and of this process's CPU time are both printed, and on a
busy machine the CPU ratios are the steadier ones.

Run: .venv/bin/python bench/pdf_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import html
import io
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as dt_time
from pathlib import Path

from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "documents"))
from sample_letters import APPROVAL

from portal.documents import render_letter, render_letter_html
from portal.documents.decision_json import letter_json
from portal.documents.render import html_to_pdf
from portal.documents.speedups import thread_font_config

BARE_PAGE = """<html lang="zh-CN" style="font-family: 'Noto Serif CJK SC'; font-size: 16pt">
<body>{pages}</body></html>"""
APPENDIX = re.compile(r'<section class="appendix">.*?</section>', re.DOTALL)


def medians(cases: dict[str, Callable[[], object]], runs: int) -> dict[str, tuple[float, float]]:
    """(wall, CPU) median seconds per case, with the runs of all cases interleaved."""
    for render in cases.values():
        render()  # warm up: font discovery and the first subset are paid once per process
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, render in cases.items():
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            render()
            cpu[name].append(time.process_time() - cpu_start)
            wall[name].append(time.perf_counter() - wall_start)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in cases}


def bare_html(page_texts: list[str]) -> str:
    pages = "".join(f'<div style="page-break-after: always">{html.escape(text)}</div>' for text in page_texts)
    return BARE_PAGE.format(pages=pages)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ResourceWarning)  # WeasyPrint's own sRGB file handle

    letter_pdf = render_letter(APPROVAL)
    texts = page_texts(letter_pdf)
    first_page_html = APPENDIX.sub("", render_letter_html(APPROVAL))
    decision_json = letter_json(APPROVAL)
    issued_at = datetime.combine(APPROVAL.issued_on, dt_time(0), tzinfo=UTC)  # attachment dates only

    def first_page() -> bytes:
        return html_to_pdf(first_page_html, decision_json, issued_at, font_config=thread_font_config())

    first_page_pdf = first_page()
    first_texts = page_texts(first_page_pdf)
    if len(first_texts) != 1 or first_texts[0] != texts[0]:
        raise SystemExit("the letter without its appendix is not the letter's first page; fix the bench")
    same_text, one_page = bare_html(texts), bare_html(first_texts)
    warm = FontConfiguration()

    results = medians(
        {
            "letter": lambda: render_letter(APPROVAL),
            "bare": lambda: HTML(string=same_text).write_pdf(),
            "bare warm": lambda: HTML(string=same_text).write_pdf(font_config=warm),
            "first page": first_page,
            "bare page": lambda: HTML(string=one_page).write_pdf(),
            "bare page warm": lambda: HTML(string=one_page).write_pdf(font_config=warm),
        },
        args.runs,
    )

    def ratio(case: str, baseline: str) -> str:
        (wall, cpu), (base_wall, base_cpu) = results[case], results[baseline]
        return f"{wall / base_wall:5.2f}x wall  {cpu / base_cpu:5.2f}x CPU"

    print(f"runs per case: {args.runs}, interleaved (medians of wall and of CPU time)")
    labels = {
        "letter": f"decision letter ({len(texts)} pages, PDF/A-3b)",
        "bare": "bare CJK HTML, same text and pages",
        "bare warm": "  the same, warm font configuration",
        "first page": "letter's first page alone (PDF/A-3b)",
        "bare page": "bare CJK HTML, that page's text",
        "bare page warm": "  the same, warm font configuration",
    }
    for case, label in labels.items():
        wall, cpu = results[case]
        print(f"{label:40s} {wall * 1000:7.1f} ms wall  {cpu * 1000:7.1f} ms CPU")
    print(f"one page, letter / bare page (goal <= 1.5x): {ratio('first page', 'bare page')}")
    print(f"  against a warm bare page:                  {ratio('first page', 'bare page warm')}")
    print(f"whole letter / same-text bare:               {ratio('letter', 'bare')}")
    print(f"  against warm bare pages:                   {ratio('letter', 'bare warm')}")
    print(f"letter PDF size: {len(letter_pdf) / 1024:.1f} KB (goal <= 300 KB)")
    print(
        "a letter cannot be one page: GB/T 9704 puts its appendix (the trace with citations and the"
        " QR code) on a page of its own; the one-page figure is the letter with the appendix left out"
    )


if __name__ == "__main__":
    main()
