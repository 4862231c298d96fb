"""Public notice (公示): the page anyone can read, objections anyone can lodge, and their outcome.

A case is on notice while its stage's kind is `notice`; a notice ends when the case leaves that
stage (the sweep closes it when the window ends, staff may close it once the window has
passed, an upheld objection rejects it). Past notices stay listed and searchable. An
objection holds the case until a reviewer upholds or dismisses it, with reasons; the objector
is told by e-mail where they gave an address; the enterprise is told that one came in (not by
whom or why) and when one is upheld.
"""

import hashlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import Application, Decision, Enterprise, Objection, Transition
from portal.services.access import is_lead_unit_staff, load_visible, visible_to
from portal.services.case_titles import CaseTitle, case_title
from portal.services.cases import advance, case_context, workflow_of
from portal.services.context import Portal
from portal.services.decisions import effective_grant, rule_of
from portal.services.errors import FieldProblem, NotFound, Refused, ValidationFailed
from portal.services.notifications import notify
from portal.text_rules import is_email_address
from portal.workflows import Actor
from portal.workflows.context import SYSTEM_ACTOR
from portal.workflows.sla import timer_due_on
from portal.workflows.spec import Label

MAX_NAME, MAX_CONTACT, MAX_TEXT = 100, 200, 5000
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Notice:
    """One case's public notice, as the public page shows it (no internal codes).

    `application_id` is the case's id (the notice's address); `number` its formal number
    (公示编号, e.g. 穗科公示〔2026〕3号), taken as it opened, the one the public quotes: None for a
    notice opened before notices were numbered. `title` is the answer the form names the case
    by (its `title_field`), if it has one.
    """

    application_id: int
    measure_title: Label
    enterprise_name: str
    granted_amount: Decimal | None
    unit: Label
    opened_on: date
    closes_on: date | None
    """The day its timed event may close it (the day after its last day), None if untimed."""
    open: bool
    # The stage the case is in now (for a past notice: how it ended).
    stage: Label
    objections: int
    title: CaseTitle | None = None
    # An undecided objection holds it (the public is told that much, nothing of who or why).
    held: bool = False
    # Its last day has passed: objections are no longer taken, though it stays open while an
    # objection holds it.
    period_over: bool = False
    number: str | None = None

    @property
    def last_day(self) -> date | None:
        """The last day of the notice period, the day the public is told objections are taken until."""
        return _last_day(self.closes_on)


def _notice_states(portal: Portal) -> set[str]:
    return {s.name for w in portal.workflows.values() for s in w.states if s.kind == "notice"}


def _granted(portal: Portal, session: Session, application: Application) -> Decimal | None:
    decision = session.exec(select(Decision).where(col(Decision.application_id) == application.id)).first()
    if decision is not None and decision.granted_amount is not None:
        return Decimal(decision.granted_amount)
    return effective_grant(portal, session, application)


def list_notices(
    portal: Portal, *, archived: bool = False, query: str = "", limit: int = 200
) -> list[Notice]:
    """Cases on notice now (or, with `archived`, past notices), newest first; `query` searches
    the enterprise name, the case's title, the measure title, the unit in both languages and the
    notice number (`穗科公示〔2026〕3号`, or part of it), or is the case number (`12` or `#12`)."""
    needle = query.strip().lower()
    number = needle.removeprefix("#").strip()

    def wanted(app_id: int, haystack: str) -> bool:
        return not needle or needle in haystack or number == str(app_id)

    with portal.reading() as session:
        notices: list[Notice] = []
        for notice in _notices(portal, session, archived=archived, wanted=wanted):
            notices.append(notice)
            if len(notices) >= limit:
                break
        return notices


def notice_of(portal: Portal, application_id: int) -> Notice:
    """One case's notice, open or past; NotFound for a case that was never on notice.

    Reads that case alone: building every notice to find one cost a public notice page
    five queries per case ever on notice.
    """
    with portal.reading() as session:
        for notice in _notices(portal, session, application_id=application_id):
            return notice
    raise NotFound("notice", application_id)


