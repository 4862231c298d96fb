"""Read-only views the portal pages need beside the use cases: a case's files, its audit trail,
the enterprise's file library and the names shown in queues.

Each read goes through `load_visible`, so the same object-level rule guards a page, a
download and the API: a case the actor may not see is NotFound, whatever is asked of it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlmodel import Session, col, or_, select

from portal.db.tables import (
    Application,
    ApplicationAnswers,
    ApplicationAttachment,
    Attachment,
    AuditEvent,
    Enterprise,
    EnterpriseProfile,
    SubmittedAttachment,
    User,
)
from portal.services.access import load_visible
from portal.services.applications import facts_for_evaluation, submissions_made
from portal.services.cases import audit_case, case_context
from portal.services.claims import awaiting_claimants
from portal.services.context import Portal
from portal.services.errors import Forbidden, NotFound
from portal.workflows import Actor

_STAFF_ROLES = frozenset({"reviewer", "admin"})


@dataclass(frozen=True)
class CaseFile:
    """An attachment as placed in one slot of one application."""

    id: int
    slot: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def _refuse_undeclared_expert(
    session: Session, portal: Portal, actor: Actor, application: Application
) -> None:
    """An expert reads nothing of the case file (uploads, submitted facts) before declaring no conflict."""
    if actor.role != "expert":
        return
    if not case_context(session, portal, application, actor, reads=frozenset({"experts"})).coi_declared:
        raise Forbidden("请先签署无利益冲突声明", "sign the no-conflict declaration before reading the file")


def case_files(portal: Portal, actor: Actor, application_id: int) -> list[CaseFile]:
    """The case's files as `actor` may read them now, by slot then upload order.

    The enterprise reads its slots as they are, an amendment's uploads included. Everyone else
    (reviewers, experts, administrators) reads what the last submission sent (`submitted_files`):
    nothing of an amendment before it is submitted, so a draft is neither listed nor downloaded.
    """
    with portal.reading() as session:
        application = _readable(session, portal, actor, application_id)
        if _owner(actor, application):
            rows = session.exec(
                select(ApplicationAttachment, Attachment)
                .join(Attachment, col(Attachment.id) == ApplicationAttachment.attachment_id)
                .where(col(ApplicationAttachment.application_id) == application_id)
                .order_by(col(ApplicationAttachment.slot), col(ApplicationAttachment.id))
            ).all()
            return [_case_file(link.slot, a) for link, a in rows]
    return submitted_files(portal, actor, application_id).latest()


def _owner(actor: Actor, application: Application) -> bool:
    """The enterprise whose case it is (`load_visible` already refused any other enterprise)."""
    return actor.role == "enterprise" and actor.enterprise_id == application.enterprise_id


def _readable(session: Session, portal: Portal, actor: Actor, application_id: int) -> Application:
    application = load_visible(session, actor, application_id)
    _refuse_undeclared_expert(session, portal, actor, application)
    return application


def _case_file(slot: str, attachment: Attachment) -> CaseFile:
    return CaseFile(
        cast(int, attachment.id),
        slot,
        attachment.original_name,
        attachment.content_type,
        attachment.size,
        attachment.sha256,
    )


@dataclass(frozen=True)
class SubmittedFile:
    """A file as one submission sent it; `submission` counts from 1, the first submission."""

    submission: int
    file: CaseFile


@dataclass(frozen=True)
class SlotChange:
    """What one upload slot gained and lost from one submission to the next."""

    slot: str
    added: list[CaseFile]
    removed: list[CaseFile]


@dataclass(frozen=True)
class SubmittedFiles:
    """The files of each of a case's submissions (`count` of them; one with no file has no row)."""

    count: int
    files: list[SubmittedFile]

    def of(self, submission: int) -> list[CaseFile]:
        return [item.file for item in self.files if item.submission == submission]

    def latest(self) -> list[CaseFile]:
        """What the last submission sent; nothing before the first."""
        return self.of(self.count)

    def added(self) -> list[CaseFile]:
        """The latest submission's files that the one before did not send; none before a resubmission."""
        return [item for change in self.changes() or [] for item in change.added]

    def earlier(self, current: Sequence[CaseFile]) -> list[SubmittedFile]:
        """The submitted files that are not in their slot now, each with the last submission that
        held it: what an amendment replaced or removed, by slot then submission."""
        now = {(item.slot, item.id) for item in current}
        last: dict[tuple[str, int], SubmittedFile] = {}
        for item in self.files:
            if (item.file.slot, item.file.id) not in now:
                last[(item.file.slot, item.file.id)] = item
        return sorted(last.values(), key=lambda item: (item.file.slot, item.submission, item.file.id))

    def changes(self) -> list[SlotChange] | None:
        """Each slot's added and removed files from the previous submission to the latest; None
        before a resubmission."""
        if self.count < 2:
            return None
        before, after = self.of(self.count - 1), self.of(self.count)
        added = [item for item in after if item not in before]
        removed = [item for item in before if item not in after]
        return [
            SlotChange(
                slot,
                [item for item in added if item.slot == slot],
                [item for item in removed if item.slot == slot],
            )
            for slot in sorted({item.slot for item in [*added, *removed]})
        ]


