"""Working-day arithmetic on the official calendar, across Spring Festival and National Day 调休."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.workflows import CalendarRangeError, WorkflowFileError, WorkingCalendar

D = date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 1, 1), False),  # 元旦 (Wednesday)
        (D(2025, 1, 26), True),  # Sunday worked before Spring Festival
        (D(2025, 1, 28), False),  # 除夕
        (D(2025, 2, 4), False),  # 初七
        (D(2025, 2, 8), True),  # Saturday worked after
        (D(2025, 4, 27), True),  # Sunday worked before Labour Day
        (D(2025, 9, 28), True),
        (D(2025, 10, 8), False),  # National Day + Mid-Autumn, 8 days
        (D(2025, 10, 11), True),
        (D(2025, 10, 12), False),  # an ordinary Sunday
        (D(2026, 1, 4), True),
        (D(2026, 2, 14), True),
        (D(2026, 2, 15), False),
        (D(2026, 2, 23), False),
        (D(2026, 2, 28), True),
        (D(2026, 9, 20), True),
        (D(2026, 10, 7), False),
        (D(2026, 10, 10), True),
        (D(2026, 10, 8), True),  # an ordinary Thursday after the holiday
        (D(2027, 2, 8), False),  # provisional: 初三
    ],
)
def test_is_working_day(calendar: WorkingCalendar, day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


def test_across_spring_festival_2025(calendar: WorkingCalendar) -> None:
    # Fri 24 Jan → Sun 26 (worked) → Mon 27 → next is Wed 5 Feb after the 8-day holiday.
    assert calendar.add_working_days(D(2025, 1, 24), 1) == D(2025, 1, 26)
    assert calendar.add_working_days(D(2025, 1, 24), 2) == D(2025, 1, 27)
    assert calendar.add_working_days(D(2025, 1, 24), 3) == D(2025, 2, 5)
    assert calendar.add_working_days(D(2025, 1, 27), 4) == D(2025, 2, 8)  # 5, 6, 7 Feb, then Sat 8
    assert calendar.working_days_between(D(2025, 1, 27), D(2025, 2, 9)) == 4


def test_across_national_day_2025_and_2026(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert calendar.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert calendar.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)
    assert calendar.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert calendar.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    # A 10-working-day stage entered on Mon 28 Sep 2026: 29, 30 Sep, 8, 9, 10 (Sat), 12–16 Oct.
    assert calendar.add_working_days(D(2026, 9, 28), 10) == D(2026, 10, 16)


def test_spring_festival_2026_and_year_boundary(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert calendar.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert calendar.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)


def test_yearly_totals_match_the_notices(calendar: WorkingCalendar) -> None:
    # 248 working days in each of 2025 and 2026 (365 − 104 weekend days − weekday holidays + 调休).
    # 1 January is a holiday both years, so counting from it (exclusive) loses nothing.
    assert calendar.working_days_between(D(2025, 1, 1), D(2025, 12, 31)) == 248
    assert calendar.working_days_between(D(2026, 1, 1), D(2026, 12, 31)) == 248


def test_zero_and_negative(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(D(2025, 10, 3), 0) == D(2025, 10, 3)
    assert calendar.working_days_between(D(2025, 10, 9), D(2025, 9, 30)) == -1
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_days(D(2025, 3, 3), -1)


def test_provisional_year_is_declared(calendar: WorkingCalendar) -> None:
    assert calendar.provisional_years == [2027]
    assert calendar.holiday_name(D(2027, 10, 2)) == "国庆节"


def test_2023_and_2024_follow_their_notices(calendar: WorkingCalendar) -> None:
    # 国办发明电〔2022〕16号 and 〔2023〕7号: 调休 Sundays are working days, the holidays are not.
    assert calendar.is_working_day(D(2023, 1, 29)) and not calendar.is_working_day(D(2023, 10, 6))
    assert calendar.is_working_day(D(2024, 2, 4)) and not calendar.is_working_day(D(2024, 2, 16))
    assert calendar.holiday_name(D(2024, 10, 7)) == "国庆节"


def test_dates_outside_the_calendar_are_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(CalendarRangeError, match="2022-12-31"):
        calendar.is_working_day(D(2022, 12, 31))
    with pytest.raises(CalendarRangeError, match="2028-01-01"):
        calendar.add_working_days(D(2027, 12, 30), 3)
    with pytest.raises(CalendarRangeError):
        calendar.working_days_between(D(2025, 1, 2), D(2028, 1, 2))


@settings(max_examples=200, deadline=None)
@given(start=st.dates(D(2025, 1, 1), D(2027, 9, 30)), n=st.integers(0, 40))
def test_add_and_count_are_inverse(calendar: WorkingCalendar, start: date, n: int) -> None:
    end = calendar.add_working_days(start, n)
    assert calendar.working_days_between(start, end) == n
    if n:
        assert calendar.is_working_day(end)
        # ... and it is the first day at which n working days have passed.
        assert calendar.working_days_between(start, end - timedelta(days=1)) == n - 1


BAD_YEARS = {
    "weekday listed as working weekend": "2025: {provisional: false, source: {document: x}, "
    "holidays: [], working_weekends: [2025-01-27]}",
    "date in the wrong year": "2025: {provisional: false, source: {document: x}, "
    "holidays: [{name: 春节, from: 2026-01-01, to: 2026-01-02}]}",
    "provisional without a note": "2025: {provisional: true, source: {document: x}, holidays: []}",
    "no source": "2025: {provisional: false, holidays: []}",
    "to before from": "2025: {provisional: false, source: {document: x}, "
    "holidays: [{name: 春节, from: 2025-02-04, to: 2025-01-28}]}",
    "holidays not a list": "2025: {provisional: false, source: {document: x}, holidays: 5}",
    "working weekends not a list": "2025: {provisional: false, source: {document: x}, working_weekends: 5}",
    "year beyond datetime": "9999999: {provisional: false, source: {document: x}}",
    "gap between years": "2025: {provisional: false, source: {document: x}}\n  2027: "
    "{provisional: false, source: {document: x}}",
}


@pytest.mark.parametrize("body", BAD_YEARS.values(), ids=BAD_YEARS.keys())
def test_bad_calendar_files_are_refused(tmp_path: Path, body: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("timezone: Asia/Shanghai\nyears:\n  " + body + "\n", encoding="utf-8")
    with pytest.raises(WorkflowFileError) as info:
        WorkingCalendar.load(path)
    assert str(path) in str(info.value)
    assert "timezone" not in str(info.value)


@pytest.mark.parametrize("line", ["", "timezone: Mars/Olympus\n", "timezone: 8\n"])
def test_the_calendar_names_its_time_zone(tmp_path: Path, line: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(line + "years:\n  2025: {provisional: false, source: {document: x}}\n", encoding="utf-8")
    with pytest.raises(WorkflowFileError, match="timezone"):
        WorkingCalendar.load(path)


def test_the_time_zone_is_the_files(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "timezone: Europe/Lisbon\nyears:\n  2025: {provisional: false, source: {document: x}}\n",
        encoding="utf-8",
    )
    assert str(WorkingCalendar.load(path).zone) == "Europe/Lisbon"