def _notices(
    portal: Portal,
    session: Session,
    *,
    archived: bool | None = None,
    application_id: int | None = None,
    wanted: Callable[[int, str], bool] = lambda app_id, haystack: True,
) -> Iterator[Notice]:
    """Each case's notice, newest notice first: open ones only, past ones only (`archived`), or
    both (None); one case's only with `application_id`; only those `wanted` says yes to, given
    the case number and the text a search looks in (asked before the rest is read)."""
    states = sorted(_notice_states(portal))
    entering = (
        select(Transition, Application, Enterprise)
        .join(Application, col(Application.id) == Transition.application_id)
        .join(Enterprise, col(Enterprise.id) == Application.enterprise_id)
        .where(col(Transition.to_state).in_(states))
        .where(col(Transition.from_state).not_in(states))
        .order_by(col(Transition.at).desc(), col(Transition.id).desc())
    )
    if application_id is not None:
        entering = entering.where(col(Application.id) == application_id)
    seen: set[int] = set()
    for entered, application, enterprise in session.exec(entering).all():
        app_id = cast(int, application.id)
        is_open = application.state in states
        if app_id in seen or (archived is not None and is_open == archived):
            continue
        seen.add(app_id)
        workflow, stage = workflow_of(portal, application)
        rule = rule_of(portal, application)
        unit = portal.pack.units.get(application.lead_unit, {})
        unit_label = Label(zh=unit.get("zh") or "", en=unit.get("en") or "")
        title = case_title(portal, session, application)
        haystack = " ".join(
            (
                enterprise.name,
                title.value if title else "",
                rule.title.zh,
                rule.title.en,
                unit_label.zh,
                unit_label.en,
                entered.notice_number or "",
            )
        ).lower()
        if not wanted(app_id, haystack):
            continue
        opened_on = portal.clock.local_date(entered.at)
        closes_on = timer_due_on(workflow.state(entered.to_state), opened_on)
        objections = session.exec(
            select(Objection.sustained).where(col(Objection.application_id) == app_id)
        ).all()
        yield Notice(
            application_id=app_id,
            measure_title=Label(zh=rule.title.zh, en=rule.title.en),
            enterprise_name=enterprise.name,
            granted_amount=_granted(portal, session, application),
            unit=unit_label,
            opened_on=opened_on,
            closes_on=closes_on,
            open=is_open,
            stage=stage.label,
            objections=len(objections),
            title=title,
            held=is_open and any(sustained is None for sustained in objections),
            period_over=_period_over(portal, closes_on),
            number=entered.notice_number,
        )


def _last_day(closes_on: date | None) -> date | None:
    """A notice of n days entered on day D runs D to D+n-1; its timer may fire on D+n (`closes_on`)."""
    return closes_on - timedelta(days=1) if closes_on is not None else None


def _period_over(portal: Portal, closes_on: date | None) -> bool:
    """Whether a notice that may close on `closes_on` takes objections no more (its last day is past)."""
    last = _last_day(closes_on)
    return last is not None and portal.today() > last


@dataclass(frozen=True)
class ObjectionFile:
    """An optional file attached to an objection; its kind was sniffed by the caller."""

    content: bytes
    name: str
    content_type: str


def objection_problems(
    *, name: str, contact: str, email: str, reasons: str, file: ObjectionFile | None = None
) -> list[FieldProblem]:
    """What `lodge_objection` would refuse in these answers, each with its code; writes nothing,
    so a page that refuses a file on its own grounds still names every other problem at once."""
    name, contact, email, reasons = name.strip(), contact.strip(), email.strip(), reasons.strip()
    problems = []
    for field, value, limit in (
        ("name", name, MAX_NAME),
        ("contact", contact, MAX_CONTACT),
        ("reasons", reasons, MAX_TEXT),
    ):
        if not value:
            problems.append(FieldProblem(field, "required", "required"))
        elif len(value) > limit:
            problems.append(FieldProblem(field, f"at most {limit} characters", "too_long", {"n": limit}))
        elif any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
            problems.append(FieldProblem(field, "control characters", "control"))
    if email and not is_email_address(email):
        problems.append(FieldProblem("email", "not an e-mail address", "email"))
    if file is not None and len(file.content) > MAX_FILE_BYTES:
        problems.append(FieldProblem("file", "over 10 MB", "file_too_large"))
    return problems


def lodge_objection(
    portal: Portal,
    application_id: int,
    *,
    name: str,
    contact: str,
    email: str,
    reasons: str,
    file: ObjectionFile | None = None,
    lang: str | None = None,
) -> Objection:
    """A member of the public objects to a case on notice; the objection holds the case.

    Field problems carry codes (`required`, `too_long`, `email`, `file_too_large`, and
    `period_over` for the form once the notice's last day has passed) so the page can say them
    in the reader's language. `lang` is the page's: the outcome is e-mailed in it.
    """
    name, contact, email, reasons = name.strip(), contact.strip(), email.strip(), reasons.strip()
    problems = objection_problems(name=name, contact=contact, email=email, reasons=reasons, file=file)
    if problems:
        raise ValidationFailed(problems)
    digest = hashlib.sha256(file.content).hexdigest() if file is not None else None
    with portal.transaction() as session:
        application = session.get(Application, application_id)
        if application is None:
            raise NotFound("application", application_id)
        _, state = workflow_of(portal, application)
        if state.kind != "notice":
            raise NotFound("notice", application_id)
        entered = application.stage_entered_at
        if entered is not None and _period_over(
            portal, timer_due_on(state, portal.clock.local_date(entered))
        ):
            raise ValidationFailed([FieldProblem("form", "the objection period has ended", "period_over")])
        if file is not None and digest is not None:
            portal.blobs.put(session, digest, file.content)
        objection = Objection(
            application_id=application_id,
            text=reasons,
            filed_at=portal.now(),
            objector_name=name,
            objector_contact=contact,
            objector_email=email or None,
            objector_lang=lang,
            attachment_sha256=digest,
            attachment_name=file.name if file else None,
            attachment_content_type=file.content_type if file else None,
            attachment_size=len(file.content) if file else None,
        )
        session.add(objection)
        session.flush()
        append_audit(
            session,
            actor_id=None,
            actor_role="public",
            subject_type="application",
            subject_id=application_id,
            event="objection_filed",
            from_state=application.state,
            to_state=application.state,
            payload={"objection_id": objection.id, "attachment_sha256": digest},
        )
        notify(
            session,
            kind="work_item",
            role="reviewer",
            bureau=application.lead_unit,
            link=f"/review/{application_id}#objections",
            message="note.objection_filed",
            params={"id": application_id},
            dedupe_key=f"objection:{objection.id}",
        )
        notify(
            session,
            kind="case_update",
            enterprise_id=application.enterprise_id,
            link=f"/applications/{application_id}",
            message="note.objection_received",
            params={"id": application_id},
            dedupe_key=f"objection_received:{objection.id}",
        )
        return objection


