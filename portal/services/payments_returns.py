"""Reconciling a payment batch with the bank's return file (回单): who was paid, who was not.

The file is CSV (UTF-8, or GB18030 as Chinese banks often write), one header row naming the
columns in Chinese or English, in any order (docs/payments.md):

    业务参考号 / reference   the case number, as in the payment file        required
    金额（元） / amount       yuan, at most two decimals                      required
    状态 / status            成功 or 失败 (success or failed)                 required
    说明 / message           the bank's words, e.g. why a transfer failed     optional

The whole file is read and checked before anything is written: one bad line refuses the file,
naming each line and column. Then, in one transaction, each success line that matches a pending
line of the batch with the same amount fires the disbursement transition on its case through
`applications.transition_in`, so the disbursement letter and the notifications happen as for a
transition fired by hand; a failed line frees its case for a later batch; anything else is kept
for follow-up. The same file imported again finds its earlier import and changes nothing, and a
line already settled by another file is reported as such: nothing moves twice.

A failed line is also told, in the same transaction: the enterprise (no money arrived; check the
account it is paid into; the bureau pays again) and the staff who may disburse the case, read off
the workflow's disbursement transition (its roles, in its jurisdiction), who must batch it again.
Each failed line is told once: it is settled by then, so no later file tells it again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import cast

from sqlalchemy import update
from sqlmodel import Session, col, select

from portal.db.tables import (
    Application,
    BatchStatus,
    LineOutcome,
    PaymentBatch,
    PaymentLine,
    PaymentReturn,
    PaymentReturnLine,
    ReturnResult,
)
from portal.services.applications import transition_in
from portal.services.cases import workflow_of
from portal.services.context import Portal
from portal.services.errors import FieldProblem, Refused, ValidationFailed
from portal.services.notifications import notify
from portal.services.payments import (
    audit_batch,
    batch_lines,
    bump_batch,
    disbursement_edges,
    load_batch,
    require_payer,
)
from portal.text_rules import without_bidi
from portal.workflows import Actor
from portal.workflows.spec import TransitionSpec

MAX_BYTES = 2_000_000
MAX_LINES = 10_000
# Column → (zh label, en label, the header names accepted for it, lower-cased).
COLUMNS: dict[str, tuple[str, str, frozenset[str]]] = {
    "reference": ("业务参考号", "Reference", frozenset({"业务参考号", "参考号", "reference"})),
    "amount": (
        "金额（元）",
        "Amount (yuan)",
        frozenset({"金额（元）", "金额(元)", "金额", "amount (yuan)", "amount"}),
    ),
    # The help text once named the column "状态（成功/失败）": files written from it are read too.
    "status": (
        "状态",
        "Status",
        frozenset({"状态", "状态（成功/失败）", "状态(成功/失败)", "status", "status (success/failed)"}),
    ),
    "message": ("说明", "Message", frozenset({"说明", "备注", "message"})),
}
REQUIRED = ("reference", "amount", "status")
OPTIONAL = tuple(column for column in COLUMNS if column not in REQUIRED)
_STATUS = {"成功": True, "success": True, "失败": False, "failed": False}
_AMOUNT = re.compile(r"\d{1,16}(\.\d{1,2})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BATCH_TABLE = PaymentBatch.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ReturnRow:
    """One line of the bank's file, read and checked."""

    line_no: int
    reference: str
    amount: Decimal
    paid: bool
    message: str | None


def _label(column: str, lang: str) -> str:
    zh, en, _ = COLUMNS[column]
    return en if lang == "en" else zh


def header_names(lang: str) -> tuple[list[str], list[str]]:
    """The column names a help text shows (required, optional), each one the file may use as is."""
    return [_label(c, lang) for c in REQUIRED], [_label(c, lang) for c in OPTIONAL]


def _problem(line_no: int, column: str, zh: str, en: str, lang: str) -> FieldProblem:
    where = (
        f"Line {line_no}, {_label(column, 'en')}: "
        if lang == "en"
        else f"第 {line_no} 行“{_label(column, 'zh')}”："
    )
    return FieldProblem(f"line-{line_no}-{column}", where + (en if lang == "en" else zh))


def _file_problem(zh: str, en: str, lang: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem("file", en if lang == "en" else zh)])


