"""The working tables checked against the audit chain: what they say must be what was recorded.

The chain proves its own rows; this proves the mutable tables the portal acts on. A row edited
behind the services' back (a case's stage set by hand, a transition deleted, a role raised, a
consent's products widened or its revocation undone, a decision's outcome or amount changed)
no longer agrees with the audit events that recorded it, and each mismatch is named. Run it after
`verify_chain`: it trusts the chain.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

from sqlmodel import Session, col, select

from portal.db.canonical import to_jsonable
from portal.db.tables import Application, AuditEvent, BankConsent, Decision, Transition, User
from portal.services.decision_records import disagreements, recorded_decisions


def crosscheck(session: Session) -> list[str]:
    """Every disagreement between the working tables and the audit chain, described."""
    events = list(session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))))
    return [
        *_case_states(session, events),
        *_transitions(session, events),
        *_roles(session, events),
        *_consents(session, events),
        *_decisions(session),
    ]


def _case_states(session: Session, events: list[AuditEvent]) -> list[str]:
    recorded: dict[str, str] = {}
    for event in events:
        if event.subject_type == "application" and event.to_state is not None:
            recorded[event.subject_id] = event.to_state
    problems = []
    for application in session.exec(select(Application)):
        stated = recorded.get(str(application.id))
        if stated != application.state:
            problems.append(
                f"application {application.id}: state is {application.state!r}, "
                f"the audit chain says {stated!r}"
            )
    return problems


def _transitions(session: Session, events: list[AuditEvent]) -> list[str]:
    # A workflow transition is audited with its workflow in the payload; same-stage edits are not.
    audited = Counter(
        (e.subject_id, e.event, str(e.from_state), str(e.to_state))
        for e in events
        if e.subject_type == "application" and isinstance(e.payload, dict) and "workflow" in e.payload
    )
    stored = Counter(
        (str(t.application_id), t.event, t.from_state, t.to_state) for t in session.exec(select(Transition))
    )
    problems = []
    for key in sorted((audited - stored) | (stored - audited)):
        application_id, event, source, target = key
        difference = audited[key] - stored[key]
        where = "missing from the transition table" if difference > 0 else "not in the audit chain"
        problems.append(
            f"application {application_id}: transition {event} {source} → {target} is {where} "
            f"({abs(difference)}×)"
        )
    return problems


# Enterprise events that create an enterprise account: a registration, or a claim to a code
# already held (the claimant's account is made inactive until the claim is decided).
_ACCOUNT_EVENTS = ("register", "claim_filed")


def _roles(session: Session, events: list[AuditEvent]) -> list[str]:
    recorded: dict[str, Any] = {}
    for event in events:
        if event.subject_type == "user" and event.event == "user_created" and event.payload:
            recorded[event.subject_id] = event.payload.get("role")
        elif event.subject_type == "enterprise" and event.event in _ACCOUNT_EVENTS and event.payload:
            recorded[f"username:{event.payload.get('username')}"] = "enterprise"
    problems = []
    for user in session.exec(select(User)):
        stated = recorded.get(str(user.id), recorded.get(f"username:{user.username}"))
        if stated is not None and stated != user.role:
            problems.append(f"user {user.id}: role is {user.role!r}, the audit chain says {stated!r}")
        elif stated is None:
            problems.append(f"user {user.id}: no audit event records how the account was created")
    return problems


def _consents(session: Session, events: list[AuditEvent]) -> list[str]:
    granted: dict[int, dict[str, Any]] = {}
    revoked: set[int] = set()
    for event in events:
        payload = event.payload or {}
        if event.event == "bank_consent_granted":
            granted[int(payload["consent_id"])] = payload
        elif event.event == "bank_consent_revoked":
            revoked.add(int(payload["consent_id"]))
    problems = []
    for consent in session.exec(select(BankConsent)):
        assert consent.id is not None
        record = granted.get(consent.id)
        if record is None:
            problems.append(f"bank consent {consent.id}: not granted in the audit chain")
            continue
        if sorted(record.get("products", [])) != sorted(consent.products) or record.get(
            "expires_on"
        ) != to_jsonable(consent.expires_on):
            problems.append(f"bank consent {consent.id}: products or expiry differ from the audit chain")
        if (consent.revoked_at is not None) != (consent.id in revoked):
            problems.append(f"bank consent {consent.id}: revocation differs from the audit chain")
    return problems


def _decisions(session: Session) -> list[str]:
    recorded = recorded_decisions(session)
    problems: list[str] = []
    for decision in session.exec(select(Decision).order_by(col(Decision.id))):
        problems.extend(disagreements(decision, recorded.get(cast(int, decision.id))))
    return problems
