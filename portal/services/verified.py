"""The gate of verified enterprises: what an unverified one is refused, and how one becomes verified.

Kept apart from `verification` (the papers' workflow) so that the use cases it guards (submit,
consent) can import it without importing uploads.
"""

from typing import cast

from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import Enterprise
from portal.messages import catalogue
from portal.services.context import Portal
from portal.services.errors import NotFound, Refused
from portal.workflows import Actor

# The code of the refusal below, by which a page adds its link to the verification page.
UNVERIFIED = "enterprise_unverified"


def unverified() -> Refused:
    """The refusal of an unverified enterprise; it names the verification page as the menu does."""
    page = catalogue()["nav.verification"]
    return Refused(
        UNVERIFIED,
        f"企业身份尚未核验：请先在“{page['zh']}”页面上传营业执照和授权书，核验通过后即可提交申报、授权银行查询。",
        "Your enterprise is not verified yet: upload the business licence and the authorisation letter "
        f"on the {page['en']} page; once verified you can submit applications and grant banks consent.",
    )


def require_verified(session: Session, enterprise_id: int) -> None:
    """Refuse what only a verified enterprise may do (submit, consent)."""
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None or enterprise.verified_at is None:
        raise unverified()


def mark_verified(
    session: Session, portal: Portal, enterprise: Enterprise, via: str, actor: Actor | None
) -> None:
    """Record that the enterprise is verified, and how; audited. A verified one stays as it was."""
    if enterprise.verified_at is not None:
        return
    enterprise.verified_at = portal.now()
    enterprise.verified_via = via
    session.add(enterprise)
    append_audit(
        session,
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role if actor else "system",
        subject_type="enterprise",
        subject_id=cast(int, enterprise.id),
        event="enterprise_verified",
        payload={"via": via},
    )


def is_verified(portal: Portal, enterprise_id: int) -> bool:
    """Whether the enterprise is verified (its pages say what to do when it is not)."""
    with portal.reading() as session:
        enterprise = session.get(Enterprise, enterprise_id)
        return enterprise is not None and enterprise.verified_at is not None


def verify_enterprise(portal: Portal, uscc: str) -> Enterprise:
    """Verify an enterprise out of band (`portal enterprises verify`, and the tests' fixtures)."""
    with portal.transaction() as session:
        enterprise = session.exec(select(Enterprise).where(col(Enterprise.uscc) == uscc)).first()
        if enterprise is None:
            raise NotFound("enterprise", uscc)
        mark_verified(session, portal, enterprise, "admin", None)
        return enterprise
