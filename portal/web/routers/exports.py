"""Exports for staff: the review queue as CSV/XLSX and the audit trail as CSV/JSON Lines.

The queue exports take the query string of `/review` and read it through the same
`services.queue`, so a file holds exactly the rows the page shows. Files meant for
people carry headers and labels in the reader's language; the JSONL audit file is for machines
and keeps the stored codes. Amounts are exact: CSV writes the Decimal's text; XLSX writes a
number with a `0.00` format, which is exact for any amount of up to 15 significant digits
(a double holds those exactly to the fen), and lets the reader sum the column.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from portal.db.tables import Application, AuditEvent
from portal.services.audit_export import AuditExport, AuditFilter, export_audit
from portal.services.context import Portal
from portal.services.decisions import money_ceiling, rule_of
from portal.services.grants import grants_of
from portal.services.notices import held_by_objections
from portal.services.queue import queue_all
from portal.services.queue_money import queue_money
from portal.web.case_views import CaseRow, case_row, label
from portal.web.i18n import Translator, request_lang
from portal.web.review_queue import QueueFilter
from portal.web.session_auth import AdminUser, StaffUser, portal_of
from portal.web.spreadsheets import CSV_TYPE, XLSX_TYPE, Cell
from portal.web.spreadsheets import attachment as _attachment
from portal.web.spreadsheets import csv_bytes as _csv_bytes
from portal.web.spreadsheets import xlsx_bytes as _xlsx_bytes
from portal.workflows import Actor

router = APIRouter(include_in_schema=False)


def _computed_amount(portal: Portal, application: Application) -> Decimal | None:
    """The money benefits of the eligibility result stored at submission, summed (None if none)."""
    return money_ceiling(rule_of(portal, application), (application.eligibility_trace or {}).get("benefit"))


def _due(row: CaseRow, t: Translator) -> Cell:
    """The 办理时限 cell as the queue page's column gives it (`_due.html`): the stage's deadline,
    else that an objection holds the case, else the day a timed stage's event follows (a notice)."""
    if row.due_on is not None:
        return row.due_on
    return t("due.held_by_objection") if row.held_since is not None else row.timer_on


def queue_table(
    portal: Portal, actor: Actor, chosen: QueueFilter, t: Translator
) -> tuple[list[str], list[list[Cell]]]:
    """Header and rows of the exported queue: the page's columns, plus USCC, track, submission, the
    rule's amount, the granted amount, the amount paid and the reply-by day of an amendment request
    (new columns go at the end: readers' sheets address the published ones by position)."""
    track = portal.city.tracks.called(t.lang, t("export.th_track"))
    header = [
        t("apps.th_id"), t("queue.th_enterprise"), t("export.th_uscc"), t("apps.th_measure"),
        t("queue.filter.district"), track, t("apps.th_stage"), t("export.th_submitted"),
        t("export.th_due"), t("export.th_amount"), t("export.th_granted"), t("export.th_disbursed"),
        t("export.th_reply_by"),
    ]  # fmt: skip
    rows: list[list[Cell]] = []
    paid = queue_money(portal, actor, chosen.query())
    cases = queue_all(portal, actor, chosen.query())
    ids = [cast(int, application.id) for application, _ in cases]
    granted, holds = grants_of(portal, [a for a, _ in cases]), held_by_objections(portal, actor, ids)
    for (application, enterprise), case_id in zip(cases, ids, strict=True):
        row = case_row(portal, application, t, enterprise, held_since=holds.get(case_id))
        submitted = application.submitted_at
        rows.append([
            row.id, enterprise.name, enterprise.uscc, row.measure_title, row.district_label,
            portal.city.tracks.label(application.track, t.lang) if application.track else "",
            row.stage, portal.clock.local_date(submitted) if submitted else None, _due(row, t),
            _computed_amount(portal, application), granted[case_id].effective, paid.get(case_id),
            row.reply_by,
        ])  # fmt: skip
    return header, rows


@router.get("/review.csv")
def review_csv(request: Request, actor: StaffUser, chosen: Annotated[QueueFilter, Depends()]) -> Response:
    header, rows = queue_table(portal_of(request), actor, chosen, Translator(request_lang(request)))
    return _attachment(_csv_bytes([header, *rows]), CSV_TYPE, "review-queue.csv")


@router.get("/review.xlsx")
def review_xlsx(request: Request, actor: StaffUser, chosen: Annotated[QueueFilter, Depends()]) -> Response:
    header, rows = queue_table(portal_of(request), actor, chosen, Translator(request_lang(request)))
    return _attachment(_xlsx_bytes(header, rows), XLSX_TYPE, "review-queue.xlsx")