def submitted_files(portal: Portal, actor: Actor, application_id: int) -> SubmittedFiles:
    """What each submission of the case sent, oldest first, by slot then upload order."""
    sent = SubmittedAttachment
    with portal.reading() as session:
        _readable(session, portal, actor, application_id)
        rows = session.exec(
            select(sent, Attachment)
            .join(Attachment, col(Attachment.id) == sent.attachment_id)
            .where(col(sent.application_id) == application_id)
            .order_by(col(sent.submission), col(sent.slot), col(sent.id))
        ).all()
        count = submissions_made(session, application_id)
    files = [SubmittedFile(row.submission, _case_file(row.slot, a)) for row, a in rows]
    return SubmittedFiles(count, files)


def open_case_file(
    portal: Portal, actor: Actor, application_id: int, attachment_id: int
) -> tuple[CaseFile, bytes]:
    """One file of this case, attached now or sent by an earlier submission, and its bytes; any
    other file is NotFound. Both lists check the same access, so an earlier version is no easier
    to read than the current one; and "now" is `case_files`'s, so staff cannot fetch a file of an
    amendment the enterprise has not submitted."""
    sent = [item.file for item in submitted_files(portal, actor, application_id).files]
    for item in [*case_files(portal, actor, application_id), *sent]:
        if item.id == attachment_id:
            return item, portal.blobs.read(item.sha256)
    raise NotFound("attachment", attachment_id)


def download_case_file(
    portal: Portal, actor: Actor, application_id: int, attachment_id: int
) -> tuple[CaseFile, bytes]:
    """`open_case_file`, recorded: every download of a case's file leaves an audit row naming who."""
    item, content = open_case_file(portal, actor, application_id, attachment_id)
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        audit_case(
            session,
            actor,
            application,
            "attachment_downloaded",
            {"attachment_id": item.id, "sha256": item.sha256, "slot": item.slot},
        )
    return item, content


def file_library(portal: Portal, actor: Actor) -> list[Attachment]:
    """Everything this enterprise has uploaded, newest first, for reuse in another application."""
    if actor.role != "enterprise" or actor.enterprise_id is None:
        return []
    with portal.reading() as session:
        return list(
            session.exec(
                select(Attachment)
                .where(col(Attachment.enterprise_id) == actor.enterprise_id)
                .order_by(col(Attachment.uploaded_at).desc(), col(Attachment.id).desc())
            ).all()
        )


def audit_trail(portal: Portal, actor: Actor, application_id: int) -> list[AuditEvent]:
    """The tamper-evident record of one case, for staff only (it names reviewers and payload hashes)."""
    if actor.role not in _STAFF_ROLES:
        raise Forbidden("审计记录仅供工作人员查看", "the audit trail is for staff only")
    with portal.reading() as session:
        load_visible(session, actor, application_id)
        return list(
            session.exec(
                select(AuditEvent)
                .where(col(AuditEvent.subject_type) == "application")
                .where(col(AuditEvent.subject_id) == str(application_id))
                .order_by(col(AuditEvent.seq))
            ).all()
        )


