"""A decision as the audit chain recorded it, so nobody has to trust the mutable decision row.

The transition that decides a case carries the decision's id, outcome and granted amount in its
audit payload. The public /verify page shows that record (its sequence number and hash with the
outcome and amount it holds), and `portal audit verify` names any decision row that no longer
agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from sqlmodel import Session, col, select

from portal.db.tables import AuditEvent, Decision


@dataclass(frozen=True)
class RecordedDecision:
    """The audit row that recorded a decision, and what it says."""

    seq: int
    hash: str
    outcome: str
    granted_amount: Decimal | None


def decision_record(session: Session, decision_id: int) -> dict[str, object]:
    """What the deciding transition's audit payload says about the decision it stored."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise LookupError(f"decision {decision_id} is not stored")
    return {"id": decision_id, "outcome": decision.outcome, "granted_amount": decision.granted_amount}


def _recorded(event: AuditEvent, decision_id: int) -> RecordedDecision | None:
    record = (event.payload or {}).get("decision")
    if not isinstance(record, dict) or record.get("id") != decision_id:
        return None
    amount = record.get("granted_amount")
    return RecordedDecision(
        seq=event.seq,
        hash=event.hash,
        outcome=str(record.get("outcome")),
        granted_amount=Decimal(str(amount)) if amount is not None else None,
    )


def recorded_decisions(session: Session) -> dict[int, RecordedDecision]:
    """Every decision the chain recorded, by decision id (the first record of each wins)."""
    found: dict[int, RecordedDecision] = {}
    events = session.exec(
        select(AuditEvent).where(col(AuditEvent.subject_type) == "application").order_by(col(AuditEvent.seq))
    )
    for event in events:
        record = (event.payload or {}).get("decision")
        if isinstance(record, dict) and isinstance(record.get("id"), int) and record["id"] not in found:
            found[record["id"]] = cast(RecordedDecision, _recorded(event, record["id"]))
    return found


def recorded_decision(session: Session, decision: Decision) -> RecordedDecision | None:
    """The chain's record of this decision, found among its case's audit rows."""
    events = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.subject_type) == "application")
        .where(col(AuditEvent.subject_id) == str(decision.application_id))
        .order_by(col(AuditEvent.seq))
    )
    for event in events:
        recorded = _recorded(event, decision.id or 0)
        if recorded is not None:
            return recorded
    return None


def disagreements(decision: Decision, recorded: RecordedDecision | None) -> list[str]:
    """How a stored decision differs from the chain's record of it (empty when it agrees)."""
    if recorded is None:
        return [f"decision {decision.id}: no audit event records it"]
    problems = []
    if recorded.outcome != decision.outcome:
        problems.append(
            f"decision {decision.id}: outcome is {decision.outcome!r}, "
            f"the audit chain (row {recorded.seq}) says {recorded.outcome!r}"
        )
    stored = Decimal(decision.granted_amount) if decision.granted_amount is not None else None
    if stored != recorded.granted_amount:
        problems.append(
            f"decision {decision.id}: granted amount is {stored}, "
            f"the audit chain (row {recorded.seq}) says {recorded.granted_amount}"
        )
    return problems
