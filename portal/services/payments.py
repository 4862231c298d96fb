"""Payment batches (拨付批次): the bureau collects approved cases, sends the bank one file, marks it sent.

Which cases may be paid, and by whom, is read off the workflow: the disbursement transition is
the one entering a stage that issues the disbursement letter; its source stage holds the cases
waiting for money, and its roles and jurisdiction say who fires it. A case joins a batch only
if the actor could fire that event on it now. The amount is the stored decision's granted
amount, never re-evaluated; the payee is the account the enterprise gave in its answers.
Reconciling the bank's return file lives in `payments_returns`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from portal.db.audit import append_audit
from portal.db.tables import (
    Application,
    BatchStatus,
    Decision,
    Enterprise,
    LineOutcome,
    PaymentBatch,
    PaymentLine,
    PaymentReturn,
    PaymentReturnLine,
    ReturnResult,
)
from portal.services.access import Case, load_visible, visible_to
from portal.services.cases import case_context, reads_of, workflow_of
from portal.services.context import Portal
from portal.services.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    NotFound,
    Refused,
    StaleVersion,
    ValidationFailed,
)
from portal.services.payee_accounts import Payee, payee_of
from portal.services.queue import takes
from portal.workflows import Actor, Workflow
from portal.workflows.spec import TransitionSpec

DISBURSEMENT_LETTER = "disbursement"
SUBJECT = "payment_batch"
MAX_CANDIDATES = 500
_TABLE: Any = PaymentBatch.__table__  # type: ignore[attr-defined]


def disbursement_edge(workflow: Workflow) -> TransitionSpec | None:
    """The workflow's first transition into the stage issuing the disbursement letter, if any."""
    return next(
        (
            edge
            for edge in workflow.transitions
            if workflow.state(edge.target).issues_letter == DISBURSEMENT_LETTER
        ),
        None,
    )


def disbursement_edges(portal: Portal) -> dict[str, TransitionSpec]:
    """Per workflow, the transition that enters the stage issuing the disbursement letter."""
    edges: dict[str, TransitionSpec] = {}
    for name, workflow in portal.workflows.items():
        edge = disbursement_edge(workflow)
        if edge is not None:
            edges[name] = edge
    return edges


def may_pay(portal: Portal, actor: Actor) -> bool:
    """Whether the actor's role and jurisdiction are those of some disbursement transition."""
    return any(takes(actor, edge.roles, edge.jurisdiction) for edge in disbursement_edges(portal).values())


def require_payer(portal: Portal, actor: Actor) -> None:
    if not may_pay(portal, actor):
        raise Forbidden(
            "仅负责拨付的单位可以办理拨付批次", "only the unit that disburses may handle payment batches"
        )


@dataclass(frozen=True)
class Candidate:
    """An approved case waiting for money; `problem` (zh, en) says why it cannot join a batch."""

    application: Application
    enterprise: Enterprise
    amount: Decimal | None
    payee: Payee | None
    problem: tuple[str, str] | None


def _decision(session: Session, application_id: int) -> Decision | None:
    return session.exec(select(Decision).where(col(Decision.application_id) == application_id)).first()


def open_line(session: Session, application_id: int) -> PaymentLine | None:
    return session.exec(
        select(PaymentLine)
        .where(col(PaymentLine.application_id) == application_id)
        .where(col(PaymentLine.outcome) == LineOutcome.PENDING.value)
    ).first()


def latest_line(session: Session, application_id: int) -> PaymentLine | None:
    """The case's newest payment line (its last attempt to be paid), through the index by case."""
    return session.exec(
        select(PaymentLine)
        .where(col(PaymentLine.application_id) == application_id)
        .order_by(col(PaymentLine.id).desc())
        .limit(1)
    ).first()


def _holding_line(
    session: Session, portal: Portal, application: Case, events: Collection[str]
) -> tuple[str, PaymentLine] | None:
    """The disbursement event among `events` and the payment line that holds it, if one does.

    A line waiting for the bank holds it (the return file fires it); so does a line the bank
    reported failed while it is the case's latest: no money arrived, and paying is done again
    through a new batch, never by a click that records money the bank did not pay.
    """
    workflow = portal.workflows.get(application.workflow)
    edge = disbursement_edge(workflow) if workflow is not None else None
    if edge is None or edge.event not in events:
        return None
    line = latest_line(session, cast(int, application.id))
    if line is None or line.outcome == LineOutcome.PAID.value:
        return None
    return edge.event, line