def audit_names(portal: Portal, events: list[AuditEvent]) -> dict[int, str]:
    """Who acted in each audit entry (by `seq`), so the trail reads a name, not a number.

    A bank's `actor_id` is a bank id, and the system has none: neither is named here.
    """
    people = {e.seq: e.actor_id for e in events if e.actor_id is not None and e.actor_role != "bank"}
    if not people:
        return {}
    with portal.reading() as session:
        rows = session.exec(select(User.id, User.display_name).where(col(User.id).in_(set(people.values()))))
        names = {cast(int, user_id): name for user_id, name in rows.all()}
    return {seq: names[user_id] for seq, user_id in people.items() if user_id in names}


def enterprises_by_id(portal: Portal, ids: set[int]) -> dict[int, Enterprise]:
    """Enterprise rows for the names and codes shown next to cases the caller already may see."""
    if not ids:
        return {}
    with portal.reading() as session:
        rows = session.exec(select(Enterprise).where(col(Enterprise.id).in_(ids))).all()
        return {cast(int, e.id): e for e in rows}


@dataclass(frozen=True)
class AccountRow:
    """One account on the admin's users page, with the enterprise an enterprise user acts for."""

    user: User
    enterprise: Enterprise | None
    joining: bool = False
    """Closed while its request to join the enterprise is pending or refused: not the admin's to open."""


def list_users(portal: Portal, actor: Actor, search: str = "") -> list[AccountRow]:
    """Every account, for the admin's users page; with `search`, those whose user name, name or
    enterprise's name contains it (case aside)."""
    if actor.role != "admin":
        raise Forbidden("仅管理员可以管理用户", "only an administrator manages users")
    query = (
        select(User, Enterprise)
        .outerjoin(Enterprise, col(User.enterprise_id) == col(Enterprise.id))
        .order_by(col(User.role), col(User.username))
    )
    needle = search.strip()
    if needle:
        query = query.where(
            or_(
                col(User.username).icontains(needle, autoescape=True),
                col(User.display_name).icontains(needle, autoescape=True),
                col(Enterprise.name).icontains(needle, autoescape=True),
            )
        )
    with portal.reading() as session:
        joining = set(session.exec(awaiting_claimants()).all())
        return [
            AccountRow(user, enterprise, user.id in joining) for user, enterprise in session.exec(query).all()
        ]


def submitted_facts(portal: Portal, actor: Actor, application_id: int) -> dict[str, dict[str, object]] | None:
    """The facts the case was judged on at submission (the profile snapshot plus the form's own
    facts), so the reviewer can have them judged again; None before the first submission."""
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        _refuse_undeclared_expert(session, portal, actor, application)
        if application.profile_version is None:
            return None
        profile = session.exec(
            select(EnterpriseProfile)
            .where(col(EnterpriseProfile.enterprise_id) == application.enterprise_id)
            .where(col(EnterpriseProfile.version) == application.profile_version)
        ).first()
        answers = session.exec(
            select(ApplicationAnswers)
            .where(col(ApplicationAnswers.application_id) == application_id)
            .where(col(ApplicationAnswers.version) == application.answers_version)
        ).first()
    if profile is None:
        return None
    # The same overlay `submit` used, so "now" differs from "at submission" only by the rule.
    return facts_for_evaluation(
        portal, profile, answers.answers if answers is not None else {}, application.measure_id
    )


def judged_today(portal: Portal, actor: Actor, application_id: int, lang: str) -> dict[str, Any]:
    """The submitted facts judged again by the rule in force today (the reviewer's "now" column)."""
    facts = submitted_facts(portal, actor, application_id)
    if facts is None:
        return {"outcome": None, "criteria": []}
    with portal.reading() as session:
        measure_id = load_visible(session, actor, application_id).measure_id
    result = portal.pack.evaluate(measure_id, facts, portal.today())
    return result.to_json(lang)
