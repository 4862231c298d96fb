"""An enterprise's consents: which bank may check it for which products, until when.

A consent runs from the day it is granted through `expires_on` (inclusive) unless revoked
earlier. Revoking never deletes: the row keeps `revoked_at`, so the history of who was
allowed what stays readable next to the access log.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from portal.db.tables import Bank, BankConsent, Enterprise
from portal.services.context import Portal
from portal.services.enterprises import audit_enterprise
from portal.services.errors import FieldProblem, Forbidden, NotFound, Refused, ValidationFailed
from portal.services.verified import require_verified
from portal.workflows import Actor

DEFAULT_CONSENT_DAYS = 90
MAX_CONSENT_DAYS = 366


@dataclass(frozen=True)
class ConsentView:
    id: int
    bank_code: str
    bank_name: str
    bank_name_en: str | None
    products: list[str]
    granted_at: datetime
    expires_on: date
    revoked_at: datetime | None
    current: bool


def _enterprise_of(actor: Actor) -> int:
    if actor.role != "enterprise" or actor.enterprise_id is None:
        raise Forbidden("仅企业用户可以管理授权", "only the enterprise's users may manage its consents")
    return actor.enterprise_id


def is_current(consent: BankConsent, today: date) -> bool:
    return consent.revoked_at is None and today <= consent.expires_on


# Built once: every bank request runs it (building a statement cost more than running it).
_LIVE_CONSENTS = (
    select(BankConsent.products)
    .join(Enterprise, col(Enterprise.id) == col(BankConsent.enterprise_id))
    .where(col(Enterprise.verified_at).is_not(None))
    .where(col(BankConsent.enterprise_id) == bindparam("enterprise_id"))
    .where(col(BankConsent.bank_id) == bindparam("bank_id"))
    .where(col(BankConsent.revoked_at).is_(None))
    .where(col(BankConsent.expires_on) >= bindparam("today"))
)


def has_live_consent(
    session: Session, *, enterprise_id: int, bank_id: int, product: str, today: date
) -> bool:
    """Whether a live consent of a verified enterprise lets this bank check `product`.

    An unverified enterprise has none: banks are answered as if it had never consented.
    """
    params = {"enterprise_id": enterprise_id, "bank_id": bank_id, "today": today}
    # `products` is a JSON list; filtering it in Python keeps the query the same on both databases.
    return any(
        product in products for products in session.connection().execute(_LIVE_CONSENTS, params).scalars()
    )


def grant_consent(
    portal: Portal, actor: Actor, *, bank_code: str, products: Iterable[str], days: int = DEFAULT_CONSENT_DAYS
) -> BankConsent:
    """Let bank `bank_code` check this enterprise for `products` for `days` days, today included."""
    enterprise_id = _enterprise_of(actor)
    chosen = sorted(set(products))
    problems = []
    if not chosen:
        problems.append(FieldProblem("products", "choose at least one product", "required"))
    unknown = [p for p in chosen if p not in portal.city.banking.products]
    if unknown:
        problems.append(
            FieldProblem("products", f"unknown product(s): {', '.join(unknown)}", "unknown_product")
        )
    if not 1 <= days <= MAX_CONSENT_DAYS:
        problems.append(
            FieldProblem("days", f"between 1 and {MAX_CONSENT_DAYS} days", "days", {"max": MAX_CONSENT_DAYS})
        )
    with portal.transaction() as session:
        require_verified(session, enterprise_id)  # first: an unverified enterprise is told what to do
        if problems:
            raise ValidationFailed(problems)
        bank = session.exec(select(Bank).where(col(Bank.code) == bank_code).where(col(Bank.active))).first()
        if bank is None:
            raise ValidationFailed(
                [FieldProblem("bank", f"{bank_code!r} is not a partner bank", "unknown_bank")]
            )
        consent = BankConsent(
            enterprise_id=enterprise_id,
            bank_id=cast(int, bank.id),
            products=chosen,
            granted_at=portal.now(),
            expires_on=portal.today() + timedelta(days=days - 1),
            granted_by=actor.user_id,
        )
        session.add(consent)
        session.flush()
        audit_enterprise(
            session,
            actor,
            enterprise_id,
            "bank_consent_granted",
            {
                "consent_id": consent.id,
                "bank": bank.code,
                "products": chosen,
                "expires_on": consent.expires_on,
            },
        )
        return consent


def revoke_consent(portal: Portal, actor: Actor, consent_id: int) -> BankConsent:
    """End a consent now; another enterprise's consent is NotFound, as if it did not exist."""
    enterprise_id = _enterprise_of(actor)
    with portal.transaction() as session:
        consent = session.get(BankConsent, consent_id)
        if consent is None or consent.enterprise_id != enterprise_id:
            raise NotFound("consent", consent_id)
        if consent.revoked_at is not None:
            raise Refused("already_revoked", "该授权已撤销", "the consent was already revoked")
        consent.revoked_at = portal.now()
        session.add(consent)
        audit_enterprise(session, actor, enterprise_id, "bank_consent_revoked", {"consent_id": consent_id})
        return consent


def consents_for(portal: Portal, actor: Actor) -> list[ConsentView]:
    """The enterprise's consents, newest first, each marked current or not as of today."""
    enterprise_id = _enterprise_of(actor)
    today = portal.today()
    with portal.reading() as session:
        rows = session.exec(
            select(BankConsent, Bank)
            .join(Bank, col(Bank.id) == BankConsent.bank_id)
            .where(col(BankConsent.enterprise_id) == enterprise_id)
            .order_by(col(BankConsent.granted_at).desc(), col(BankConsent.id).desc())
        ).all()
    return [
        ConsentView(
            id=cast(int, c.id),
            bank_code=b.code,
            bank_name=b.name,
            bank_name_en=b.name_en,
            products=list(c.products),
            granted_at=c.granted_at,
            expires_on=c.expires_on,
            revoked_at=c.revoked_at,
            current=is_current(c, today),
        )
        for c, b in rows
    ]
