"""SQL building blocks of the supervision dashboard: the period, local dates and working days.

The dashboard aggregates in the database and never loads case rows, so what Python usually
does per row (an instant's local date, the working days between two dates) is done in SQL
here, the same way on SQLite and PostgreSQL:

- a local date is `AT TIME ZONE` on PostgreSQL; SQLite has no zone database, so its UTC text
  is shifted by the zone's offset, one offset per stretch between the zone's transitions
  (a single stretch for a zone without daylight saving, as every Chinese city's);
- working days come from the pack's calendar as an ordinal per day (working days since the
  calendar's first day: an integer array on PostgreSQL, a VALUES table on SQLite), so the working
  days between two dates are the difference of their ordinals — what
  `WorkingCalendar.working_days_between` gives, without a per-row Python loop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Date, Integer, String, case, cast, column, func, literal, literal_column, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE

from portal.db.types import UTCDateTime
from portal.workflows import WorkingCalendar


@dataclass(frozen=True)
class Period:
    """Inclusive local dates, and the UTC instants that bound them (`end_at` is exclusive)."""

    start: dt.date
    end: dt.date
    start_at: dt.datetime
    end_at: dt.datetime

    def holds(self, instant: ColumnElement[dt.datetime]) -> ColumnElement[bool]:
        """`instant` falls in the period (index-friendly: the column is compared as stored)."""
        return (instant >= literal(self.start_at, UTCDateTime)) & (
            instant < literal(self.end_at, UTCDateTime)
        )


def period_of(start: dt.date, end: dt.date, zone: dt.tzinfo) -> Period:
    """The period from `start` to `end` inclusive, in the pack's time zone."""

    def at(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)

    return Period(start, end, at(start), at(end + dt.timedelta(days=1)))


@cache
def _offsets(zone: dt.tzinfo, first: dt.date, last: dt.date) -> list[tuple[dt.datetime | None, int]]:
    """(until, offset in minutes) stretches of the zone's UTC offset over the years covered; the
    last stretch has no end. Stepping by hours finds every change, which happen on the hour."""
    moment = dt.datetime.combine(first - dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    stop = dt.datetime.combine(last + dt.timedelta(days=2), dt.time.min, tzinfo=dt.UTC)

    def minutes(at: dt.datetime) -> int:
        offset = at.astimezone(zone).utcoffset()
        return int(offset.total_seconds() // 60) if offset is not None else 0

    stretches: list[tuple[dt.datetime | None, int]] = []
    current = minutes(moment)
    while moment < stop:
        moment += dt.timedelta(hours=1)
        now = minutes(moment)
        if now != current:
            stretches.append((moment, current))
            current = now
    stretches.append((None, current))
    return stretches


def local_date(
    instant: ColumnElement[dt.datetime], dialect: str, calendar: WorkingCalendar
) -> ColumnElement[dt.date]:
    """The local calendar date of a stored UTC instant, as a date (PostgreSQL) or ISO text (SQLite)."""
    zone_name = str(calendar.zone)
    if dialect == "postgresql":
        return cast(func.timezone(zone_name, instant), Date)
    stretches = _offsets(calendar.zone, calendar.first_day, calendar.last_day)

    def shifted(minutes: int) -> ColumnElement[dt.date]:
        return func.date(instant, f"{minutes:+d} minutes")

    if len(stretches) == 1:
        return shifted(stretches[0][1])
    whens = [
        (instant < literal(until, UTCDateTime), shifted(m)) for until, m in stretches if until is not None
    ]
    return case(*whens, else_=shifted(stretches[-1][1]))


def month_of(day: ColumnElement[dt.date]) -> ColumnElement[str]:
    """`YYYY-MM` of a local date (either dialect's form of it)."""
    return func.substr(cast(day, String), 1, 7)


@cache
def _ordinals(calendar: WorkingCalendar) -> tuple[tuple[dt.date, int], ...]:
    """(day, working days since the calendar's first day) for every day the calendar covers."""
    ordinal, rows, day = 0, [], calendar.first_day
    while day <= calendar.last_day:
        if day != calendar.first_day and calendar.is_working_day(day):
            ordinal += 1
        rows.append((day, ordinal))
        day += dt.timedelta(days=1)
    return tuple(rows)


@cache
def _ordinal_text(calendar: WorkingCalendar, dialect: str) -> str:
    """The ordinals as one SQL literal, built once: bound as thousands of parameters, SQLAlchemy
    would spend longer compiling the query than the database running it. PostgreSQL gets an
    integer array (indexed by day number, so no join the planner could misjudge); SQLite a VALUES
    table (joined on the date through an automatic index). Only dates and integers made here from
    the calendar file go into the text, never input."""
    rows = _ordinals(calendar)
    if dialect == "postgresql":
        return "('{" + ",".join(str(n) for _, n in rows) + "}'::integer[])"
    values = ", ".join(f"('{day.isoformat()}', {n})" for day, n in rows)
    return f"SELECT column1 AS day, column2 AS ordinal FROM (VALUES {values}) AS workday"  # noqa: S608


@dataclass(frozen=True)
class WorkingDays:
    """Working days between two local dates as SQL: the expression, the joins it needs and the
    condition that both dates lie within the calendar (a span outside it is left out)."""

    days: ColumnElement[int]
    joins: tuple[tuple[CTE, ColumnElement[bool]], ...]
    known: ColumnElement[bool]


def working_days(
    start: ColumnElement[dt.date], end: ColumnElement[dt.date], calendar: WorkingCalendar, dialect: str
) -> WorkingDays:
    """`ordinal(end) - ordinal(start)`: the working days d with start < d <= end, as the calendar counts."""
    if dialect == "postgresql":
        ordinals = literal_column(_ordinal_text(calendar, dialect), ARRAY(Integer))
        first: ColumnElement[dt.date] = literal_column(f"DATE '{calendar.first_day.isoformat()}'", Date)
        begin, finish = ordinals[cast(start - first, Integer) + 1], ordinals[cast(end - first, Integer) + 1]
        return WorkingDays(finish - begin, (), begin.is_not(None) & finish.is_not(None))
    rows = text(_ordinal_text(calendar, dialect)).columns(column("day", Date), column("ordinal", Integer))
    low, high = rows.cte("wd_from"), rows.cte("wd_to")
    joins = ((low, low.c.day == start), (high, high.c.day == end))
    return WorkingDays(high.c.ordinal - low.c.ordinal, joins, true())
