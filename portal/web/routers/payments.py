"""`/payments`: payment batches (拨付批次) for the unit that disburses, and the bank's return files.

Thin: each page reads one service call, each post makes one and redirects (303) or re-renders
the page with the service's field messages (422). Files for the bank and for people carry
headers in the reader's language and the stored amounts, never ids or codes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from portal.documents.batch_list import BatchList, BatchListLine, render_batch_list
from portal.services import payments
from portal.services.context import Portal
from portal.services.decisions import rule_of
from portal.services.errors import ValidationFailed
from portal.services.payments import BatchDetail
from portal.services.payments_returns import MAX_BYTES, header_names, import_return
from portal.web.flash import flash
from portal.web.i18n import Translator, request_lang
from portal.web.params import FormVersion, PathId
from portal.web.security import require_csrf
from portal.web.session_auth import StaffUser, portal_of
from portal.web.spreadsheets import CSV_TYPE, XLSX_TYPE, Cell, attachment, csv_bytes, xlsx_bytes
from portal.web.templating import render
from portal.workflows import Actor

router = APIRouter(include_in_schema=False)
posts = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
PDF_TYPE = "application/pdf"
_FILE_COLUMNS = ("payee", "uscc", "account", "bank", "amount", "reference", "measure")
_PDF_LABELS = (
    "amount",
    "unit",
    "printed_on",
    "no",
    "total",
    "capital",
    "prepared_by",
    "checked_by",
    "approved_by",
)


def _unit(portal: Portal, code: str, lang: str) -> str:
    names = portal.pack.units.get(code, {})
    return names.get("en" if lang == "en" else "zh") or names.get("zh") or code


def _measure(portal: Portal, detail_case: Any, lang: str) -> str:
    return rule_of(portal, detail_case).title.get(lang)


def _case_ids(values: list[Any]) -> list[int]:
    return [int(v) for v in values if isinstance(v, str) and v.isdigit() and 0 < len(v) <= 9]


def _index(
    request: Request, actor: Actor, errors: dict[str, str] | None = None, status_code: int = 200
) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    candidates = _candidate_rows(portal, actor, t, None)
    context = {
        "actor": actor,
        "batches": [
            (summary, _unit(portal, summary.batch.lead_unit, t.lang))
            for summary in payments.list_batches(portal, actor)
        ],
        "candidates": candidates,
        # The form (and its button) only where some case can be added: the others say why not.
        "addable": any(row["problem"] is None for row in candidates),
        "errors": errors or {},
    }
    return render(request, "portal/payments.html", context, status_code)


def _candidate_rows(portal: Portal, actor: Actor, t: Translator, unit: str | None) -> list[dict[str, Any]]:
    rows = []
    for c in payments.candidates(portal, actor, unit or payments.unit_scope(actor)):
        rows.append({
            "id": c.application.id,
            "enterprise": c.enterprise.name,
            "measure": _measure(portal, c.application, t.lang),
            "unit": _unit(portal, c.application.lead_unit, t.lang),
            "amount": c.amount,
            "payee": c.payee,
            "problem": (c.problem[1] if t.lang == "en" else c.problem[0]) if c.problem else None,
        })  # fmt: skip
    return rows


@router.get("/payments", response_class=HTMLResponse)
def index(request: Request, actor: StaffUser) -> HTMLResponse:
    return _index(request, actor)


def _field_errors(failed: ValidationFailed) -> dict[str, str]:
    return {problem.path: problem.message for problem in failed.errors}


@posts.post("/payments", response_class=HTMLResponse)
async def create(request: Request, actor: StaffUser) -> Response:
    form = await request.form()
    portal, lang = portal_of(request), request_lang(request)
    try:
        batch = await run_in_threadpool(
            payments.create_batch, portal, actor, _case_ids(form.getlist("case")), lang=lang
        )
    except ValidationFailed as failed:
        return await run_in_threadpool(_index, request, actor, _field_errors(failed), 422)
    flash(request, "pay.flash.created", n=batch.id)
    return RedirectResponse(f"/payments/{batch.id}", status_code=303)


def _batch_page(
    request: Request,
    actor: Actor,
    batch_id: int,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    detail = payments.batch_detail(portal, actor, batch_id)
    shown = request.query_params.get("return", "")
    latest = next((r for r in detail.returns if str(r.id) == shown), None)
    context = {
        "actor": actor,
        "detail": detail,
        "unit": _unit(portal, detail.batch.lead_unit, t.lang),
        "lines": [(line, _measure(portal, case, t.lang)) for line, case in detail.lines],
        # Only cases that can join this batch now: those that cannot are listed, with why, on /payments.
        "candidates": [
            row for row in _candidate_rows(portal, actor, t, detail.batch.lead_unit) if row["problem"] is None
        ]
        if detail.batch.status == "open"
        else [],
        "imported": latest,
        "again": request.query_params.get("again") == "1",
        "max_mb": MAX_BYTES // 1_000_000,
        "import_columns": _column_names(t),
        "errors": {},
        **(extra or {}),
    }
    return render(request, "portal/payment_batch.html", context, status_code)


def _column_names(t: Translator) -> tuple[str, str]:
    """The return file's column names as the help text lists them: exactly what the import reads."""
    required, optional = header_names(t.lang)
    sep = ", " if t.lang == "en" else "、"
    return sep.join(f"“{name}”" for name in required), sep.join(f"“{name}”" for name in optional)


