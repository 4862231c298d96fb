"""A chart's bars leave room for their values: the longest amount ends inside the drawing.

The SVG clips what runs past its width, so a bar of the largest value is shortened until its value
(CNY 8,000,000.00, ¥8,000,000.00) fits, counting a character at most 0.6 em (the value's font size is
12 user units), a wide one a full em.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.web.supervision_view import Cell, Drawing, Figure

VALUE_FONT, GAP = 12, 6


def _most(text: str) -> float:
    return sum(VALUE_FONT * (1 if ord(ch) > 0x2E7F else 0.6) for ch in text)


@pytest.mark.parametrize(
    "amounts",
    [
        [("CNY 8,000,000.00", Decimal(8_000_000))],
        [("¥8,000,000.00", Decimal(8_000_000))],
        [("CNY 8,000,000.00", Decimal(8_000_000)), ("CNY 7,900,000.00", Decimal(7_900_000))],
        [("CNY 120.00", Decimal(120)), ("CNY 100.00", Decimal(100))],
    ],
)
def test_a_bar_s_value_ends_inside_the_drawing(amounts: list[tuple[str, Decimal]]) -> None:
    drawing = _drawn(amounts)
    for row in drawing.rows:
        for bar in row.bars:
            assert bar.width + GAP + _most(bar.text) <= drawing.width, bar
    widths = [row.bars[0].width for row in drawing.rows]
    assert widths == sorted(widths, reverse=True) and widths[-1] > 0  # bars keep their order


def test_short_values_leave_the_bars_their_full_length() -> None:
    drawing = _drawn([("12", Decimal(12)), ("6", Decimal(6))])
    assert [row.bars[0].width for row in drawing.rows] == [300, 150]


def _drawn(amounts: list[tuple[str, Decimal]]) -> Drawing:
    figure = Figure("pool", "Pool", ["Stage", "Principal"], chart=(1,))
    figure.rows = [
        [Cell(f"Stage {i}", f"Stage {i}"), Cell(value, text)] for i, (text, value) in enumerate(amounts)
    ]
    drawing = figure.drawing()
    assert drawing is not None and drawing.legend == ["Principal"]  # one series says its column too
    return drawing
