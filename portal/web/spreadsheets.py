"""Spreadsheet files for people: CSV that spreadsheet programs open in Chinese, and XLSX.

Amounts are exact: CSV writes the Decimal's text; XLSX writes a number with a `0.00` format,
which is exact for any amount of up to 15 significant digits (a double holds those exactly to
the fen), and lets the reader sum the column. Text stays text (an account number is never
turned into a number).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

import xlsxwriter
from fastapi.responses import Response

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | Decimal | dt.date | None


def csv_bytes(lines: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in lines:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in line])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(header: list[str], rows: list[list[Cell]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "0.00"})
    sheet.write_row(0, 0, header, bold)
    for r, line in enumerate(rows, start=1):
        for c, value in enumerate(line):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time.min), day)
            elif isinstance(value, Decimal):
                sheet.write_number(r, c, float(value), money)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)  # never a formula or a number, whatever it looks like
            elif value is not None:
                sheet.write(r, c, value)
    sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def attachment(
    content: bytes, media_type: str, filename: str, headers: dict[str, str] | None = None
) -> Response:
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(content, media_type=media_type, headers={**disposition, **(headers or {})})
