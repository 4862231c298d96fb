"""The one way a case changes state: fire the workflow event and persist it in the same transaction.

`advance` is shared by every use case that moves a case (submit, review transitions, the
SLA sweep's timers). It writes the new state with `UPDATE ... WHERE id = ? AND version = ?`
and checks the row count, so two writers that read the same version cannot both win, on
any isolation level; the loser gets StaleVersion and its transaction rolls back whole.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypedDict, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import (
    Application,
    ApplicationAttachment,
    Enterprise,
    ExpertAssignment,
    ExpertScore,
    Letter,
    Objection,
    Transition,
    User,
)
from portal.forms import FormSpec
from portal.services.access import Case
from portal.services.context import Portal
from portal.services.decision_records import decision_record
from portal.services.decisions import NOTICE_KIND, grants_money, record_decision, refuse_grant_above_limit
from portal.services.doc_numbers import NOTICE_SERIES, next_doc_number
from portal.services.errors import BadStoredState, Refused, StaleVersion
from portal.services.notifications import note, notify, notify_all
from portal.services.payee_accounts import paid_into
from portal.workflows import (
    Actor,
    CaseContext,
    StateSpec,
    TransitionRefused,
    UnknownState,
    Workflow,
    stage_deadline,
)
from portal.workflows.sla import (
    remaining_working_days,
    reply_due_on,
    resumed_deadline,
    timer_due_on,
    timer_last_day,
)

_APPLICATION: Table = Application.__table__  # type: ignore[attr-defined]
_TRANSITION: Table = Transition.__table__  # type: ignore[attr-defined]
# Statements built once: each keeps its cache key, where a new statement per call computes it
# again (more than the database's own work for a one-row write). The columns an UPDATE sets
# are the keys of the parameters it is given.
_BUMP = update(_APPLICATION).where(
    _APPLICATION.c.id == bindparam("bump_id"), _APPLICATION.c.version == bindparam("bump_expected")
)
_ADD_TRANSITION = insert(_TRANSITION)

# Who is told when a case enters a stage: the workflow's `responsible` party → recipients.
# The role no account holds: a notification for it goes to its `email` only (an objector).
PUBLIC_ROLE = "public"
# The audit payload key under which a return for amendment records the form sections it reopens.
REOPENED_KEY = "sections"
# The parties that are reviewing units: a case's holder must serve the one responsible for it.
_UNIT_PARTIES = frozenset({"district", "bureau"})
# The letter whose stage records a case paid (`issues_letter`): its transition keeps the account.
DISBURSEMENT_LETTER = "disbursement"
# The role a unit's notes go to; experts are told of a case when they are assigned, not as a unit.
_PARTY_ROLE = {"district": "reviewer", "bureau": "reviewer", "admin": "admin"}


class Recipients(TypedDict):
    """Who a note to a party of a case goes to: the `note` keywords for role and unit."""

    role: str
    district: str | None
    bureau: str | None


def party_recipients(application: Case, party: str | None) -> Recipients | None:
    """The users a note to `party` (a workflow's `responsible`, `escalate_to` or jurisdiction)
    reaches: the reviewers of the case's district or lead unit, or the administrators; None
    for a party told another way (the enterprise, experts, the system)."""
    role = _PARTY_ROLE.get(party or "")
    if role is None:
        return None
    return Recipients(
        role=role,
        district=application.district if party == "district" else None,
        bureau=application.lead_unit if party == "bureau" else None,
    )


# The events that decide a public-notice objection (the pack's notice stage offers them while one
# is pending), and whether each upholds it.
OBJECTION_DECISIONS: Mapping[str, bool] = {"dismiss_objection": False, "uphold_objection": True}


def workflow_of(portal: Portal, application: Case) -> tuple[Workflow, StateSpec]:
    """The case's workflow and current stage; a stored value the pack does not know is BadStoredState."""
    workflow = portal.workflows.get(application.workflow)
    if workflow is None:
        raise BadStoredState("application", application.id, f"unknown workflow {application.workflow!r}")
    try:
        return workflow, workflow.state(application.state)
    except UnknownState:
        raise BadStoredState(
            "application",
            application.id,
            f"state {application.state!r} is not a state of workflow {workflow.name!r}",
        ) from None


def attachments_complete(session: Session, portal: Portal, application: Case) -> bool:
    """Every required upload slot of the measure's form holds at least one file."""
    form = portal.forms.get(application.measure_id)
    if form is None:
        return True
    required = {slot.id for slot in form.attachments.values() if slot.required}
    filled = set(
        session.exec(
            select(ApplicationAttachment.slot).where(
                col(ApplicationAttachment.application_id) == application.id
            )
        ).all()
    )
    return required <= filled


def score_totals(session: Session, application_id: int) -> tuple[dict[int, Decimal], set[int]]:
    """Each scoring expert's total, and the experts whose scores must not count (conflicted)."""
    rows = session.exec(
        select(ExpertAssignment, ExpertScore)
        .join(ExpertScore, col(ExpertScore.assignment_id) == ExpertAssignment.id)
        .where(col(ExpertAssignment.application_id) == application_id)
    ).all()
    totals = {assignment.expert_id: Decimal(score.total) for assignment, score in rows}
    excluded = {a.expert_id for a, _ in rows if a.conflicted or a.excluded_at is not None}
    return totals, excluded


# Which stored facts each guard or jurisdiction reads; a context is built only from what the
# current stage's transitions can look at, so a plain review step costs no extra queries.
_READS = {
    "attachments_complete": "attachments",
    "coi_declared": "experts",
    "coi_not_declared": "experts",
    "assigned": "experts",
    "scores_passed": "scores",
    "no_sustained_objection": "objections",
    "objection_pending": "objections",
}
ALL_READS = frozenset(_READS.values())


def reads_of(workflow: Workflow, state: str) -> frozenset[str]:
    """The kinds of stored facts the transitions out of `state` read."""
    needed = set()
    for edge in workflow.transitions_from(state):
        for name in (*edge.guards, edge.jurisdiction):
            if name in _READS:
                needed.add(_READS[name])
    return frozenset(needed)


def case_context(
    session: Session,
    portal: Portal,
    application: Case,
    actor: Actor,
    *,
    eligibility_outcome: str | None = None,
    reads: frozenset[str] = ALL_READS,
) -> CaseContext:
    """What the workflow's guards read about this case, as seen by `actor`, from stored rows.

    `reads` limits the queries to the facts the caller's guards need; the rest keep their
    neutral defaults (no experts, no scores, no objections).
    """
    application_id = cast(int, application.id)
    active: list[ExpertAssignment] = []
    if "experts" in reads:
        assignments = session.exec(
            select(ExpertAssignment).where(col(ExpertAssignment.application_id) == application_id)
        ).all()
        active = [a for a in assignments if not a.conflicted and a.excluded_at is None]
    mine = next((a for a in active if a.expert_id == actor.user_id), None) if actor.role == "expert" else None
    scores_passed = None
    if "scores" in reads:
        totals, excluded = score_totals(session, application_id)
        scores_passed = portal.rubric_for(application.measure_id).consensus(totals, excluded).passed
    objections: list[Objection] = []
    if "objections" in reads:
        objections = list(
            session.exec(select(Objection).where(col(Objection.application_id) == application_id)).all()
        )
    _, state = workflow_of(portal, application)
    notice_elapsed = False
    if state.timer is not None and application.stage_entered_at is not None:
        due_on = timer_due_on(state, portal.clock.local_date(application.stage_entered_at))
        notice_elapsed = due_on is not None and portal.today() >= due_on
    return CaseContext(
        enterprise_id=application.enterprise_id,
        district=application.district,
        lead_unit=application.lead_unit,
        returned_from=application.returned_from,
        attachments_complete="attachments" in reads and attachments_complete(session, portal, application),
        eligibility_outcome=eligibility_outcome or application.eligibility_outcome,
        coi_declared=mine is not None and mine.declared_at is not None,
        assigned_expert_ids=frozenset(a.expert_id for a in active),
        scores_passed=scores_passed,
        notice_elapsed=notice_elapsed,
        objection_pending=any(o.sustained is None for o in objections),
        objection_sustained=any(o.sustained is True for o in objections),
        money_benefit=grants_money(portal, application),
    )


def case_track(
    session: Session,
    portal: Portal,
    form: FormSpec | None,
    application: Application,
    answers: Mapping[str, Any],
) -> str | None:
    """The track the case counts under: the answer of the form's `track_field`, else the enterprise's."""
    answered = form.track(answers) if form is not None else None
    if answered is not None and answered in portal.city.tracks.labels:
        return answered
    enterprise = session.get(Enterprise, application.enterprise_id)
    return enterprise.ai_track if enterprise is not None else None


def bump(session: Session, application: Case, expected_version: int, values: dict[str, Any]) -> int:
    """Write `values` and version + 1 if still at `expected_version`; return the new version.

    A loaded `Application` then reads the stored values; a `CaseRow` stays as it was read.
    """
    new_version = expected_version + 1
    result = session.connection().execute(
        _BUMP,
        {**values, "version": new_version, "bump_id": application.id, "bump_expected": expected_version},
    )
    if result.rowcount != 1:
        raise StaleVersion("application", application.id, expected_version, None)
    if isinstance(application, Application):
        _show_stored(session, application, {**values, "version": new_version})
    return new_version


def _show_stored(session: Session, application: Application, values: Mapping[str, Any]) -> None:
    """Make the loaded row read what the UPDATE stored, without reading the row again.

    Text, integers, dates, booleans and NULL come back from the database as written, and an
    aware timestamp comes back in UTC; anything else (a JSON document, a Decimal) may come
    back in another form, so it is expired and read from the database on first access.
    """
    reread = []
    for key, value in values.items():
        if isinstance(value, datetime):
            set_committed_value(application, key, value.astimezone(UTC))
        elif value is None or isinstance(value, str | int | date):
            set_committed_value(application, key, value)
        else:
            reread.append(key)
    if reread:
        session.expire(application, reread)


def _recorded_actor_id(actor: Actor) -> int | None:
    """The system actor's placeholder id names no user, so the records store no one."""
    return None if actor.role == "system" else actor.user_id


def audit_case(
    session: Session,
    actor: Actor,
    application: Application,
    event: str,
    payload: Mapping[str, object],
    *,
    comment: str | None = None,
) -> None:
    """Audit a change that leaves the case in its stage (an edit, a panel change, an escalation).

    Stage changes are audited by `advance`; everything else a use case does to a case goes
    through here so that every such row names the case and its unchanged stage the same way.
    """
    append_audit(
        session,
        actor_id=_recorded_actor_id(actor),
        actor_role=actor.role,
        subject_type="application",
        subject_id=cast(int, application.id),
        event=event,
        from_state=application.state,
        to_state=application.state,
        comment=comment,
        payload=payload,
    )


def _stage_values(portal: Portal, application: Case, workflow: Workflow, target: str) -> dict[str, Any]:
    """Deadline bookkeeping for entering `target`: set, pause or resume the SLA clock."""
    now, today = portal.now(), portal.today()
    source_spec, target_spec = workflow.state(application.state), workflow.state(target)
    if target == application.state:  # a self-loop (a declaration, a score) is no new stage visit
        return {}
    values: dict[str, Any] = {
        "stage_entered_at": now,
        "overdue": False,
        "escalated_for_stage": None,
        "returned_from": None,
        "sla_paused_at": None,
    }
    if target_spec.paused_sla:
        # Keep due_on: the days left are counted from it when the enterprise resubmits.
        values.update(returned_from=application.state, sla_paused_at=now, due_on=application.due_on)
    elif source_spec.paused_sla and application.due_on is not None and application.sla_paused_at is not None:
        left = remaining_working_days(
            portal.calendar, application.due_on, portal.clock.local_date(application.sla_paused_at)
        )
        values["due_on"] = resumed_deadline(portal.calendar, left, today)
    else:
        values["due_on"] = stage_deadline(target_spec, today, portal.calendar)
    return values


@dataclass(frozen=True)
class Moved:
    """The result of one transition: the new state and version, and the letter it issued if any."""

    application_id: int
    from_state: str
    to_state: str
    version: int
    letter_id: int | None


def advance(
    session: Session,
    portal: Portal,
    application: Case,
    actor: Actor,
    event: str,
    *,
    comment: str | None,
    expected_version: int,
    context: CaseContext | None = None,
    extra_values: dict[str, Any] | None = None,
    audit_payload: dict[str, object] | None = None,
) -> Moved:
    """Fire `event` and persist everything it implies, inside the caller's transaction."""
    if application.version != expected_version:
        raise StaleVersion("application", application.id, expected_version, application.version)
    workflow, _ = workflow_of(portal, application)
    if context is None:
        reads = reads_of(workflow, application.state)
        context = case_context(session, portal, application, actor, reads=reads)
    try:
        target = workflow.fire(application.state, event, actor, context, comment)
    except TransitionRefused as refused:
        raise Refused(refused.code, refused.message_zh, refused.message_en, refused.detail) from None
    source = application.state
    entered = workflow.state(target)
    if target != source and (entered.kind == NOTICE_KIND or entered.decides == "approved"):
        # The notice shows the amount and the approval copies it: never one above what may be granted.
        refuse_grant_above_limit(
            portal, session, _loaded(session, application), workflow.state(source), entered
        )
    stage = _stage_values(portal, application, workflow, target)
    values = {"state": target, "updated_at": portal.now(), **stage, **(extra_values or {})}
    released = _released_holder(session, application, entered) if target != source else None
    if released is not None:
        values["assignee_id"] = None
    version = bump(session, application, expected_version, values)
    # Where the money went, kept as it is now: the payment notice prints it on every render.
    paid = (
        paid_into(session, _loaded(session, application))
        if target != source and entered.issues_letter == DISBURSEMENT_LETTER
        else None
    )
    # A notice opening takes its formal number (公示编号) now, in this transaction.
    notice_number = (
        _next_notice_number(session, portal, application)
        if entered.kind == NOTICE_KIND and workflow.state(source).kind != NOTICE_KIND
        else None
    )
    actor_id = _recorded_actor_id(actor)
    session.connection().execute(
        _ADD_TRANSITION,
        {
            "application_id": application.id,
            "from_state": source,
            "to_state": target,
            "event": event,
            "actor_id": actor_id,
            "comment": comment,
            "at": portal.now(),
            "paid_bank_name": paid.bank_name if paid is not None else None,
            "paid_account_number": paid.account_number if paid is not None else None,
            "notice_number": notice_number,
        },
    )
    _settle_objections(session, portal, application, actor, event, comment, source, target)
    letter: Letter | None = None
    if target != source and entered.issues_letter is not None:
        letter = record_decision(
            session,
            portal,
            application=_loaded(session, application),
            state=entered,
            actor=actor,
            comment=comment,
        )
    payload: dict[str, object] = {
        "application_id": application.id,
        "workflow": workflow.name,
        "version": version,
        # The stored due date: a `CaseRow` still holds the one it was read with.
        "due_on": values.get("due_on", application.due_on),
        **(audit_payload or {}),
    }
    if released is not None:
        payload["released_holder"] = released
    if notice_number is not None:
        payload["notice_number"] = notice_number
    if letter is not None:
        payload["letter"] = {"id": letter.id, "doc_number": letter.doc_number, "sha256": letter.sha256}
        if entered.decides is not None:
            payload["decision"] = decision_record(session, letter.decision_id)
    append_audit(
        session,
        actor_id=actor_id,
        actor_role=actor.role,
        subject_type="application",
        subject_id=cast(int, application.id),
        event=event,
        from_state=source,
        to_state=target,
        comment=comment,
        payload=payload,
    )
    if target != source:
        _tell_parties(
            session,
            application,
            workflow,
            target,
            actor,
            timer_due_on(entered, portal.today()),
            comment=comment,
            reopened=(audit_payload or {}).get(REOPENED_KEY),
            reply_by=reply_due_on(entered, portal.today(), portal.calendar),
            today=portal.today(),
        )
    return Moved(cast(int, application.id), source, target, version, letter.id if letter else None)


def _next_notice_number(session: Session, portal: Portal, application: Case) -> str:
    """The next public notice number of the case's lead unit this year, e.g. 穗科公示〔2026〕3号:
    the unit's abbreviation and the pack's notice mark, from the unit's own counter for notices."""
    try:
        abbr = portal.pack.unit_abbr(application.lead_unit)
    except KeyError as exc:
        raise BadStoredState("application", application.id, str(exc.args[0])) from None
    return next_doc_number(
        session,
        application.lead_unit,
        portal.today().year,
        abbr=abbr + portal.city.notice_mark,
        series=NOTICE_SERIES,
    )


def notice_number_of(session: Session, application_id: int) -> str | None:
    """The number of the case's latest public notice; None if it has none (never on notice, or
    its notice opened before notices were numbered)."""
    return session.exec(
        select(Transition.notice_number)
        .where(col(Transition.application_id) == application_id)
        .where(col(Transition.notice_number).is_not(None))
        .order_by(col(Transition.id).desc())
        .limit(1)
    ).first()


def _released_holder(session: Session, application: Case, entered: StateSpec) -> int | None:
    """The holder to release as the case enters `entered`: one who does not serve the unit now
    responsible for it (a district reviewer's claim ends when the bureau takes the case over).

    A stage of the enterprise, the experts or the system keeps the holder, who picks the case
    up again when it comes back.
    """
    holder = application.assignee_id
    if holder is None or entered.responsible not in _UNIT_PARTIES:
        return None
    user = session.get(User, holder)
    return None if user is not None and serves_stage(user, application, entered) else holder


def serves_stage(user: User, application: Case, stage: StateSpec) -> bool:
    """May `user` hold the case in `stage`: an active reviewer of the unit responsible for it
    (the case's district, or its lead unit), or of either while no unit is responsible."""
    if not user.active or user.role != "reviewer":
        return False
    district = user.district == application.district
    bureau = user.bureau is not None and user.bureau == application.lead_unit
    if stage.responsible == "district":
        return district
    if stage.responsible == "bureau":
        return bureau
    return district or bureau


def _loaded(session: Session, application: Case) -> Application:
    """The ORM row a letter is made from; a `CaseRow`'s is read after the UPDATE, so it is current."""
    if isinstance(application, Application):
        return application
    return session.get_one(Application, application.id, populate_existing=True)


def _settle_objections(
    session: Session,
    portal: Portal,
    application: Case,
    actor: Actor,
    event: str,
    comment: str | None,
    source: str,
    target: str,
) -> None:
    """Deciding on a public-notice objection is part of the transition that does so (from
    `source`, the state the case enters by it is `target`)."""
    sustained = OBJECTION_DECISIONS.get(event)
    if sustained is None:
        return
    pending = session.exec(
        select(Objection)
        .where(col(Objection.application_id) == application.id)
        .where(col(Objection.sustained).is_(None))
    ).all()
    for objection in pending:
        objection.sustained = sustained
        objection.decided_by = actor.user_id
        objection.decided_at = portal.now()
        objection.decision_comment = comment
        session.add(objection)
    _tell_objection_outcome(
        session, portal, application, pending, upheld=sustained, comment=comment, source=source, target=target
    )


def _tell_objection_outcome(
    session: Session,
    portal: Portal,
    application: Case,
    decided: Sequence[Objection],
    *,
    upheld: bool,
    comment: str | None,
    source: str,
    target: str,
) -> None:
    """Each objector who gave an address is e-mailed the outcome and its reasons. The enterprise
    is told either way what happens to its case now (never who objected or why): an upheld
    objection with the reviewer's reasons, a dismissed one on which day, and how the case goes
    on from `target` (`_after_dismissal`)."""
    # The objector knows the notice by its number; one opened before notices were numbered by
    # its case number, as before.
    number = notice_number_of(session, cast(int, application.id)) if decided else None
    for objection in decided:
        if objection.objector_email:
            notify(
                session,
                kind="objection_outcome",
                role=PUBLIC_ROLE,
                email=objection.objector_email,
                lang=objection.objector_lang,
                message="note.objection_decided" if number is None else "note.notice_objection_decided",
                params={
                    "id": application.id,
                    "reference": objection.reference,
                    "outcome": "upheld" if upheld else "dismissed",
                    "comment": comment or "",
                }
                | ({} if number is None else {"notice": number}),
                dedupe_key=f"objection_outcome:{objection.id}",
            )
    if upheld:
        notify(
            session,
            kind="case_update",
            enterprise_id=application.enterprise_id,
            link=f"/applications/{application.id}",
            message="note.objection_upheld",
            params={"id": application.id, "comment": comment or ""},
            dedupe_key=f"objection_upheld:{application.id}",
        )
    elif decided:
        notify(
            session,
            kind="case_update",
            enterprise_id=application.enterprise_id,
            link=f"/applications/{application.id}",
            message="note.objection_dismissed_on",
            params={
                "id": application.id,
                "workflow": application.workflow,
                "state": target,
                "date": portal.today().isoformat(),
                **_after_dismissal(portal, application, source, target),
            },
            dedupe_key=f"objection_dismissed:{min(cast(int, o.id) for o in decided)}",
        )


def _after_dismissal(portal: Portal, application: Case, source: str, target: str) -> dict[str, object]:
    """How the case goes on after a dismissed objection, as the enterprise's note says it: read off
    the state it is in now. A timed state (a notice) moves on when its period ends, on the day
    after its last day (`last_day`, or that day has passed); an untimed one continues there.

    A dismissal that keeps the case in its stage keeps the stage's period, counted from the day
    the case entered it; one that moves it starts the new stage's period today.
    """
    workflow, _ = workflow_of(portal, application)
    stage = workflow.state(target)
    if stage.timer is None:
        return {"next": "continues"}
    if target != source:
        entered_on = portal.today()
    elif application.stage_entered_at is not None:
        entered_on = portal.clock.local_date(application.stage_entered_at)
    else:  # a row older than its stage bookkeeping: the period is not known
        return {"next": "timed"}
    last_day = cast(date, timer_last_day(stage, entered_on))
    return {"next": "ended" if last_day < portal.today() else "until", "last_day": last_day.isoformat()}


def _tell_parties(
    session: Session,
    application: Case,
    workflow: Workflow,
    target: str,
    actor: Actor,
    timer_due: date | None,
    *,
    comment: str | None,
    reopened: object,
    reply_by: date | None,
    today: date,
) -> None:
    """Tell the enterprise its case moved, and the party now responsible that it has work.

    A case returned for amendment tells the enterprise what to amend and why, in the
    reviewer's words, and by which day to answer when the stage sets a reply period. A stage
    its timer ends (a public notice) asks nothing of that party yet: it is told to watch it,
    and from which day the system moves the case on by itself. A case the enterprise itself
    hands over (a submission, a resubmission after amendment) gets its receipt (回执): the day
    and the stage it now waits at, in its inbox and by e-mail, as a counter would stamp it.
    """
    link = f"/applications/{application.id}"
    params = {
        "id": application.id,
        "measure": application.measure_id,
        "workflow": workflow.name,
        "state": target,
    }
    rows = []
    stage = workflow.state(target)
    if actor.role == "enterprise" and stage.responsible not in (None, "enterprise") and not stage.final:
        rows.append(
            note(
                kind="case_update",
                enterprise_id=application.enterprise_id,
                link=link,
                message="note.case_received",
                params={**params, "date": today.isoformat()},
            )
        )
    if actor.role != "enterprise":
        amend = workflow.state(target).kind == "amendment"
        sections = [str(s) for s in reopened] if isinstance(reopened, list) else []
        message, told = "note.case_update", dict[str, object](params)
        if amend:
            message = "note.amendment_requested" if reply_by is None else "note.amendment_requested_by"
            told.update(comment=comment or "", sections=sections)
            if reply_by is not None:
                told["deadline"] = reply_by.isoformat()
        rows.append(
            note(
                kind="case_update",
                enterprise_id=application.enterprise_id,
                link=link,
                message=message,
                params=told,
            )
        )
    recipients = party_recipients(application, workflow.state(target).responsible)
    if recipients is not None:
        rows.append(
            note(
                kind="work_item",
                **recipients,
                link=link,
                message="note.work_item" if timer_due is None else "note.timed_stage",
                params=params if timer_due is None else {**params, "deadline": timer_due.isoformat()},
            )
        )
    notify_all(session, rows)