def _decode(content: bytes, lang: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_problem(
        "文件不是 UTF-8 或 GB18030 编码的 CSV 文件", "the file is not CSV in UTF-8 or GB18030", lang
    )


def _columns(header: list[str], lang: str) -> dict[str, int]:
    """Where each column is, from the header row; an unknown or missing column refuses the file."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = cell.strip().lower()
        column = next((c for c, (_, _, names) in COLUMNS.items() if name in names), None)
        if column is None and name:
            raise _file_problem(
                f"第 1 行：无法识别的列“{cell.strip()[:40]}”",
                f"line 1: unknown column {cell.strip()[:40]!r}",
                lang,
            )
        if column is not None:
            if column in found:
                raise _file_problem(
                    f"第 1 行：列“{_label(column, 'zh')}”出现两次",
                    f"line 1: column {_label(column, 'en')!r} appears twice",
                    lang,
                )
            found[column] = index
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        zh = "、".join(_label(c, "zh") for c in missing)
        en = ", ".join(_label(c, "en") for c in missing)
        raise _file_problem(f"第 1 行：缺少列 {zh}", f"line 1: missing column(s) {en}", lang)
    return found


def _row(
    line_no: int, cells: list[str], where: dict[str, int], lang: str
) -> tuple[ReturnRow | None, list[FieldProblem]]:
    def cell(column: str) -> str:
        index = where.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    problems: list[FieldProblem] = []
    for column in where:
        if _CONTROL.search(cell(column)):
            problems.append(_problem(line_no, column, "含有控制字符", "contains a control character", lang))
    reference, amount, status, message = cell("reference"), cell("amount"), cell("status"), cell("message")
    if not reference or len(reference) > 40:
        problems.append(
            _problem(
                line_no, "reference", "须填写，且不超过40个字符", "is required, at most 40 characters", lang
            )
        )
    if not _AMOUNT.fullmatch(amount.replace(",", "")):
        problems.append(
            _problem(line_no, "amount", "须为金额，如 200000.00", "must be an amount such as 200000.00", lang)
        )
    if status.lower() not in _STATUS:
        problems.append(_problem(line_no, "status", "须为“成功”或“失败”", "must be success or failed", lang))
    if len(message) > 500:
        problems.append(_problem(line_no, "message", "不超过500个字符", "is at most 500 characters", lang))
    if problems:
        return None, problems
    row = ReturnRow(
        line_no,
        without_bidi(reference),
        Decimal(amount.replace(",", "")).quantize(Decimal("0.01")),
        _STATUS[status.lower()],
        without_bidi(message) or None,
    )
    return row, []


def parse_return_file(content: bytes, lang: str = "zh") -> list[ReturnRow]:
    """Every line of the file, or ValidationFailed naming each bad line and column."""
    if len(content) > MAX_BYTES:
        raise _file_problem("文件超过 2 MB", "the file is larger than 2 MB", lang)
    text = _decode(content, lang)
    try:
        table = [cells for cells in csv.reader(io.StringIO(text)) if any(c.strip() for c in cells)]
    except csv.Error as exc:
        raise _file_problem(f"不是有效的 CSV 文件：{exc}", f"not a valid CSV file: {exc}", lang) from None
    if len(table) < 2:
        raise _file_problem("文件没有数据行", "the file has no lines after its header", lang)
    if len(table) > MAX_LINES + 1:
        raise _file_problem(f"文件超过 {MAX_LINES} 行", f"the file has more than {MAX_LINES} lines", lang)
    where = _columns(table[0], lang)
    rows: list[ReturnRow] = []
    problems: list[FieldProblem] = []
    first_line: dict[str, int] = {}
    for line_no, cells in enumerate(table[1:], start=2):
        row, found = _row(line_no, cells, where, lang)
        problems.extend(found)
        if row is None:
            continue
        if row.reference in first_line:
            zh = f"与第 {first_line[row.reference]} 行重复"
            en = f"repeats line {first_line[row.reference]}"
            problems.append(_problem(line_no, "reference", zh, en, lang))
            continue
        first_line[row.reference] = line_no
        rows.append(row)
    if problems:
        raise ValidationFailed(problems)
    return rows


def refuse_if_not_importing(batch: PaymentBatch) -> None:
    """A return file is read for a batch the bank has and has not settled in full: not for one still
    being collected, and not for a settled one (办结), which is read-only; its earlier files stand."""
    if batch.status == BatchStatus.OPEN.value:
        raise Refused(
            "batch_not_sent", "请先将批次标记为已发送银行", "mark the batch as sent to the bank first"
        )
    if batch.status == BatchStatus.CLOSED.value:
        raise Refused(
            "batch_closed",
            "批次已办结：每笔拨付均已有银行结果，不再导入回单",
            "This batch is closed: the bank has settled every payment in it, so no further return file "
            "is imported.",
        )


@dataclass(frozen=True)
class ImportOutcome:
    """The stored import (the earlier one when the same file came again) and its lines."""

    imported: PaymentReturn
    lines: list[PaymentReturnLine]
    again: bool


def _settle(
    session: Session,
    portal: Portal,
    actor: Actor,
    batch: PaymentBatch,
    imported: PaymentReturn,
    line: PaymentLine,
    row: ReturnRow,
) -> ReturnResult:
    """What one matched line does: pay (fire the disbursement), fail (free the case), or nothing."""
    if line.outcome != LineOutcome.PENDING.value:
        return ReturnResult.SETTLED
    if row.amount != line.amount:
        return ReturnResult.AMOUNT_MISMATCH
    if row.paid:
        application = cast(Application, session.get(Application, line.application_id))
        workflow, _ = workflow_of(portal, application)
        edge = disbursement_edges(portal).get(workflow.name)
        if edge is None or application.state != edge.source:
            return ReturnResult.CASE_MOVED
        try:
            paid: dict[str, object] = {"payment_batch": batch.id, "payment_return": imported.id}
            paid["amount"] = line.amount
            transition_in(
                session, portal, actor, line.application_id, edge.event, None, application.version,
                audit_payload=paid,
            )  # fmt: skip
        except Refused:  # refused before anything was written for this case
            return ReturnResult.CASE_MOVED
    line.outcome = (LineOutcome.PAID if row.paid else LineOutcome.FAILED).value
    line.settled_at = portal.now()
    line.bank_message = row.message
    session.add(line)
    if not row.paid:
        application = cast(Application, session.get(Application, line.application_id))
        workflow, _ = workflow_of(portal, application)
        _tell_failed(session, application, disbursement_edges(portal).get(workflow.name), batch, line)
    return ReturnResult.PAID if row.paid else ReturnResult.FAILED


def _tell_failed(
    session: Session,
    application: Application,
    edge: TransitionSpec | None,
    batch: PaymentBatch,
    line: PaymentLine,
) -> None:
    """Tell the enterprise its money did not arrive and what to do, and whoever may disburse the
    case (the disbursement transition's roles, in its jurisdiction) that it must be paid again.

    Keyed by the payment line: a failed line is settled, so a later file never reaches here for
    it again, and the keys hold even if one did. A new attempt that fails again is a new line,
    and is told again.
    """
    link = f"/applications/{application.id}"
    params: dict[str, object] = {
        "id": application.id,
        "measure": application.measure_id,
        "amount": str(line.amount),
        "reasons": line.bank_message or "",
    }
    notify(
        session,
        kind="case_update",
        enterprise_id=application.enterprise_id,
        link=link,
        message="note.payment_failed",
        params=params,
        dedupe_key=f"payment_failed:{line.id}",
    )
    if edge is None:
        return
    for role in sorted(edge.roles - {"enterprise"}):
        notify(
            session,
            kind="work_item",
            role=role,
            district=application.district if edge.jurisdiction == "district" else None,
            bureau=application.lead_unit if edge.jurisdiction == "bureau" else None,
            link=link,
            message="note.payment_failed_staff",
            params={**params, "batch": batch.id},
            dedupe_key=f"payment_failed:{line.id}:{role}",
        )


def _stored_lines(session: Session, return_id: int) -> list[PaymentReturnLine]:
    return list(
        session.exec(
            select(PaymentReturnLine)
            .where(col(PaymentReturnLine.return_id) == return_id)
            .order_by(col(PaymentReturnLine.line_no))
        ).all()
    )


def import_return(
    portal: Portal, actor: Actor, batch_id: int, file_name: str, content: bytes, *, lang: str = "zh"
) -> ImportOutcome:
    """Read the bank's return file for a sent batch and settle what it says, in one transaction."""
    require_payer(portal, actor)
    digest = hashlib.sha256(content).hexdigest()
    with portal.transaction() as session:
        batch = load_batch(session, actor, batch_id)
        earlier = session.exec(
            select(PaymentReturn)
            .where(col(PaymentReturn.batch_id) == batch_id)
            .where(col(PaymentReturn.sha256) == digest)
        ).first()
        if earlier is not None:
            return ImportOutcome(earlier, _stored_lines(session, cast(int, earlier.id)), again=True)
        refuse_if_not_importing(batch)
        # Read only once the batch takes a file: a settled batch answers so, whatever the file holds.
        rows = parse_return_file(content, lang)
        bump_batch(
            session, batch, batch.version, {}
        )  # a concurrent import of another file waits, then is stale
        imported = PaymentReturn(
            batch_id=batch_id,
            sha256=digest,
            file_name=_CONTROL.sub("", without_bidi(PurePath(file_name).name))[:200] or "return.csv",
            imported_by=actor.user_id,
            imported_at=portal.now(),
        )
        session.add(imported)
        session.flush()
        by_reference = {str(line.application_id): line for line in batch_lines(session, batch_id)}
        counts: Counter[str] = Counter()
        stored: list[PaymentReturnLine] = []
        for row in rows:
            line = by_reference.get(row.reference)
            result = (
                ReturnResult.UNMATCHED
                if line is None
                else _settle(session, portal, actor, batch, imported, line, row)
            )
            counts[result.value] += 1
            stored.append(
                PaymentReturnLine(
                    return_id=cast(int, imported.id),
                    line_no=row.line_no,
                    reference=row.reference,
                    amount=row.amount,
                    paid=row.paid,
                    bank_message=row.message,
                    result=result.value,
                    payment_line_id=line.id if line is not None else None,
                )
            )
        session.add_all(stored)
        imported.counts = dict(counts)
        session.add(imported)
        session.flush()
        if all(line.outcome != LineOutcome.PENDING.value for line in by_reference.values()):
            session.execute(
                update(_BATCH_TABLE)
                .where(_BATCH_TABLE.c.id == batch_id)
                .values(status=BatchStatus.CLOSED.value, closed_at=portal.now())
            )
        audit_batch(
            session, actor, batch, "bank_return_imported",
            {"sha256": digest, "file_name": imported.file_name, "lines": len(rows), "results": dict(counts)},
        )  # fmt: skip
        session.refresh(imported)
        return ImportOutcome(imported, stored, again=False)