def batched_event(session: Session, portal: Portal, application: Case, events: Collection[str]) -> str | None:
    """The one of `events` the case's payment lines hold: its disbursement, while the case waits
    in a payment batch (only the bank's return file may fire it) or its latest payment failed at
    the bank (it must join a new batch), so no page offers it and no one fires it by hand.

    The batch lines are read only when `events` holds the disbursement, so the other
    transitions and most case pages pay no query for it.
    """
    held = _holding_line(session, portal, application, events)
    return held[0] if held is not None else None


def refuse_if_batched(session: Session, portal: Portal, application: Case, event: str) -> None:
    """A case waiting in a payment batch is disbursed by the bank's return file, never by hand:
    recording it twice would tell the enterprise, and the ledger, it was paid twice. A case whose
    latest payment the bank reported failed was not paid: recording it as disbursed would send a
    letter, and count money, that never reached the enterprise."""
    held = _holding_line(session, portal, application, (event,))
    if held is None:
        return
    _, line = held
    if line.outcome == LineOutcome.FAILED.value:
        raise Refused(
            "payment_failed",
            f"银行已报告该案件的拨付失败（第 {line.batch_id} 批），不能确认拨付；请将案件纳入新的拨付批次",
            f"the bank reported that the payment for this case failed (batch {line.batch_id}), so its "
            "disbursement cannot be confirmed; put the case into a new payment batch",
        )
    raise Refused(
        "in_payment_batch",
        "该案件在拨付批次中，将凭银行回单确认拨付",
        "The case is in a payment batch; the bank's return file records its disbursement.",
    )


@dataclass(frozen=True)
class CasePayment:
    """One attempt to pay a case, as its page tells it: the batch, the outcome, what the bank said."""

    batch_id: int
    outcome: str
    amount: Decimal
    added_at: datetime
    settled_at: datetime | None
    bank_message: str | None
    batch_reachable: bool  # the actor handles the batch's unit, so its page opens for them
    held_as_failed: bool  # the case's latest line, failed at the bank: no one may confirm it as paid


def case_payments(portal: Portal, actor: Actor, application_id: int) -> list[CasePayment]:
    """The case's payment attempts, newest first, while it waits for money or once it is paid.

    Read only for a case at either end of its workflow's disbursement transition: a case in any
    other stage has none to show, and its page pays no query for them.
    """
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        workflow = portal.workflows.get(application.workflow)
        edge = disbursement_edge(workflow) if workflow is not None else None
        if edge is None or application.state not in (edge.source, edge.target):
            return []
        rows = session.exec(
            select(PaymentLine, PaymentBatch)
            .join(PaymentBatch, col(PaymentBatch.id) == PaymentLine.batch_id)
            .where(col(PaymentLine.application_id) == application_id)
            .order_by(col(PaymentLine.id).desc())
        ).all()
        reach = may_pay(portal, actor)
        scope = unit_scope(actor)
        return [
            CasePayment(
                batch_id=cast(int, batch.id),
                outcome=line.outcome,
                amount=line.amount,
                added_at=line.added_at,
                settled_at=line.settled_at,
                bank_message=line.bank_message,
                batch_reachable=reach and (actor.role == "admin" or batch.lead_unit == scope),
                held_as_failed=(
                    index == 0
                    and line.outcome == LineOutcome.FAILED.value
                    and application.state == edge.source
                ),
            )
            for index, (line, batch) in enumerate(rows)
        ]


