"""一企一档 for staff: one enterprise's profile versions, cases, letters, consents and objections.

Who may read it: the admin, and reviewers of the enterprise's district. Anyone else gets
NotFound, exactly as for a USCC that is not on record, so probing codes reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from portal.db.tables import (
    Application,
    Bank,
    BankConsent,
    Decision,
    Enterprise,
    EnterpriseProfile,
    Letter,
    Objection,
)
from portal.services.access import DRAFT_STATE
from portal.services.context import Portal
from portal.services.errors import NotFound
from portal.workflows import Actor


@dataclass(frozen=True)
class EnterpriseFile:
    """What the page shows; rows are read-only copies, newest first where time matters."""

    enterprise: Enterprise
    profiles: list[EnterpriseProfile]
    applications: list[Application]
    letters: list[tuple[int, Letter]]
    consents: list[tuple[str, BankConsent]]
    objections: list[Objection]


def _may_read(actor: Actor, enterprise: Enterprise) -> bool:
    return actor.role == "admin" or (actor.role == "reviewer" and actor.district == enterprise.district)


def enterprise_file(portal: Portal, actor: Actor, uscc: str) -> EnterpriseFile:
    """The file of the enterprise with this USCC, if this actor may read it; else NotFound."""
    with portal.reading() as session:
        enterprise = session.exec(select(Enterprise).where(Enterprise.uscc == uscc.upper())).first()
        if enterprise is None or not _may_read(actor, enterprise):
            raise NotFound("enterprise", uscc)
        profiles = session.exec(
            select(EnterpriseProfile)
            .where(EnterpriseProfile.enterprise_id == enterprise.id)
            .order_by(col(EnterpriseProfile.version).desc())
        ).all()
        applications = session.exec(
            select(Application)
            .where(Application.enterprise_id == enterprise.id, Application.state != DRAFT_STATE)
            .order_by(col(Application.id).desc())
        ).all()
        ids = [a.id for a in applications]
        letters = session.exec(
            select(Decision.application_id, Letter)
            .join(Letter, col(Letter.decision_id) == col(Decision.id))
            .where(col(Decision.application_id).in_(ids))
            .order_by(col(Letter.issued_at).desc())
        ).all()
        consents = session.exec(
            select(Bank.name, BankConsent)
            .join(Bank, col(Bank.id) == col(BankConsent.bank_id))
            .where(BankConsent.enterprise_id == enterprise.id)
            .order_by(col(BankConsent.granted_at).desc())
        ).all()
        objections = session.exec(
            select(Objection).where(col(Objection.application_id).in_(ids)).order_by(col(Objection.filed_at))
        ).all()
        return EnterpriseFile(
            enterprise, list(profiles), list(applications), [(a, letter) for a, letter in letters],
            [(n, c) for n, c in consents], list(objections),
        )  # fmt: skip