def _verification(export: AuditExport) -> dict[str, Any]:
    report = export.report
    return {
        "chain_ok": report.ok,
        "checked": report.checked,
        "first_broken_seq": report.first_broken_seq,
        "reason": report.reason,
        "head_hash": report.head_hash,
        "last_hash": export.last_hash,
        "rows": len(export.rows),
    }


def _verification_headers(export: AuditExport) -> dict[str, str]:
    """The same verification as HTTP headers, for a reader that checks before opening the file."""
    facts = _verification(export)
    return {
        "X-Audit-Chain-Ok": "true" if facts["chain_ok"] else "false",
        "X-Audit-Chain-Checked": str(facts["checked"]),
        "X-Audit-Chain-Head": facts["head_hash"],
        "X-Audit-Last-Hash": facts["last_hash"] or "",
        "X-Audit-Rows": str(facts["rows"]),
    }


def _event_labels(portal: Portal, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """Workflow event and stage labels from the pack; other events (sign-ins, accounts) keep their code."""
    events: dict[str, str] = {}
    states: dict[str, str] = {}
    for workflow in portal.workflows.values():
        for edge in workflow.transitions:
            events.setdefault(edge.event, label(edge.label, lang))
        for state in workflow.states:
            states.setdefault(state.name, label(state.label, lang))
    return events, states


def _audit_csv(portal: Portal, export: AuditExport, t: Translator) -> bytes:
    events, states = _event_labels(portal, t.lang)
    keys = ("seq", "at", "actor_role", "actor_id", "subject", "event", "from_state", "to_state", "comment",
            "payload_hash", "prev_hash", "hash")  # fmt: skip
    lines: list[list[Cell]] = [[t(f"export.audit.{k}") for k in keys]]
    for e in export.rows:
        subject = f"{t.label_or(f'export.audit.subject.{e.subject_type}', e.subject_type)} #{e.subject_id}"
        lines.append([
            e.seq, portal.clock.wall_time(e.at), t.label_or(f"role.{e.actor_role}", e.actor_role), e.actor_id,
            subject, events.get(e.event, e.event), states.get(e.from_state or "", e.from_state),
            states.get(e.to_state or "", e.to_state), e.comment, e.payload_hash, e.prev_hash, e.hash,
        ])  # fmt: skip
    facts = _verification(export)
    outcome = t("export.audit.passed") if facts["chain_ok"] else t("export.audit.failed")
    lines += [
        [],
        [t("export.audit.chain_ok"), outcome],
        [t("export.audit.checked"), facts["checked"]],
        [t("export.audit.broken_at"), facts["first_broken_seq"]],
        [t("export.audit.head_hash"), facts["head_hash"]],
        [t("export.audit.last_hash"), facts["last_hash"]],
        [t("export.audit.rows"), facts["rows"]],
    ]
    return _csv_bytes(lines)


def _jsonable(event: AuditEvent) -> dict[str, Any]:
    return {"type": "event", **event.model_dump(mode="json")}


def _audit_jsonl(export: AuditExport) -> bytes:
    """One event per line with every hashed field, then one `verification` object as the last line."""
    lines = [json.dumps(_jsonable(e), ensure_ascii=False, sort_keys=True) for e in export.rows]
    lines.append(json.dumps({"type": "verification", **_verification(export)}, sort_keys=True))
    return ("\n".join(lines) + "\n").encode("utf-8")


@router.get("/audit/export")
def audit_export(
    request: Request,
    actor: AdminUser,
    format: Annotated[str, Query(pattern="^(csv|jsonl)$")] = "csv",
    date_from: Annotated[dt.date | None, Query(alias="from")] = None,
    date_to: Annotated[dt.date | None, Query(alias="to")] = None,
    case: Annotated[int | None, Query(ge=1)] = None,
    enterprise: str = "",
    actor_name: Annotated[str, Query(alias="actor")] = "",
    event: str = "",
) -> Response:
    portal = portal_of(request)
    chosen = AuditFilter(date_from, date_to, case, enterprise or None, actor_name or None, event or None)
    export = export_audit(portal, actor, chosen)
    headers = _verification_headers(export)
    if format == "jsonl":
        return _attachment(_audit_jsonl(export), "application/x-ndjson", "audit.jsonl", headers)
    body = _audit_csv(portal, export, Translator(request_lang(request)))
    return _attachment(body, CSV_TYPE, "audit.csv", headers)
