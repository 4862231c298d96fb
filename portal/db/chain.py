"""Hash chains shared by the audit log and the bank access log.

Each row stores `hash = sha256(prev_hash + canonical JSON of its content)` and a gap-free
`seq`. Editing a row breaks its own hash; deleting one leaves a gap in `seq`; rewriting a
row's hash breaks the next row's `prev_hash`. Rewriting the whole tail is only caught by
comparing `head_hash` with a copy kept elsewhere, which is why the report carries it.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, Table, select, text
from sqlmodel import Session

from portal.db.canonical import canonical_json, sha256_hex

GENESIS_HASH = "0" * 64

# Rows arrive as SQLAlchemy RowMappings, typed Mapping[Any, Any].
ContentOf = Callable[[Mapping[Any, Any]], Mapping[str, object]]
RowProblem = Callable[[Mapping[Any, Any]], str | None]


@dataclass(frozen=True)
class VerifyReport:
    """The result of walking one chain from its first row."""

    chain: str
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str | None
    head_hash: str


def link_hash(prev_hash: str, content: Mapping[str, object]) -> str:
    return sha256_hex(prev_hash + canonical_json(content))


def lock_chain(connection: Connection, lock_key: int) -> None:
    """Serialise appenders to one chain until the transaction ends.

    PostgreSQL: a transaction-level advisory lock, released by COMMIT or ROLLBACK.
    SQLite: nothing to do, every transaction already holds the write lock (BEGIN IMMEDIATE).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"key": lock_key})


_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


@cache
def _tail_query(table: Table) -> Select[tuple[int, str]]:
    """Built once per chain: a statement object keeps its cache key, a new one computes it again."""
    return select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)


def chain_tail(connection: Connection, table: Table) -> tuple[int, str]:
    """The last (seq, hash), or (0, GENESIS_HASH) for an empty chain; call after lock_chain."""
    row = connection.execute(_tail_query(table)).first()
    if row is None:
        return 0, GENESIS_HASH
    return int(row.seq), str(row.hash)


def verify_table(
    session: Session,
    table: Table,
    content_of: ContentOf,
    row_problem: RowProblem | None = None,
) -> VerifyReport:
    """Walk `table` in seq order and report the first link that does not hold.

    Rows are read as plain column values, never through the ORM identity map, so the check
    sees what is stored and not what this session may hold in memory.
    """
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0

    def broken(seq: int, reason: str) -> VerifyReport:
        return VerifyReport(table.name, False, checked, seq, reason, prev_hash)

    query = select(table).order_by(table.c.seq).execution_options(yield_per=1000)
    result = session.execute(query).mappings()
    try:
        for row in result:
            seq = int(row["seq"])
            if seq != expected_seq:
                return broken(expected_seq, f"row {expected_seq} is missing (the next row is {seq})")
            if row["prev_hash"] != prev_hash:
                return broken(seq, "prev_hash differs from the previous row's hash")
            problem = row_problem(row) if row_problem is not None else None
            if problem is not None:
                return broken(seq, problem)
            if link_hash(prev_hash, content_of(row)) != row["hash"]:
                return broken(seq, "the row's content does not match its hash (edited)")
            prev_hash, expected_seq, checked = str(row["hash"]), expected_seq + 1, checked + 1
    finally:
        result.close()
    return VerifyReport(table.name, True, checked, None, None, prev_hash)
