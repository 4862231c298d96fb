"""Document numbers (发文字号) such as 穗科〔2026〕12号, from a gap-free per-unit, per-year counter."""

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from portal.db.tables import DocNumberCounter

_COUNTER: Table = DocNumberCounter.__table__  # type: ignore[attr-defined]

# The agency abbreviations (机关代字) used on documents; a unit missing here prints its
# code, which a reviewer will notice on the first letter rather than a wrong agency name.
AGENCY_ABBREVIATIONS: dict[str, str] = {
    "gzsti": "穗科",
    "gzmiit": "穗工信",
    "gzfin": "穗金管",
    "gzczj": "穗财",
    "gzhrss": "穗人社",
    "gztax": "穗税",
    "gzip": "穗市监",
    "gzdev": "穗发改",
    "gzzwsj": "穗政数",
    "gzorg": "穗人才",
    "hzkgxj": "海科工商信",
}


def next_doc_number(session: Session, unit: str, year: int) -> str:
    """Take the next number for `unit` in `year`, inside the caller's transaction.

    The UPDATE locks the counter row until the letter commits, so two letters can never
    share a number, and a rolled-back letter gives its number back (no gaps).
    """
    step = (
        update(_COUNTER)
        .where(_COUNTER.c.unit == unit, _COUNTER.c.year == year)
        .values(last=_COUNTER.c.last + 1)
        .returning(_COUNTER.c.last)
    )
    number = session.execute(step).scalar_one_or_none()
    if number is None:
        try:
            with session.begin_nested():
                session.execute(insert(_COUNTER).values(unit=unit, year=year, last=1))
            number = 1
        except IntegrityError:
            # Another letter created the row first; take the next number after theirs.
            number = session.execute(step).scalar_one()
    prefix = AGENCY_ABBREVIATIONS.get(unit, unit)
    return f"{prefix}〔{year}〕{number}号"


def last_doc_number(session: Session, unit: str, year: int) -> int:
    """The last number issued (0 if none), for reports and tests."""
    value = session.execute(
        select(_COUNTER.c.last).where(_COUNTER.c.unit == unit, _COUNTER.c.year == year)
    ).scalar_one_or_none()
    return int(value or 0)
