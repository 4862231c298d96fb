"""The one source of "now": services, web and CLI ask a `Clock`, never `datetime.now()`.

Deadlines and rule dates are local dates in the pack's city, so the clock carries the pack's
time zone (the calendar file's `timezone:` key). A test, a replay or the demo pins the clock
to a day; everything that asks it then agrees on the date, whatever the real date is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from portal.locales import long_date_time
from portal.settings import Settings
from portal.workflows.working_days import WorkingCalendar

_NOON = time(12)


@dataclass(frozen=True, slots=True)
class Clock:
    """Now and today in one time zone; `pinned` fixes the day (now is then noon of it)."""

    zone: tzinfo
    pinned: date | None = None

    def now(self) -> datetime:
        """The current instant, aware and in UTC."""
        if self.pinned is not None:
            return self.start_of(self.pinned, at=_NOON)
        return self.real_now()

    def real_now(self) -> datetime:
        """The real instant even when the day is pinned: for claims and leases that must run out
        (a crashed sender's claim on an e-mail), never for business dates or deadlines."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date in the pack's time zone."""
        if self.pinned is not None:
            return self.pinned
        return self.local_date(self.now())

    def local(self, moment: datetime) -> datetime:
        """An aware instant as local wall-clock time; naive ones are refused as ambiguous."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment!r} has no time zone; pass an aware datetime")
        return moment.astimezone(self.zone)

    def local_date(self, moment: datetime) -> date:
        """The local calendar date of an aware instant."""
        return self.local(moment).date()

    def in_words(self, moment: datetime, lang: str) -> str:
        """An instant as a reader reads it, in local time: 2026年12月3日 12:00 in Chinese, December
        3, 2026, 12:00 in English; what pages, notifications and e-mails print."""
        return long_date_time(self.local(moment), lang)

    def wall_time(self, moment: datetime) -> str:
        """An instant as local wall-clock time to the minute (2026-12-03 12:00), for outputs that
        programs and spreadsheets read: CSV exports and CLI listings, never a page."""
        return self.local(moment).strftime("%Y-%m-%d %H:%M")

    def zoned_time(self, moment: datetime) -> str:
        """An instant as local wall-clock time with its UTC offset (2026-12-03 12:00 +08:00), for
        the CLI: a terminal may sit in another zone than the pack, so the line says which it is."""
        local = self.local(moment)
        offset = local.strftime("%z")  # +0800 (Python 3.11 has no %:z)
        return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:5]}"

    def start_of(self, day: date, *, at: time = time.min) -> datetime:
        """The instant (UTC) of local `at` o'clock on `day`; midnight by default."""
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def pinned_to(self, day: date | None) -> Clock:
        """The same clock stopped at `day` (None lets it run again)."""
        return Clock(self.zone, day)


def pack_clock(settings: Settings) -> Clock:
    """The clock of the configured pack, for commands that need today but no `Portal`."""
    return Clock(WorkingCalendar.load(settings.calendar_file).zone, settings.today)