@router.get("/payments/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, actor: StaffUser, batch_id: PathId) -> HTMLResponse:
    return _batch_page(request, actor, batch_id)


@posts.post("/payments/{batch_id}/add", response_class=HTMLResponse)
async def add(request: Request, actor: StaffUser, batch_id: PathId) -> Response:
    form = await request.form()
    version = str(form.get("version") or "")
    try:
        await run_in_threadpool(
            payments.add_cases,
            portal_of(request),
            actor,
            batch_id,
            _case_ids(form.getlist("case")),
            int(version) if version.isdigit() and len(version) <= 9 else 0,
            lang=request_lang(request),
        )
    except ValidationFailed as failed:
        return await run_in_threadpool(
            _batch_page, request, actor, batch_id, {"errors": _field_errors(failed)}, 422
        )
    flash(request, "pay.flash.added")
    return RedirectResponse(f"/payments/{batch_id}", status_code=303)


@posts.post("/payments/{batch_id}/remove/{application_id}")
def remove(
    request: Request, actor: StaffUser, batch_id: PathId, application_id: PathId, version: FormVersion
) -> RedirectResponse:
    payments.remove_case(portal_of(request), actor, batch_id, application_id, version)
    flash(request, "pay.flash.removed", id=application_id)
    return RedirectResponse(f"/payments/{batch_id}", status_code=303)


@posts.post("/payments/{batch_id}/send")
def send(request: Request, actor: StaffUser, batch_id: PathId, version: FormVersion) -> RedirectResponse:
    payments.mark_sent(portal_of(request), actor, batch_id, version)
    flash(request, "pay.flash.sent", n=batch_id)
    return RedirectResponse(f"/payments/{batch_id}", status_code=303)


@posts.post("/payments/{batch_id}/returns", response_class=HTMLResponse)
async def import_file(request: Request, actor: StaffUser, batch_id: PathId) -> Response:
    form = await request.form()
    upload = form.get("file")
    lang = request_lang(request)
    if not isinstance(upload, UploadFile) or not upload.filename:
        t = Translator(lang)
        extra = {"errors": {"file": t("pay.file_missing")}}
        return await run_in_threadpool(_batch_page, request, actor, batch_id, extra, 422)
    content = await upload.read(MAX_BYTES + 1)
    try:
        outcome = await run_in_threadpool(
            import_return, portal_of(request), actor, batch_id, upload.filename, content, lang=lang
        )
    except ValidationFailed as failed:
        extra = {"errors": _field_errors(failed)}
        return await run_in_threadpool(_batch_page, request, actor, batch_id, extra, 422)
    again = "&again=1" if outcome.again else ""
    return RedirectResponse(f"/payments/{batch_id}?return={outcome.imported.id}{again}", status_code=303)


def _file_table(portal: Portal, detail: BatchDetail, t: Translator) -> tuple[list[str], list[list[Cell]]]:
    """The payment file: one line per case, headers in the reader's language, the stored amounts."""
    header = [t(f"pay.col.{name}") for name in _FILE_COLUMNS]
    rows: list[list[Cell]] = [
        [line.payee_name, line.uscc, line.account_number, line.bank_name, line.amount,
         str(line.application_id), _measure(portal, case, t.lang)]
        for line, case in detail.lines
    ]  # fmt: skip
    return header, rows


@router.get("/payments/{batch_id}/payment.csv")
def payment_csv(request: Request, actor: StaffUser, batch_id: PathId) -> Response:
    portal, t = portal_of(request), Translator(request_lang(request))
    header, rows = _file_table(portal, payments.payment_file(portal, actor, batch_id, "csv"), t)
    return attachment(csv_bytes([header, *rows]), CSV_TYPE, f"payment-batch-{batch_id}.csv")


@router.get("/payments/{batch_id}/payment.xlsx")
def payment_xlsx(request: Request, actor: StaffUser, batch_id: PathId) -> Response:
    portal, t = portal_of(request), Translator(request_lang(request))
    header, rows = _file_table(portal, payments.payment_file(portal, actor, batch_id, "xlsx"), t)
    return attachment(xlsx_bytes(header, rows), XLSX_TYPE, f"payment-batch-{batch_id}.xlsx")


@router.get("/payments/{batch_id}/list.pdf")
def batch_pdf(request: Request, actor: StaffUser, batch_id: PathId) -> Response:
    portal, t = portal_of(request), Translator(request_lang(request))
    detail = payments.payment_file(portal, actor, batch_id, "pdf")
    unit = _unit(portal, detail.batch.lead_unit, t.lang)
    data = BatchList(
        lang=t.lang,
        title=t("pay.pdf.title", unit=unit, n=batch_id),
        unit=unit,
        printed_on=portal.today(),
        lines=tuple(
            BatchListLine(
                reference=str(line.application_id),
                payee_name=line.payee_name,
                uscc=line.uscc,
                bank_name=line.bank_name,
                account_number=line.account_number,
                amount=line.amount,
                measure=_measure(portal, case, t.lang),
            )
            for line, case in detail.lines
        ),
        labels={
            **{name: t(f"pay.col.{name}") for name in _FILE_COLUMNS},
            **{name: t(f"pay.pdf.{name}") for name in _PDF_LABELS},
        },
    )
    return Response(
        render_batch_list(data),
        media_type=PDF_TYPE,
        headers={"Content-Disposition": f'inline; filename="payment-batch-{batch_id}.pdf"'},
    )