def _problem(
    session: Session, portal: Portal, actor: Actor, application: Application, enterprise: Enterprise
) -> tuple[tuple[str, str] | None, Decimal | None, Payee | None]:
    """Why the case cannot be paid in a batch now (None if it can), its amount and its payee."""
    decision = _decision(session, cast(int, application.id))
    amount = decision.granted_amount if decision is not None else None
    payee = payee_of(session, application, enterprise)
    workflow, _ = workflow_of(portal, application)
    edge = disbursement_edges(portal).get(workflow.name)
    if edge is None or application.state != edge.source:
        return ("案件不在待拨付阶段", "the case is not waiting for disbursement"), amount, payee
    context = case_context(session, portal, application, actor, reads=reads_of(workflow, application.state))
    if edge.event not in {e.name for e in workflow.allowed_events(application.state, actor, context)}:
        return ("您不能为此案件办理拨付", "you may not disburse this case"), amount, payee
    if amount is None or amount <= 0:
        return ("决定未核定拨付金额", "the decision grants no amount to pay"), amount, payee
    if payee is None:
        return (
            (
                "企业未提供收款账户，请联系企业补充后再纳入批次",
                "the enterprise has given no payment account; ask it for one before batching the case",
            ),
            amount,
            payee,
        )
    if open_line(session, cast(int, application.id)) is not None:
        return ("案件已在未结清的拨付批次中", "the case is already in an open payment batch"), amount, payee
    return None, amount, payee


def candidates(portal: Portal, actor: Actor, lead_unit: str | None = None) -> list[Candidate]:
    """Cases in the stage disbursement starts from that this actor sees, longest waiting first."""
    require_payer(portal, actor)
    waiting = [
        and_(col(Application.workflow) == name, col(Application.state) == edge.source)
        for name, edge in disbursement_edges(portal).items()
    ]
    if not waiting:
        return []
    query = (
        select(Application, Enterprise)
        .join(Enterprise, col(Enterprise.id) == Application.enterprise_id)
        .where(visible_to(actor), or_(*waiting))
    )
    if lead_unit is not None:
        query = query.where(col(Application.lead_unit) == lead_unit)
    query = query.order_by(col(Application.stage_entered_at), col(Application.id)).limit(MAX_CANDIDATES)
    with portal.reading() as session:
        found = []
        for application, enterprise in session.exec(query).all():
            problem, amount, payee = _problem(session, portal, actor, application, enterprise)
            found.append(Candidate(application, enterprise, amount, payee, problem))
        return found


def unit_scope(actor: Actor) -> str | None:
    """The one unit whose batches a reviewer handles (their bureau); None for the admin (all units)."""
    return None if actor.role == "admin" else actor.bureau


def load_batch(session: Session, actor: Actor, batch_id: int) -> PaymentBatch:
    """The batch if the actor handles its unit, else NotFound (whether or not it exists)."""
    batch = session.get(PaymentBatch, batch_id)
    scope = unit_scope(actor)
    if batch is None or (actor.role != "admin" and (scope is None or batch.lead_unit != scope)):
        raise NotFound(SUBJECT, batch_id)
    return batch


