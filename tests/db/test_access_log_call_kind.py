"""0028: the bank access log names each row's call (`call_kind`) and hashes it into its chain.

Rows written before the column existed keep their hashes, which never covered it, and still
verify after the upgrade; a new row's call is covered, so rewriting it (or erasing it) breaks
the chain at that row.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from portal.db import migrations
from portal.db.access_log import append_access, verify_access_log
from portal.db.chain import GENESIS_HASH, link_hash
from portal.db.engine import make_engine
from portal.db.tables import BankAccessLog
from tests.db.tampering import tamper

TABLE = BankAccessLog.__table__  # type: ignore[attr-defined]
# What a row's hash covered up to 0027 (db/access_log.py then), written out here so that a change
# to today's hashing cannot pass for the old one.
HASHED_BEFORE_0028 = (
    "seq",
    "at",
    "bank_id",
    "api_key_id",
    "uscc_queried",
    "enterprise_id",
    "product",
    "outcome",
    "http_status",
    "facts_read",
    "loan_facts",
    "query_id",
)


def _old_rows() -> list[dict[str, object]]:
    """Two refusals as 0027 wrote them: no key (401), then no consent (403)."""
    rows, prev = [], GENESIS_HASH
    for seq, (outcome, status) in enumerate((("unauthorized", 401), ("no_consent", 403)), start=1):
        values: dict[str, object] = {
            "seq": seq,
            "at": datetime(2026, 12, 1, 2, seq, tzinfo=UTC),
            "bank_id": None,
            "api_key_id": None,
            "uscc_queried": None,
            "enterprise_id": None,
            "product": None,
            "outcome": outcome,
            "http_status": status,
            "facts_read": [],
            "loan_facts": None,
            "query_id": f"old{seq}",
        }
        hashed = link_hash(prev, {field: values[field] for field in HASHED_BEFORE_0028})
        rows.append({**values, "prev_hash": prev, "hash": hashed})
        prev = hashed
    return rows


@pytest.fixture
def upgraded_over_old_rows(db_url: str) -> Engine:
    """A database at 0027 holding two access-log rows, then upgraded to the head."""
    migrations.upgrade(db_url, "0027_notice_number")
    engine = make_engine(db_url, pooled=False)
    with engine.begin() as connection:
        connection.execute(insert(TABLE), _old_rows())
    migrations.upgrade(db_url)
    return engine


def test_rows_from_before_0028_verify_unchanged_and_name_no_call(upgraded_over_old_rows: Engine) -> None:
    engine = upgraded_over_old_rows
    try:
        with Session(engine) as session:
            report = verify_access_log(session)
            assert (report.ok, report.checked) == (True, 2)
            assert report.head_hash == _old_rows()[-1]["hash"]
            assert session.exec(select(col(BankAccessLog.call_kind))).all() == [None, None]
            append_access(session, outcome="unauthorized", http_status=401, call_kind="loan_status")
            session.commit()
            report = verify_access_log(session)
            assert (report.ok, report.checked) == (True, 3)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("seq", "sql"),
    [
        (3, "UPDATE bank_access_log SET call_kind = 'eligibility' WHERE seq = 3"),  # rewritten
        (3, "UPDATE bank_access_log SET call_kind = NULL WHERE seq = 3"),  # erased
        (1, "UPDATE bank_access_log SET call_kind = 'eligibility' WHERE seq = 1"),  # added to an old row
    ],
)
def test_a_rows_call_is_covered_by_its_hash(upgraded_over_old_rows: Engine, seq: int, sql: str) -> None:
    engine = upgraded_over_old_rows
    try:
        with Session(engine) as session:
            append_access(session, outcome="unauthorized", http_status=401, call_kind="loan_status")
            session.commit()
        tamper(engine, sql)
        with Session(engine) as session:
            report = verify_access_log(session)
        assert (report.ok, report.first_broken_seq) == (False, seq)
        assert report.reason == "the row's content does not match its hash (edited)"
    finally:
        engine.dispose()
