"""Appending to and verifying the audit log (`audit_event`).

Services call `append_audit` inside the same transaction as the change it records, so
the state and its audit row are committed together or not at all.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlmodel import Session

from portal.db.canonical import canonical_json, sha256_hex, to_jsonable
from portal.db.chain import VerifyReport, chain_tail, link_hash, lock_chain, verify_table
from portal.db.tables.audit import AuditEvent
from portal.db.types import utcnow

# Where a session carries the clock its use case runs on (`Portal.transaction` puts it there).
CLOCK_KEY = "portal.clock"

# pg_advisory_xact_lock key of the audit chain; any constant no other code uses.
AUDIT_CHAIN_LOCK = 0x706F7274_61756431

# The hashed content of a row, besides prev_hash. The payload enters through its hash.
_TABLE: Table = AuditEvent.__table__  # type: ignore[attr-defined]
# Built once: a statement object keeps its cache key, a new one per row would compute it again.
_INSERT = insert(_TABLE)

_CONTENT_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "subject_type",
    "subject_id",
    "event",
    "from_state",
    "to_state",
    "comment",
    "payload_hash",
)


def session_now(session: Session) -> datetime:
    """Now on the clock the session carries, for rows written without a `Portal` at hand (audit
    rows, notifications); a session opened elsewhere falls back to the real time."""
    clock = session.info.get(CLOCK_KEY)
    return clock.now() if clock is not None else utcnow()


def hashed_content(values: Mapping[str, Any]) -> dict[str, object]:
    """The part of an audit row that its hash covers (with prev_hash in front)."""
    return {field: values[field] for field in _CONTENT_FIELDS}


def payload_hash(payload: object) -> str:
    return sha256_hex(canonical_json(payload))


def append_audit(
    session: Session,
    *,
    actor_id: int | None,
    actor_role: str,
    subject_type: str,
    subject_id: str | int,
    event: str,
    from_state: str | None = None,
    to_state: str | None = None,
    comment: str | None = None,
    payload: Mapping[str, object] | None = None,
) -> None:
    """Flush what the use case changed, then insert the next audit row, chained to the last one.

    The payload is stored in its canonical JSON form (Decimals as strings); a float or
    another value without an exact JSON form raises `NotStorableError`.
    """
    stored_payload = cast(dict[str, Any] | None, to_jsonable(payload))
    session.flush()
    connection = session.connection()
    lock_chain(connection, AUDIT_CHAIN_LOCK)
    last_seq, prev_hash = chain_tail(connection, _TABLE)
    values: dict[str, Any] = {
        "seq": last_seq + 1,
        "at": session_now(session),
        "actor_id": actor_id,
        "actor_role": actor_role,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "event": event,
        "from_state": from_state,
        "to_state": to_state,
        "comment": comment,
        "payload_hash": payload_hash(stored_payload),
    }
    row_hash = link_hash(prev_hash, hashed_content(values))
    connection.execute(
        _INSERT, {**values, "payload": stored_payload, "prev_hash": prev_hash, "hash": row_hash}
    )


def _payload_problem(row: Mapping[str, Any]) -> str | None:
    if payload_hash(row["payload"]) != row["payload_hash"]:
        return "the stored payload does not match payload_hash (edited)"
    return None


def verify_chain(session: Session) -> VerifyReport:
    """Check every audit row from the first; the report names the first broken link."""
    return verify_table(session, _TABLE, hashed_content, _payload_problem)
