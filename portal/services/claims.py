"""Claims to act for an enterprise that already has an account: decided by its users or its district.

Registration turns a second person's code into a claim (`registration.register`); the
claimant's account stays inactive until the enterprise's own users, or a reviewer of its
district, accept it. A refused claim leaves the account inactive for good.
"""

from dataclasses import dataclass
from typing import cast

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from portal.db.audit import append_audit
from portal.db.tables import Enterprise, EnterpriseClaim, User
from portal.services.context import Portal
from portal.services.errors import FieldProblem, Forbidden, NotFound, Refused, ValidationFailed
from portal.services.notifications import notify
from portal.workflows import Actor


@dataclass(frozen=True)
class ClaimView:
    """One claim as its deciders see it: who asks, for which enterprise, and where it stands."""

    claim: EnterpriseClaim
    enterprise_name: str
    claimant_name: str
    claimant_username: str
    claimant_email: str | None


UNDECIDED_OR_REFUSED = ("pending", "refused")


def awaiting_claimants() -> SelectOfScalar[int]:
    """The ids of accounts closed only because their claim is pending or was refused: sign-in
    counts their attempts like an open account's and, once the password is right, says why."""
    return select(EnterpriseClaim.claimant_id).where(col(EnterpriseClaim.status).in_(UNDECIDED_OR_REFUSED))


def claim_status(session: Session, claimant_id: int) -> str | None:
    """The status of the account's claim ("pending", "accepted", "refused"), or None."""
    return session.exec(
        select(EnterpriseClaim.status).where(col(EnterpriseClaim.claimant_id) == claimant_id)
    ).first()


def may_see_claims(actor: Actor) -> bool:
    """Whether the actor has claims to see: an enterprise its own, a district's reviewer the district's."""
    return (actor.role == "enterprise" and actor.enterprise_id is not None) or (
        actor.role == "reviewer" and actor.district is not None
    )


def _scope(actor: Actor) -> tuple[str, int | str]:
    if actor.role == "enterprise" and actor.enterprise_id is not None:
        return "enterprise", actor.enterprise_id
    if actor.role == "reviewer" and actor.district is not None:
        return "district", actor.district
    raise Forbidden(
        "仅企业用户或本区审核人员可以处理认领申请", "only the enterprise or its district decide claims"
    )


def _may_see(session: Session, actor: Actor, claim: EnterpriseClaim) -> bool:
    kind, key = _scope(actor)
    if kind == "enterprise":
        return claim.enterprise_id == key
    enterprise = session.get(Enterprise, claim.enterprise_id)
    return enterprise is not None and enterprise.district == key


def claims_for(portal: Portal, actor: Actor) -> list[ClaimView]:
    """The claims the actor decides: their own enterprise's, or their district's; open ones first."""
    kind, key = _scope(actor)
    with portal.reading() as session:
        query = (
            select(EnterpriseClaim, Enterprise, User)
            .join(Enterprise, col(Enterprise.id) == col(EnterpriseClaim.enterprise_id))
            .join(User, col(User.id) == col(EnterpriseClaim.claimant_id))
        )
        if kind == "enterprise":
            query = query.where(col(EnterpriseClaim.enterprise_id) == key)
        else:
            query = query.where(col(Enterprise.district) == key)
        rows = session.exec(
            query.order_by(
                col(EnterpriseClaim.decided_at).is_not(None), col(EnterpriseClaim.id).desc()
            ).limit(200)
        ).all()
        return [
            ClaimView(claim, enterprise.name, user.display_name, user.username, user.email)
            for claim, enterprise, user in rows
        ]


def decide_claim(
    portal: Portal, actor: Actor, claim_id: int, *, accept: bool, reason: str | None
) -> EnterpriseClaim:
    """Accept (the claimant's account opens) or refuse (a reason is required) a pending claim."""
    comment = (reason or "").strip() or None
    if not accept and comment is None:
        raise ValidationFailed([FieldProblem("reason", "a refusal needs a reason", "required")])
    with portal.transaction() as session:
        claim = session.get(EnterpriseClaim, claim_id)
        if claim is None or not _may_see(session, actor, claim):
            raise NotFound("claim", claim_id)
        if claim.status != "pending":
            raise Refused("claim_decided", "该申请已处理", "this claim has been decided already")
        claim.status = "accepted" if accept else "refused"
        claim.decided_by = actor.user_id
        claim.decided_at = portal.now()
        claim.reason = comment
        session.add(claim)
        claimant = session.get(User, claim.claimant_id)
        assert claimant is not None
        if accept:
            claimant.active = True
            session.add(claimant)
        append_audit(
            session,
            actor_id=actor.user_id,
            actor_role=actor.role,
            subject_type="enterprise",
            subject_id=claim.enterprise_id,
            event="claim_accepted" if accept else "claim_refused",
            payload={"claim_id": claim_id, "claimant": claimant.username, "reason": comment},
        )
        if claimant.email:
            notify(
                session,
                kind="registration",
                role="public",
                email=claimant.email,
                lang=claimant.locale,
                message="note.claim_accepted" if accept else "note.claim_refused",
                params={"username": claimant.username, "comment": comment or ""},
                dedupe_key=f"claim_decided:{cast(int, claim.id)}",
            )
        return claim