def bump_batch(session: Session, batch: PaymentBatch, expected_version: int, values: dict[str, Any]) -> None:
    """Write `values` and version + 1 if the batch is still at `expected_version`."""
    result = session.execute(
        update(_TABLE)
        .where(_TABLE.c.id == batch.id, _TABLE.c.version == expected_version)
        .values(**values, version=expected_version + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleVersion(SUBJECT, batch.id, expected_version, None)
    session.expire(batch)


def audit_batch(
    session: Session, actor: Actor, batch: PaymentBatch, event: str, payload: dict[str, object]
) -> None:
    append_audit(
        session,
        actor_id=actor.user_id,
        actor_role=actor.role,
        subject_type=SUBJECT,
        subject_id=cast(int, batch.id),
        event=event,
        payload={"lead_unit": batch.lead_unit, **payload},
    )


def _require_open(batch: PaymentBatch) -> None:
    if batch.status != BatchStatus.OPEN.value:
        raise Refused(
            "batch_not_open",
            "批次已发送银行，不能再增减案件",
            "the batch has been sent to the bank; its cases can no longer change",
        )


def _case_problem(case_id: int, problem: tuple[str, str], lang: str) -> FieldProblem:
    zh, en = problem
    return FieldProblem(
        f"case-{case_id}", f"Case {case_id}: {en}" if lang == "en" else f"案件 {case_id}：{zh}"
    )


def _new_lines(
    session: Session, portal: Portal, actor: Actor, application_ids: Sequence[int], lang: str
) -> list[PaymentLine]:
    """Lines for these cases, all checked first: any case that may not be paid refuses them all."""
    if not application_ids or len(application_ids) > MAX_CANDIDATES:
        zh, en = "请至少选择一件案件。", "Choose at least one case."
        if application_ids:
            zh, en = (
                f"一个批次至多 {MAX_CANDIDATES} 件案件。",
                f"A batch holds at most {MAX_CANDIDATES} cases.",
            )
        raise ValidationFailed([FieldProblem("cases", en if lang == "en" else zh)])
    problems: list[FieldProblem] = []
    lines: list[PaymentLine] = []
    for case_id in dict.fromkeys(application_ids):
        application = session.exec(
            select(Application).where(col(Application.id) == case_id).where(visible_to(actor))
        ).first()
        enterprise = session.get(Enterprise, application.enterprise_id) if application else None
        if application is None or enterprise is None:
            problems.append(_case_problem(case_id, ("未找到该案件", "no such case"), lang))
            continue
        problem, amount, payee = _problem(session, portal, actor, application, enterprise)
        if problem is not None:
            problems.append(_case_problem(case_id, problem, lang))
            continue
        decision = _decision(session, case_id)
        assert decision is not None and amount is not None and payee is not None  # _problem checked
        lines.append(
            PaymentLine(
                batch_id=0,
                application_id=case_id,
                decision_id=cast(int, decision.id),
                payee_name=payee.name,
                uscc=enterprise.uscc,
                bank_name=payee.bank_name,
                account_number=payee.account_number,
                amount=amount,
                added_by=actor.user_id,
                added_at=portal.now(),
            )
        )
    if problems:
        raise ValidationFailed(problems)
    return lines


def _lead_unit_of(session: Session, lines: list[PaymentLine], lang: str, unit: str | None = None) -> str:
    """The one issuing unit of these cases (a batch pays from one unit's budget)."""
    units = {cast(Application, session.get(Application, line.application_id)).lead_unit for line in lines}
    if unit is not None:
        units.add(unit)
    if len(units) != 1:
        message = (
            "A batch holds the cases of one issuing unit only."
            if lang == "en"
            else "一个批次只能包含同一拨付单位的案件。"
        )
        raise ValidationFailed([FieldProblem("cases", message)])
    return units.pop()


def _insert(session: Session, batch_id: int, lines: list[PaymentLine]) -> None:
    """Store the lines; a case another batch took meanwhile trips the database's one-open-batch index."""
    for line in lines:
        line.batch_id = batch_id
        session.add(line)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "a case was put into another open payment batch meanwhile; reload and try again"
        ) from None


def _line_payload(lines: list[PaymentLine]) -> list[dict[str, object]]:
    return [{"application_id": line.application_id, "amount": line.amount} for line in lines]


def create_batch(
    portal: Portal, actor: Actor, application_ids: Sequence[int], *, lang: str = "zh"
) -> PaymentBatch:
    """Open a batch holding these approved cases; every case is checked, or none is added."""
    require_payer(portal, actor)
    with portal.transaction() as session:
        lines = _new_lines(session, portal, actor, application_ids, lang)
        batch = PaymentBatch(
            lead_unit=_lead_unit_of(session, lines, lang), created_by=actor.user_id, created_at=portal.now()
        )
        session.add(batch)
        session.flush()
        _insert(session, cast(int, batch.id), lines)
        audit_batch(session, actor, batch, "batch_created", {"lines": _line_payload(lines)})
        session.refresh(batch)
        return batch


def add_cases(
    portal: Portal,
    actor: Actor,
    batch_id: int,
    application_ids: Sequence[int],
    expected_version: int,
    *,
    lang: str = "zh",
) -> PaymentBatch:
    """Add cases to an open batch of the same unit."""
    require_payer(portal, actor)
    with portal.transaction() as session:
        batch = load_batch(session, actor, batch_id)
        _require_open(batch)
        lines = _new_lines(session, portal, actor, application_ids, lang)
        _lead_unit_of(session, lines, lang, batch.lead_unit)
        bump_batch(session, batch, expected_version, {})
        _insert(session, batch_id, lines)
        audit_batch(session, actor, batch, "batch_lines_added", {"lines": _line_payload(lines)})
        session.refresh(batch)
        return batch


def remove_case(
    portal: Portal, actor: Actor, batch_id: int, application_id: int, expected_version: int
) -> PaymentBatch:
    """Take a case out of an open batch; it may join another one."""
    require_payer(portal, actor)
    with portal.transaction() as session:
        batch = load_batch(session, actor, batch_id)
        _require_open(batch)
        line = session.exec(
            select(PaymentLine)
            .where(col(PaymentLine.batch_id) == batch_id)
            .where(col(PaymentLine.application_id) == application_id)
        ).first()
        if line is None:
            raise NotFound("payment_line", application_id)
        bump_batch(session, batch, expected_version, {})
        session.delete(line)
        audit_batch(session, actor, batch, "batch_line_removed", {"application_id": application_id})
        session.refresh(batch)
        return batch


def batch_lines(session: Session, batch_id: int) -> list[PaymentLine]:
    return list(
        session.exec(
            select(PaymentLine).where(col(PaymentLine.batch_id) == batch_id).order_by(col(PaymentLine.id))
        ).all()
    )


def mark_sent(portal: Portal, actor: Actor, batch_id: int, expected_version: int) -> PaymentBatch:
    """Freeze the batch: its file has gone to the bank, and only the bank's return file settles it."""
    require_payer(portal, actor)
    with portal.transaction() as session:
        batch = load_batch(session, actor, batch_id)
        _require_open(batch)
        lines = batch_lines(session, batch_id)
        if not lines:
            raise Refused("batch_empty", "空批次不能发送", "an empty batch cannot be sent")
        bump_batch(
            session,
            batch,
            expected_version,
            {"status": BatchStatus.SENT.value, "sent_by": actor.user_id, "sent_at": portal.now()},
        )
        total = sum((line.amount for line in lines), Decimal(0))
        audit_batch(session, actor, batch, "batch_sent", {"count": len(lines), "total": total})
        session.refresh(batch)
        return batch


@dataclass(frozen=True)
class Settled:
    """What the bank has done with a batch's lines: paid, failed and still pending, counted and summed,
    and where the batch stands (`standing`, a message key's last part: a batch the bank has closed
    with failed lines says so, and never reads as settled in full)."""

    paid: int
    paid_total: Decimal
    failed: int
    failed_total: Decimal
    pending: int
    pending_total: Decimal
    standing: str


def settled_of(batch: PaymentBatch, lines: Sequence[PaymentLine]) -> Settled:
    def of(outcome: LineOutcome) -> tuple[int, Decimal]:
        amounts = [line.amount for line in lines if line.outcome == outcome.value]
        return len(amounts), sum(amounts, Decimal(0))

    (paid, paid_total), (failed, failed_total), (pending, pending_total) = (
        of(LineOutcome.PAID),
        of(LineOutcome.FAILED),
        of(LineOutcome.PENDING),
    )
    standing = batch.status
    if failed and batch.status == BatchStatus.SENT.value:
        standing = "sent_some_failed"
    elif failed and batch.status == BatchStatus.CLOSED.value:
        standing = "closed_some_failed" if paid else "closed_all_failed"
    return Settled(paid, paid_total, failed, failed_total, pending, pending_total, standing)


@dataclass(frozen=True)
class BatchDetail:
    """A batch with its lines (and their cases), its imported return files and what needs follow-up."""

    batch: PaymentBatch
    lines: list[tuple[PaymentLine, Application]]
    returns: list[PaymentReturn]
    follow_up: list[tuple[PaymentReturn, PaymentReturnLine]]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line, _ in self.lines), Decimal(0))

    @property
    def settled(self) -> Settled:
        return settled_of(self.batch, [line for line, _ in self.lines])


