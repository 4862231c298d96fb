"""Document numbers (发文字号) such as 穗科〔2026〕12号, from a gap-free per-unit, per-year counter.

The prefix is the unit's 发文机关代字 (`abbr` in the pack's units.yaml); the counter is kept
per unit code, so renaming an abbreviation does not restart a year's numbering. Another kind of
numbered document keeps its own counter by naming a `series`: public notices (公示编号) take
theirs from series `notice`, prefixed with the unit's abbreviation and the pack's notice mark
(穗科公示〔2026〕3号), so a notice never uses up a letter's number.
"""

from sqlalchemy import Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from portal.db.tables import DocNumberCounter

NOTICE_SERIES = "notice"
"""The counter series of public notice numbers (公示编号)."""

_COUNTER: Table = DocNumberCounter.__table__  # type: ignore[attr-defined]


def next_doc_number(session: Session, unit: str, year: int, *, abbr: str, series: str = "") -> str:
    """Take the next number for `unit` in `year`, inside the caller's transaction, as `abbr〔year〕N号`.

    `series` names a counter of the unit's other than its letters' (kept in the same table under
    the key `unit:series`).

    The UPDATE locks the counter row until the letter commits, so two letters can never
    share a number, and a rolled-back letter gives its number back (no gaps).
    """
    key = f"{unit}:{series}" if series else unit
    step = (
        update(_COUNTER)
        .where(_COUNTER.c.unit == key, _COUNTER.c.year == year)
        .values(last=_COUNTER.c.last + 1)
        .returning(_COUNTER.c.last)
    )
    number = session.execute(step).scalar_one_or_none()
    if number is None:
        try:
            with session.begin_nested():
                session.execute(insert(_COUNTER).values(unit=key, year=year, last=1))
            number = 1
        except IntegrityError:
            # Another letter created the row first; take the next number after theirs.
            number = session.execute(step).scalar_one()
    return f"{abbr}〔{year}〕{number}号"