def held_by_objection(portal: Portal, actor: Actor, application_id: int) -> date | None:
    """The day the case's earliest undecided objection was lodged, if one holds it; for anyone
    who may see the case (the enterprise is told it is held, not by whom or why)."""
    with portal.reading() as session:
        load_visible(session, actor, application_id)
        return _holds(portal, session, actor, [application_id]).get(application_id)


def held_by_objections(portal: Portal, actor: Actor, application_ids: Collection[int]) -> dict[int, date]:
    """`held_by_objection` for a case list, in one query: of these cases the actor may see,
    those an undecided objection holds."""
    if not application_ids:
        return {}
    with portal.reading() as session:
        return _holds(portal, session, actor, list(application_ids))


def _holds(portal: Portal, session: Session, actor: Actor, application_ids: list[int]) -> dict[int, date]:
    """Each of these cases the actor may see that an undecided objection holds, with the local
    day the earliest came in."""
    rows = session.exec(
        select(Objection.application_id, func.min(Objection.filed_at))
        .join(Application, col(Application.id) == Objection.application_id)
        .where(visible_to(actor))
        .where(col(Objection.application_id).in_(application_ids))
        .where(col(Objection.sustained).is_(None))
        .group_by(col(Objection.application_id))
    ).all()
    return {app_id: portal.clock.local_date(first) for app_id, first in rows}


def objections_of(portal: Portal, actor: Actor, application_id: int) -> list[Objection]:
    """Every objection to a case, for staff (they name the objector)."""
    if actor.role not in ("reviewer", "admin"):
        raise Refused("wrong_role", "仅工作人员可以查看异议", "only staff see objections")
    with portal.reading() as session:
        load_visible(session, actor, application_id)
        return list(
            session.exec(
                select(Objection)
                .where(col(Objection.application_id) == application_id)
                .order_by(col(Objection.id))
            ).all()
        )


def objection_file(
    portal: Portal, actor: Actor, application_id: int, objection_id: int
) -> tuple[Objection, bytes]:
    """An objection's attached file and its bytes, for staff who may see the case."""
    for objection in objections_of(portal, actor, application_id):
        if objection.id == objection_id and objection.attachment_sha256:
            return objection, portal.blobs.read(objection.attachment_sha256)
    raise NotFound("objection file", objection_id)


def close_notice(portal: Portal, actor: Actor, application_id: int, expected_version: int) -> str:
    """Staff close a notice whose window has passed, as the sweep would; returns the new state.

    The stage's timer event fires as the system actor (its guards still hold the case for a
    pending or upheld objection); who asked is recorded in the audit payload.
    """
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        if not is_lead_unit_staff(actor, application):
            raise Refused(
                "wrong_jurisdiction", "仅牵头单位可以结束公示", "only the lead unit closes a notice"
            )
        _, state = workflow_of(portal, application)
        if state.kind != "notice" or state.timer is None:
            raise Refused("not_on_notice", "该申报不在公示期", "this case is not on notice")
        context = case_context(session, portal, application, SYSTEM_ACTOR)
        if not context.notice_elapsed:
            raise Refused("notice_not_elapsed", "公示期尚未届满", "the notice window has not passed yet")
        moved = advance(
            session,
            portal,
            application,
            SYSTEM_ACTOR,
            state.timer.event,
            comment=None,
            expected_version=expected_version,
            context=context,
            audit_payload={"requested_by": actor.user_id},
        )
        return moved.to_state


def notice_closable(portal: Portal, actor: Actor, application_id: int) -> bool:
    """Whether this reviewer may close the case's notice now (lead unit, window passed)."""
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        _, state = workflow_of(portal, application)
        if state.kind != "notice" or state.timer is None or not is_lead_unit_staff(actor, application):
            return False
        return case_context(session, portal, application, SYSTEM_ACTOR).notice_elapsed
