"""Appending to and verifying the bank access log (`bank_access_log`), its own hash chain.

The bank API writes one row per request, refused ones included, in the request's
transaction; the enterprise reads these rows on "谁查询了我的信息".
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session

from portal.db.canonical import to_jsonable
from portal.db.chain import VerifyReport, chain_tail, link_hash, lock_chain, verify_table
from portal.db.tables.banks import BankAccessLog
from portal.db.types import utcnow

ACCESS_LOG_CHAIN_LOCK = 0x706F7274_62616E6B

_TABLE: Table = BankAccessLog.__table__  # type: ignore[attr-defined]
_INSERT = insert(_TABLE)  # Core, as the audit chain: one statement, no ORM unit of work per query

_CONTENT_FIELDS = (
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
# Hashed only when set: rows written before the column existed keep their hashes.
_OPTIONAL_CONTENT_FIELDS = ("benefit_undetermined", "benefit", "call_kind")


def _content(values: Mapping[str, Any]) -> dict[str, object]:
    content = {field: values[field] for field in _CONTENT_FIELDS}
    content.update(
        {field: values[field] for field in _OPTIONAL_CONTENT_FIELDS if values.get(field) is not None}
    )
    return content


def new_query_id() -> str:
    """An opaque id a bank quotes back when it registers a loan."""
    return uuid.uuid4().hex


def append_access(
    session: Session,
    *,
    outcome: str,
    http_status: int,
    bank_id: int | None = None,
    api_key_id: int | None = None,
    uscc_queried: str | None = None,
    enterprise_id: int | None = None,
    product: str | None = None,
    facts_read: Iterable[str] = (),
    loan_facts: Mapping[str, object] | None = None,
    benefit_undetermined: Iterable[str] | None = None,
    benefit: Mapping[str, object] | None = None,
    query_id: str | None = None,
    call_kind: str | None = None,
    at: datetime | None = None,
) -> str:
    """Insert the next access-log row, chained to the last one; returns its query id.

    `at` defaults to the current instant; services pass their own clock so that a pinned day
    (tests, replays) dates the row too. `loan_facts` is stored in its JSON form (Decimals as
    text), the form it is hashed in, so the hash holds after a database round trip.
    `benefit_undetermined` and `benefit` (amounts by name, stored as exact decimal text) are
    given by eligibility checks only (see `BankAccessLog`). `call_kind` names the call the row
    records; the bank API always gives it, and it is hashed only when set, as those two are.
    """
    connection = session.connection()
    lock_chain(connection, ACCESS_LOG_CHAIN_LOCK)
    last_seq, prev_hash = chain_tail(connection, _TABLE)
    values: dict[str, Any] = {
        "seq": last_seq + 1,
        "at": at or utcnow(),
        "bank_id": bank_id,
        "api_key_id": api_key_id,
        "uscc_queried": uscc_queried,
        "enterprise_id": enterprise_id,
        "product": product,
        "outcome": outcome,
        "http_status": http_status,
        "facts_read": sorted(facts_read),
        "loan_facts": None if loan_facts is None else to_jsonable(loan_facts),
        "benefit_undetermined": None if benefit_undetermined is None else list(benefit_undetermined),
        "benefit": None if benefit is None else {name: str(value) for name, value in benefit.items()},
        "query_id": query_id or new_query_id(),
        "call_kind": call_kind,
    }
    chained = {**values, "prev_hash": prev_hash, "hash": link_hash(prev_hash, _content(values))}
    connection.execute(_INSERT, chained)
    return str(values["query_id"])


def verify_access_log(session: Session) -> VerifyReport:
    """Check every access-log row from the first; the report names the first broken link."""
    return verify_table(session, _TABLE, _content)
