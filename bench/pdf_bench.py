"""Decision-letter rendering cost against a bare CJK page, in one process (issue 5 §6).

The typical approval (eight trace lines) is two pages, because GB/T 9704 puts the appendix
(附件) on its own page. The baseline is therefore the same letter's own text, page for page,
as bare HTML in the same font, so that the ratio measures what the letter adds (layout,
tables, QR code, PDF/A-3b, the embedded JSON, the restricted fetcher) and not how much text
there is. A bare single page is reported too.

Run: .venv/bin/python bench/pdf_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import html
import io
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader
from weasyprint import HTML

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "documents"))
from sample_letters import APPROVAL

from portal.documents import render_letter

BARE_PAGE = """<html lang="zh-CN" style="font-family: 'Noto Serif CJK SC'; font-size: 16pt">
<body>{pages}</body></html>"""


def median_seconds(cases: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median wall time per case. Runs are interleaved so that load from other processes on
    the machine falls on all cases alike and the ratios stay meaningful."""
    for render in cases.values():
        render()  # warm up: font discovery and the first subset are paid once per process
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, render in cases.items():
            start = time.perf_counter()
            render()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def bare_html(page_texts: list[str]) -> str:
    pages = "".join(f'<div style="page-break-after: always">{html.escape(text)}</div>' for text in page_texts)
    return BARE_PAGE.format(pages=pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ResourceWarning)  # WeasyPrint's own sRGB file handle

    letter_pdf = render_letter(APPROVAL)
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(letter_pdf)).pages]
    same_text = bare_html(texts)
    one_page = bare_html(texts[:1])

    medians = median_seconds(
        {
            "letter": lambda: render_letter(APPROVAL),
            "same": lambda: HTML(string=same_text).write_pdf(),
            "one": lambda: HTML(string=one_page).write_pdf(),
        },
        args.runs,
    )
    letter_s, same_s, one_s = medians["letter"], medians["same"], medians["one"]

    print(f"runs per case: {args.runs} (median)")
    print(f"decision letter ({len(texts)} pages, PDF/A-3b): {letter_s * 1000:7.1f} ms")
    print(f"bare CJK HTML, same text and pages:   {same_s * 1000:7.1f} ms")
    print(f"bare CJK HTML, one page:              {one_s * 1000:7.1f} ms")
    print(f"ratio letter / same-text bare:        {letter_s / same_s:7.2f}x  (goal <= 1.5x)")
    print(f"ratio per page, letter / bare page:   {letter_s / len(texts) / one_s:7.2f}x")
    print(f"letter PDF size:                      {len(letter_pdf) / 1024:7.1f} KB  (goal <= 300 KB)")


if __name__ == "__main__":
    main()