FOLLOW_UP = frozenset(
    {ReturnResult.FAILED, ReturnResult.UNMATCHED, ReturnResult.AMOUNT_MISMATCH, ReturnResult.CASE_MOVED}
)


def _detail(session: Session, batch: PaymentBatch) -> BatchDetail:
    lines = session.exec(
        select(PaymentLine, Application)
        .join(Application, col(Application.id) == PaymentLine.application_id)
        .where(col(PaymentLine.batch_id) == batch.id)
        .order_by(col(PaymentLine.id))
    ).all()
    returns = session.exec(
        select(PaymentReturn).where(col(PaymentReturn.batch_id) == batch.id).order_by(col(PaymentReturn.id))
    ).all()
    follow_up = session.exec(
        select(PaymentReturn, PaymentReturnLine)
        .join(PaymentReturnLine, col(PaymentReturnLine.return_id) == PaymentReturn.id)
        .where(col(PaymentReturn.batch_id) == batch.id)
        .where(col(PaymentReturnLine.result).in_([r.value for r in FOLLOW_UP]))
        .order_by(col(PaymentReturn.id), col(PaymentReturnLine.line_no))
    ).all()
    paid_again = _paid_again(session, [line for line, _ in lines])
    by_id = {line.id: line for line, _ in lines}
    return BatchDetail(
        batch,
        [(line, a) for line, a in lines],
        list(returns),
        [(r, line) for r, line in follow_up if not _stale(line, by_id.get(line.payment_line_id), paid_again)],
    )


