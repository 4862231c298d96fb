"""The printed payment batch list: CJK embedded, the total in figures and capitals, typed text escaped."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from portal.documents.batch_list import BatchList, BatchListLine, render_batch_list, render_batch_list_html
from portal.locales import money

KEYS = ("payee", "uscc", "account", "bank", "amount", "reference", "measure", "unit", "printed_on", "no",
        "total", "capital", "prepared_by", "checked_by", "approved_by")  # fmt: skip
LABELS = {k: f"{k}：" for k in KEYS}


def _line(name: str, amount: str) -> BatchListLine:
    return BatchListLine("17", name, "91440105MA0000001J", "中国银行广州海珠支行", "6217857000001234567",
                         Decimal(amount), "算法备案奖励")  # fmt: skip


def test_the_list_prints_each_line_and_the_total_in_capitals() -> None:
    hostile = '<link rel="attachment" href="file:///etc/passwd">甲公司'
    data = BatchList("zh", "拨付清单（第 1 批）", "海珠区科工商信局", date(2026, 11, 27),
                     (_line(hostile, "200000.00"), _line("乙公司", "16409.02")), LABELS)  # fmt: skip
    pdf = render_batch_list(data)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "拨付清单（第 1 批）" in text and "乙公司" in text
    assert "216,409.02" in text and "人民币贰拾壹万陆仟肆佰零玖元零贰分" in text.replace("\n", "")
    assert 'href="file:///etc/passwd"' in text  # printed as text, never fetched
    assert b"root:x:0:0" not in pdf and b"/EmbeddedFile" not in pdf
    [page] = PdfReader(io.BytesIO(pdf)).pages
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    descriptors = [f["/DescendantFonts"][0].get_object()["/FontDescriptor"] for f in fonts]
    assert all(any(k.startswith("/FontFile") for k in d) for d in descriptors)  # the CJK face is embedded


def test_amounts_and_the_date_read_as_on_every_page() -> None:
    """The finance office compares the list with the case pages: the same ¥/CNY amounts and long dates."""
    lines = (_line("甲公司", "200000.00"), _line("乙公司", "16409.02"))
    for lang, amount, total, day in (
        ("zh", "¥200,000.00", "¥216,409.02", "2026年11月27日"),
        ("en", "CNY 200,000.00", "CNY 216,409.02", "November 27, 2026"),
    ):
        data = BatchList(lang, "拨付清单", "海珠区科工商信局", date(2026, 11, 27), lines, LABELS)
        html = render_batch_list_html(data)
        assert html.count(amount) == 1 and html.count(total) == 1, lang
        assert money(Decimal("216409.02"), lang) == total
        assert day in html and "2026-11-27" not in html, lang
