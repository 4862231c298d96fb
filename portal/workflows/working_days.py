"""Working days on the Chinese official calendar, for stage deadlines.

A deadline of "n working days" skips weekends and public holidays but counts the adjusted
working weekends (调休). Outside the years the calendar file covers we raise instead of
guessing, because a guessed holiday silently moves a legal deadline.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from portal.rules.errors import RuleFileError
from portal.rules.yaml_loader import load_yaml
from portal.workflows.errors import CalendarRangeError, WorkflowFileError

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


@dataclass(frozen=True)
class YearSchedule:
    """One calendar year's rest days and 调休 working weekends, with where they come from."""

    year: int
    provisional: bool
    source: str
    holidays: Mapping[date, str]
    working_weekends: frozenset[date]


class WorkingCalendar:
    """Answers "is this a working day" and does deadline arithmetic over the covered years.

    `zone` is the time zone the calendar's days are in (the file's `timezone:` key): the
    portal's clock reads it, so that "today" is the pack's city's today.
    """

    def __init__(self, years: list[YearSchedule], *, zone: tzinfo) -> None:
        self.zone = zone
        if not years:
            raise ValueError("a working calendar needs at least one year")
        self.years = {schedule.year: schedule for schedule in sorted(years, key=lambda s: s.year)}
        self.first_day = date(min(self.years), 1, 1)
        self.last_day = date(max(self.years), 12, 31)

    @classmethod
    def load(cls, path: Path) -> "WorkingCalendar":
        """Read the calendar file; any inconsistency is a WorkflowFileError naming the field."""
        try:
            raw = load_yaml(path, text_keys=False)
        except RuleFileError as exc:
            raise WorkflowFileError(path, f"cannot read YAML: {exc}") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("years"), dict) or not raw["years"]:
            raise WorkflowFileError(path, "top level: needs a non-empty `years` mapping")
        unknown = set(raw) - {"timezone", "years"}
        if unknown:
            raise WorkflowFileError(path, f"top level: unknown key(s) {sorted(map(str, unknown))}")
        zone = _read_zone(path, raw.get("timezone"))
        schedules = [_read_year(path, year, data) for year, data in raw["years"].items()]
        covered = sorted(schedule.year for schedule in schedules)
        if covered != list(range(covered[0], covered[-1] + 1)):
            raise WorkflowFileError(path, f"years: must be consecutive, got {covered}")
        return cls(schedules, zone=zone)

    @property
    def provisional_years(self) -> list[int]:
        """Years encoded before their holiday notice was published (statutory holidays only)."""
        return [year for year, schedule in self.years.items() if schedule.provisional]

    def _schedule(self, day: date) -> YearSchedule:
        schedule = self.years.get(day.year)
        if schedule is None:
            raise CalendarRangeError(
                f"{day.isoformat()} is outside the working-day calendar "
                f"({self.first_day.isoformat()} – {self.last_day.isoformat()}); "
                "add that year's holiday notice to the calendar file"
            )
        return schedule

    def holiday_name(self, day: date) -> str | None:
        """The public holiday `day` falls in (e.g. 国庆节), or None."""
        return self._schedule(day).holidays.get(day)

    def is_working_day(self, day: date) -> bool:
        """Weekdays that are not holidays, and the weekends worked in exchange (调休)."""
        schedule = self._schedule(day)
        if day in schedule.holidays:
            return False
        if day in schedule.working_weekends:
            return True
        return day.weekday() < _SATURDAY

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself never counts); n = 0 gives start."""
        if n < 0:
            raise ValueError(f"working days to add must not be negative, got {n}")
        self._schedule(start)
        day = start
        while n > 0:
            day += _ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def working_day_before(self, end: date, n: int) -> date:
        """The day n working days before `end`: the d with working_days_between(d, end) == n
        that is itself a working day (n = 0 gives end)."""
        if n < 0:
            raise ValueError(f"working days to go back must not be negative, got {n}")
        self._schedule(end)
        day = end
        while n > 0:
            day -= _ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d ≤ b; negative when b is before a.

        It inverts `add_working_days`: working_days_between(s, add_working_days(s, n)) == n.
        """
        if b < a:
            return -self.working_days_between(b, a)
        self._schedule(a)
        self._schedule(b)
        count = 0
        day = a
        while day < b:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count


def _read_zone(path: Path, name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise WorkflowFileError(path, "timezone: name the IANA time zone of the calendar, e.g. Asia/Shanghai")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WorkflowFileError(path, f"timezone: {name!r} is not an IANA time zone") from None


def _read_year(path: Path, year: object, data: object) -> YearSchedule:
    where = f"years.{year}"
    if isinstance(year, bool) or not isinstance(year, int) or not MINYEAR <= year <= MAXYEAR:
        raise WorkflowFileError(path, f"{where}: the key must be a year number")
    if not isinstance(data, dict):
        raise WorkflowFileError(path, f"{where}: must be a mapping")
    unknown = set(data) - {"provisional", "note", "source", "holidays", "working_weekends"}
    if unknown:
        raise WorkflowFileError(path, f"{where}: unknown key(s) {sorted(unknown)}")
    provisional = data.get("provisional")
    if not isinstance(provisional, bool):
        raise WorkflowFileError(path, f"{where}.provisional: must be true or false")
    if provisional and not data.get("note"):
        raise WorkflowFileError(path, f"{where}.note: a provisional year must say why")
    source = data.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("document"), str):
        raise WorkflowFileError(path, f"{where}.source.document: cite the notice or law")

    def in_year(value: Any, field: str) -> date:
        if not isinstance(value, date) or value.year != year:
            raise WorkflowFileError(path, f"{where}.{field}: {value!r} is not a date in {year}")
        return value

    def listed(field: str) -> list[Any]:
        items = data.get(field) or []
        if not isinstance(items, list):
            raise WorkflowFileError(path, f"{where}.{field}: must be a list")
        return items

    holidays: dict[date, str] = {}
    for index, item in enumerate(listed("holidays")):
        field = f"holidays[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise WorkflowFileError(path, f"{where}.{field}: needs `name`, `from` and `to`")
        first, last = in_year(item.get("from"), f"{field}.from"), in_year(item.get("to"), f"{field}.to")
        if last < first:
            raise WorkflowFileError(path, f"{where}.{field}: `to` is before `from`")
        day = first
        while day <= last:
            holidays[day] = item["name"]
            day += _ONE_DAY
    weekends = frozenset(in_year(d, "working_weekends") for d in listed("working_weekends"))
    for day in weekends:
        if day.weekday() < _SATURDAY:
            raise WorkflowFileError(path, f"{where}.working_weekends: {day} is not a Saturday or Sunday")
        if day in holidays:
            raise WorkflowFileError(path, f"{where}.working_weekends: {day} is also a holiday")
    return YearSchedule(
        year=year,
        provisional=provisional,
        source=source["document"],
        holidays=holidays,
        working_weekends=weekends,
    )
