"""The one clock: local dates in the pack's time zone, pinned days, and where it is read from."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from portal.clock import Clock, pack_clock
from portal.locales import long_date, long_month
from portal.services.context import Portal
from portal.settings import Settings


def test_today_is_the_packs_local_date() -> None:
    clock = pack_clock(Settings(PORTAL_TODAY=None))
    assert str(clock.zone) == "Asia/Shanghai"  # the Guangzhou pack's calendar says so
    late_utc = datetime(2025, 1, 27, 16, 30, tzinfo=UTC)  # 00:30 on the 28th in Guangzhou
    assert clock.local_date(late_utc) == date(2025, 1, 28)
    assert clock.local_date(late_utc - timedelta(hours=1)) == date(2025, 1, 27)
    assert clock.wall_time(late_utc) == "2025-01-28 00:30"
    assert clock.zoned_time(late_utc) == "2025-01-28 00:30 +08:00"  # the CLI says which zone
    assert clock.in_words(late_utc, "zh") == "2025年1月28日 00:30"
    assert clock.in_words(late_utc, "en") == "January 28, 2025, 00:30"
    with pytest.raises(ValueError, match="time zone"):
        clock.local_date(datetime(2025, 1, 27, 12, 0))


def test_an_instant_in_words_starts_with_the_long_date_of_its_local_day() -> None:
    """Pages print a date alone and an instant side by side: one style per language."""
    clock = pack_clock(Settings())
    evening_utc = datetime(2026, 12, 2, 23, 5, tzinfo=UTC)  # 07:05 on the 3rd in Guangzhou
    for lang in ("zh", "en"):
        assert clock.in_words(evening_utc, lang).startswith(long_date(date(2026, 12, 3), lang))
    assert [long_month(date(2026, 10, 1), lang) for lang in ("zh", "en")] == ["2026年10月", "October 2026"]


def test_a_pinned_clock_is_noon_of_its_day() -> None:
    clock = pack_clock(Settings()).pinned_to(date(2028, 3, 1))
    assert clock.today() == date(2028, 3, 1)
    assert clock.now() == datetime(2028, 3, 1, 4, 0, tzinfo=UTC)
    assert clock.start_of(date(2028, 3, 1)) == datetime(2028, 2, 29, 16, 0, tzinfo=UTC)
    assert clock.pinned_to(None).pinned is None


def test_a_running_clock_reads_the_real_time() -> None:
    clock = Clock(UTC)
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC)


def test_the_test_suite_runs_on_a_pinned_day() -> None:
    """Every app, CLI and Portal built from settings in the suite shares the day of tests/conftest.py."""
    settings = Settings()
    assert settings.today is not None
    portal = Portal.from_settings(settings)
    assert portal.today() == settings.today
    portal.today_override = settings.today + timedelta(days=3)
    assert portal.clock.today() == settings.today + timedelta(days=3)


def test_only_the_clock_reads_the_system_time() -> None:
    """Issue 17 §4: one injectable clock; every other module asks it."""
    root = Path(__file__).parents[1] / "portal"
    reading = re.compile(r"\b(datetime\.now|date\.today|datetime\.utcnow|time\.time)\(")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "clock.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if reading.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []
