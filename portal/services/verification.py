"""Verified enterprises: until verified, an enterprise may prepare but not submit, consent or be seen.

Two ways lead to verification: a district reviewer accepts the business licence and the
holder's authorisation letter (the pack's verification workflow, pack.yaml
`identity.verification`), or an identity provider vouches for the enterprise at sign-in
(`portal.services.oidc_login`). The demo seed and the tests' fixtures verify by bootstrap.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import Attachment, Enterprise, EnterpriseVerification, Role, User
from portal.services.applications import attachment_for
from portal.services.context import Portal
from portal.services.errors import Forbidden, NotFound, Refused, StaleVersion
from portal.services.notifications import notify
from portal.services.verified import mark_verified
from portal.workflows import Actor, CaseContext, EventSpec, TransitionRefused, Workflow

VIA_PAPERS = "documents"
DOCUMENTS = ("licence", "authorisation")


@dataclass(frozen=True)
class Upload:
    """One checked file: its bytes, the type sniffed from them, and the name it came with."""

    content: bytes
    content_type: str
    original_name: str


@dataclass(frozen=True)
class VerificationStatus:
    """What the enterprise's pages say about its verification, and what to do next."""

    verified: bool
    verified_via: str | None
    verified_at: datetime | None
    latest: EnterpriseVerification | None
    latest_state_label: dict[str, str] | None

    @property
    def pending(self) -> bool:
        return not self.verified and self.latest is not None and self.latest.decided_at is None


def _workflow(portal: Portal) -> Workflow:
    return portal.workflows[portal.city.verification.workflow]


def _own(actor: Actor) -> int:
    if actor.role != "enterprise" or actor.enterprise_id is None:
        raise Forbidden("仅企业用户可以申请核验", "only the enterprise's users may ask for verification")
    return actor.enterprise_id


def _latest(session: Session, enterprise_id: int) -> EnterpriseVerification | None:
    return session.exec(
        select(EnterpriseVerification)
        .where(col(EnterpriseVerification.enterprise_id) == enterprise_id)
        .order_by(col(EnterpriseVerification.id).desc())
    ).first()


def status_of(portal: Portal, actor: Actor) -> VerificationStatus:
    """The signed-in enterprise's verification, for its pages."""
    enterprise_id = _own(actor)
    with portal.reading() as session:
        enterprise = session.get(Enterprise, enterprise_id)
        if enterprise is None:
            raise NotFound("enterprise", enterprise_id)
        latest = _latest(session, enterprise_id)
        label = None
        if latest is not None:
            text = _workflow(portal).state(latest.state).label
            label = {"zh": text.zh, "en": text.en}
        return VerificationStatus(
            verified=enterprise.verified_at is not None,
            verified_via=enterprise.verified_via,
            verified_at=enterprise.verified_at,
            latest=latest,
            latest_state_label=label,
        )


def request_verification(
    portal: Portal, actor: Actor, licence: Upload, authorisation: Upload
) -> EnterpriseVerification:
    """File the two papers for a district reviewer; one open request at a time, none once verified."""
    enterprise_id = _own(actor)
    created: list[str] = []
    try:
        with portal.transaction() as session:
            enterprise = session.get(Enterprise, enterprise_id)
            if enterprise is None:
                raise NotFound("enterprise", enterprise_id)
            if enterprise.verified_at is not None:
                raise Refused("already_verified", "企业身份已核验", "the enterprise is verified already")
            latest = _latest(session, enterprise_id)
            if latest is not None and latest.decided_at is None:
                raise Refused(
                    "verification_pending",
                    "已有待核验的申请",
                    "a request is waiting for the district already",
                )
            ids = []
            for upload in (licence, authorisation):
                row, stored = attachment_for(
                    session,
                    portal,
                    actor,
                    enterprise_id,
                    upload.content,
                    upload.content_type,
                    upload.original_name,
                )
                if stored:
                    created.append(hashlib.sha256(upload.content).hexdigest())
                ids.append(cast(int, row.id))
            workflow = _workflow(portal)
            request = EnterpriseVerification(
                enterprise_id=enterprise_id,
                district=enterprise.district,
                workflow=workflow.name,
                state=workflow.initial,
                licence_id=ids[0],
                authorisation_id=ids[1],
                requested_by=actor.user_id,
                created_at=portal.now(),
            )
            session.add(request)
            session.flush()
            append_audit(
                session,
                actor_id=actor.user_id,
                actor_role=actor.role,
                subject_type="verification",
                subject_id=cast(int, request.id),
                event="verification_requested",
                to_state=request.state,
                payload={"enterprise_id": enterprise_id, "licence": ids[0], "authorisation": ids[1]},
            )
            notify(
                session,
                kind="work_item",
                role=Role.REVIEWER.value,
                district=enterprise.district,
                link=f"/verifications/{request.id}",
                message="note.verification_work_item",
                params={"enterprise": enterprise.name},
            )
            return request
    except BaseException:
        for digest in created:
            portal.blobs.discard(digest)
        raise


