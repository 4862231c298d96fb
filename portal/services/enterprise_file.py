"""一企一档 for staff: one enterprise's profile versions, cases, letters, consents and the banks'
queries, screening hits, files reused across cases, and objections.

Who may read it: the admin, and reviewers of the enterprise's district. Anyone else gets
NotFound, exactly as for a USCC that is not on record, so probing codes reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlmodel import Session, col, select

from portal.db.tables import (
    Application,
    ApplicationAttachment,
    Attachment,
    Bank,
    BankConsent,
    Decision,
    Enterprise,
    EnterpriseProfile,
    Letter,
    Objection,
)
from portal.services.access import DRAFT_STATE
from portal.services.bank_access import AccessEntry, access_entries
from portal.services.context import Portal
from portal.services.errors import NotFound
from portal.services.registered_identity import RegistrationChange, registration_changes
from portal.services.screening import ScreeningHit, hits_for
from portal.workflows import Actor


@dataclass(frozen=True)
class ReusedFile:
    """One of the enterprise's files (by sha256) attached to more than one case.

    `own_cases` are this enterprise's; `other_cases` counts other enterprises' cases holding the
    same bytes (a signal for the reviewer, told as a number: those cases may be out of their sight).
    """

    name: str
    sha256: str
    own_cases: list[int]
    other_cases: int


@dataclass(frozen=True)
class EnterpriseFile:
    """What the page shows; rows are read-only copies, newest first where time matters."""

    enterprise: Enterprise
    profiles: list[EnterpriseProfile]
    applications: list[Application]
    letters: list[tuple[int, Letter]]
    consents: list[tuple[Bank, BankConsent]]
    objections: list[Objection]
    bank_queries: list[AccessEntry]
    screening_hits: list[ScreeningHit]
    reused_files: list[ReusedFile]
    registration_changes: list[RegistrationChange]


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
            select(Bank, BankConsent)
            .join(Bank, col(Bank.id) == col(BankConsent.bank_id))
            .where(BankConsent.enterprise_id == enterprise.id)
            .order_by(col(BankConsent.granted_at).desc())
        ).all()
        objections = session.exec(
            select(Objection).where(col(Objection.application_id).in_(ids)).order_by(col(Objection.filed_at))
        ).all()
        enterprise_id = cast(int, enterprise.id)
        return EnterpriseFile(
            enterprise, list(profiles), list(applications), [(a, letter) for a, letter in letters],
            [(b, c) for b, c in consents], list(objections), access_entries(session, enterprise_id),
            hits_for(session, enterprise_id), _reused_files(session, enterprise_id),
            registration_changes(session, enterprise_id),
        )  # fmt: skip


def _reused_files(session: Session, enterprise_id: int) -> list[ReusedFile]:
    """This enterprise's files whose bytes are attached to more than one case, by anyone."""
    own = select(Attachment.sha256).where(col(Attachment.enterprise_id) == enterprise_id)
    rows = session.exec(
        select(Attachment.sha256, ApplicationAttachment.application_id, Application.enterprise_id)
        .join(ApplicationAttachment, col(ApplicationAttachment.attachment_id) == Attachment.id)
        .join(Application, col(Application.id) == ApplicationAttachment.application_id)
        .where(col(Attachment.sha256).in_(own))
    ).all()
    cases: dict[str, tuple[set[int], set[int]]] = {}
    for sha256, application_id, owner in rows:
        mine, others = cases.setdefault(sha256, (set(), set()))
        (mine if owner == enterprise_id else others).add(application_id)
    names = dict(
        session.exec(
            select(Attachment.sha256, Attachment.original_name).where(
                col(Attachment.enterprise_id) == enterprise_id
            )
        ).all()
    )
    return [
        ReusedFile(names[sha256], sha256, sorted(mine), len(others))
        for sha256, (mine, others) in sorted(cases.items(), key=lambda item: names[item[0]])
        if len(mine) + len(others) > 1
    ]