def _paid_again(session: Session, lines: Sequence[PaymentLine]) -> set[int]:
    """The failed lines of these whose case has joined a later batch since (one grouped query)."""
    failed = {line.application_id: cast(int, line.id) for line in lines if line.outcome == LineOutcome.FAILED}
    if not failed:
        return set()
    newest = session.exec(
        select(PaymentLine.application_id, func.max(PaymentLine.id))
        .where(col(PaymentLine.application_id).in_(failed))
        .group_by(col(PaymentLine.application_id))
    ).all()
    return {failed[case_id] for case_id, last in newest if last is not None and last > failed[case_id]}


def _stale(row: PaymentReturnLine, line: PaymentLine | None, paid_again: set[int]) -> bool:
    """A follow-up line nothing is left to do for: the payment it was about has been settled since
    (a mismatched amount or a moved case, then paid or failed by a later file), or it failed and its
    case has joined a later batch. A line matching no payment always stays: the bank paid something."""
    if line is None:
        return False
    if row.result == ReturnResult.FAILED:
        return line.id in paid_again
    return line.outcome != LineOutcome.PENDING


def batch_detail(portal: Portal, actor: Actor, batch_id: int) -> BatchDetail:
    """One batch as its page shows it."""
    require_payer(portal, actor)
    with portal.reading() as session:
        return _detail(session, load_batch(session, actor, batch_id))


def payment_file(portal: Portal, actor: Actor, batch_id: int, kind: str) -> BatchDetail:
    """The batch for a payment file or printed list; handing the file out is audited (`kind` says which)."""
    require_payer(portal, actor)
    with portal.transaction() as session:
        batch = load_batch(session, actor, batch_id)
        detail = _detail(session, batch)
        audit_batch(
            session,
            actor,
            batch,
            "payment_file_exported",
            {"format": kind, "count": len(detail.lines), "total": detail.total},
        )
        return detail


@dataclass(frozen=True)
class BatchSummary:
    batch: PaymentBatch
    count: int
    total: Decimal
    settled: Settled


def list_batches(portal: Portal, actor: Actor) -> list[BatchSummary]:
    """The batches of the actor's unit (every unit for the admin), newest first."""
    require_payer(portal, actor)
    query = select(PaymentBatch).order_by(col(PaymentBatch.id).desc())
    scope = unit_scope(actor)
    if actor.role != "admin":
        query = query.where(col(PaymentBatch.lead_unit) == (scope or ""))
    with portal.reading() as session:
        summaries = []
        for batch in session.exec(query).all():
            lines = batch_lines(session, cast(int, batch.id))
            total = sum((line.amount for line in lines), Decimal(0))
            summaries.append(BatchSummary(batch, len(lines), total, settled_of(batch, lines)))
        return summaries