@dataclass(frozen=True)
class VerificationCase:
    """One request as its reviewer sees it, with the account that sent the papers: the person
    the authorisation letter must name."""

    request: EnterpriseVerification
    enterprise: Enterprise
    requester: User
    state_label: dict[str, str]
    events: list[EventSpec]


def _case(request: EnterpriseVerification) -> CaseContext:
    return CaseContext(enterprise_id=request.enterprise_id, district=request.district, lead_unit=None)


def may_verify(actor: Actor) -> bool:
    """Whether the actor checks enterprises' papers: a district's reviewer (the menu asks this too)."""
    return actor.role == "reviewer" and actor.district is not None


def _reviewer(actor: Actor) -> None:
    if not may_verify(actor):
        raise Forbidden("仅区级审核人员可以核验企业", "only a district reviewer may verify enterprises")


def _visible(session: Session, actor: Actor, request_id: int) -> EnterpriseVerification:
    request = session.get(EnterpriseVerification, request_id)
    if request is None or request.district != actor.district:
        raise NotFound("verification", request_id)
    return request


def _view(
    portal: Portal, session: Session, actor: Actor, request: EnterpriseVerification
) -> VerificationCase:
    workflow = _workflow(portal)
    label = workflow.state(request.state).label
    events = workflow.allowed_events(request.state, actor, _case(request))
    enterprise = session.get(Enterprise, request.enterprise_id)
    assert enterprise is not None
    requester = session.get(User, request.requested_by)
    assert requester is not None
    return VerificationCase(request, enterprise, requester, {"zh": label.zh, "en": label.en}, events)


def verifications_to_check(portal: Portal, actor: Actor) -> list[VerificationCase]:
    """The reviewer's district's requests, open ones first."""
    _reviewer(actor)
    with portal.reading() as session:
        rows = session.exec(
            select(EnterpriseVerification)
            .where(col(EnterpriseVerification.district) == actor.district)
            .order_by(
                col(EnterpriseVerification.decided_at).is_not(None), col(EnterpriseVerification.id).desc()
            )
            .limit(200)
        ).all()
        return [_view(portal, session, actor, row) for row in rows]


def verification_case(portal: Portal, actor: Actor, request_id: int) -> VerificationCase:
    """One request of the reviewer's district; any other is NotFound."""
    _reviewer(actor)
    with portal.reading() as session:
        return _view(portal, session, actor, _visible(session, actor, request_id))


def verification_file(
    portal: Portal, actor: Actor, request_id: int, document: str
) -> tuple[Attachment, bytes]:
    """One of the two papers, for a reviewer of the district."""
    _reviewer(actor)
    if document not in DOCUMENTS:
        raise NotFound("document", document)
    with portal.reading() as session:
        request = _visible(session, actor, request_id)
        attachment = session.get(
            Attachment, request.licence_id if document == "licence" else request.authorisation_id
        )
        if attachment is None:
            raise NotFound("document", document)
    return attachment, portal.blobs.read(attachment.sha256)


def decide_verification(
    portal: Portal, actor: Actor, request_id: int, event: str, reason: str | None, expected_version: int
) -> EnterpriseVerification:
    """Fire the reviewer's event; entering the pack's verifying state verifies the enterprise."""
    _reviewer(actor)
    comment = (reason or "").strip() or None
    with portal.transaction() as session:
        request = _visible(session, actor, request_id)
        if request.version != expected_version:
            raise StaleVersion("verification", request_id, expected_version, request.version)
        workflow = _workflow(portal)
        try:
            target = workflow.fire(request.state, event, actor, _case(request), comment)
        except TransitionRefused as refused:
            raise Refused(refused.code, refused.message_zh, refused.message_en, refused.detail) from None
        before = request.state
        request.state = target
        request.version += 1
        request.reason = comment
        if workflow.state(target).final:
            request.decided_at = portal.now()
            request.decided_by = actor.user_id
        session.add(request)
        append_audit(
            session,
            actor_id=actor.user_id,
            actor_role=actor.role,
            subject_type="verification",
            subject_id=request_id,
            event=event,
            from_state=before,
            to_state=target,
            payload={"enterprise_id": request.enterprise_id, "reason": comment},
        )
        enterprise = session.get(Enterprise, request.enterprise_id)
        assert enterprise is not None
        verified = target == portal.city.verification.verified
        if verified:
            mark_verified(session, portal, enterprise, VIA_PAPERS, actor)
        notify(
            session,
            kind="case_update",
            enterprise_id=request.enterprise_id,
            link="/verification",
            message="note.verified" if verified else "note.verification_returned",
            params={"workflow": workflow.name, "state": target, "comment": comment or ""},
        )
        return request
