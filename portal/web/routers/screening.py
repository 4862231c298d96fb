"""批量筛查 from the web: start a screening run, follow its progress, read and download what it found.

The administrator and the supervisors (a district supervisor only follows runs). The upload is
read on the event loop; checking it, storing it and queueing the job run in the thread pool.
The run page refreshes itself while the job runs: a small script from /static polls
`/screening/{id}.json` (the CSP forbids inline script), and without script a `<meta refresh>`
in `<noscript>` does the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from portal.db.tables import ScreeningRun
from portal.jobs.dispatch import run_screening
from portal.rules import Rule
from portal.rules.display import format_threshold
from portal.screening.inputs import EXAMPLE_ROW_ID, ROW_ID, column_name
from portal.services import screening_runs
from portal.services.context import Portal
from portal.services.errors import ValidationFailed
from portal.web.i18n import Translator, request_lang
from portal.web.params import PathId
from portal.web.screening_columns import column_rows, example_row
from portal.web.screening_criteria import measure_reasons
from portal.web.screening_reasons import reworded
from portal.web.security import body_within, require_csrf
from portal.web.session_auth import portal_of, require_role
from portal.web.spreadsheets import CSV_TYPE, attachment, csv_bytes
from portal.web.templating import render
from portal.web.uploads import safe_name
from portal.workflows import Actor

router = APIRouter(
    dependencies=[Depends(body_within(screening_runs.MAX_UPLOAD_BYTES + 64 * 1024)), Depends(require_csrf)],
    include_in_schema=False,
)


def _viewer(actor: Annotated[Actor, Depends(require_role("admin", "supervisor"))]) -> Actor:
    """A city-wide reader of runs (a district's supervisor is refused: a run's rows carry no district)."""
    if not screening_runs.may_view(actor):
        raise HTTPException(status_code=403, detail="Screening runs cover the whole city.")
    return actor


Viewer = Annotated[Actor, Depends(_viewer)]
POLL_SECONDS = 2
# A spreadsheet runs a cell that starts with one of these as a formula: an uploaded row id may.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _title(portal: Portal, measure: str, on: dt.date, t: Translator) -> str:
    """A measure's title as of the run's day; never its id, even for one no longer in the pack."""
    rule = portal.pack.select(measure, on)
    return rule.title.get(t.lang) if rule is not None else t("screening.gone")


def _measures_text(portal: Portal, run: ScreeningRun, t: Translator) -> str:
    if not run.measures:
        return t("screening.all_measures")
    joiner = ", " if t.lang == "en" else "、"
    return joiner.join(_title(portal, m, run.evaluated_on, t) for m in run.measures)


def _progress(run: ScreeningRun, t: Translator) -> dict[str, Any]:
    """What the page and the JSON say about how far the run is."""
    total = run.rows_total
    percent = 100 if run.status == "succeeded" else (run.rows_done * 100 // total if total else None)
    if total is None:
        text = t("screening.progress_rows", done=t.number(run.rows_done))
    else:
        text = t("screening.progress", done=t.number(run.rows_done), total=t.number(total))
    return {
        "id": run.id,
        "status": run.status,
        "status_label": t(f"screening.status.{run.status}"),
        "rows_done": run.rows_done,
        "rows_total": total,
        "rows_rejected": run.rows_rejected,
        "percent": percent,
        "text": text,
        "finished": run.status in screening_runs.FINISHED,
    }


def _row(portal: Portal, run: ScreeningRun, starter: str, t: Translator) -> dict[str, Any]:
    return {
        "id": run.id,
        "created": portal.clock.in_words(run.created_at, t.lang),
        "starter": starter,
        "source": run.source_name or t("screening.source.register"),
        "measures": _measures_text(portal, run, t),
        "notify": run.notify,
        "progress": _progress(run, t),
    }


def _options(portal: Portal, t: Translator) -> list[tuple[str, str]]:
    return [
        (rule.id, rule.title.get(t.lang)) for rule in screening_runs.screenable_rules(portal, portal.today())
    ]


def _list_page(
    request: Request,
    actor: Actor,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    runs = [_row(portal, run, starter, t) for run, starter in screening_runs.list_runs(portal, actor)]
    context = {
        "actor": actor,
        "runs": runs,
        "may_start": screening_runs.may_start(actor),
        "measures": _options(portal, t),
        "values": values or {"source": "file", "measures": []},
        "errors": errors or {},
        "max_mb": screening_runs.MAX_UPLOAD_BYTES // (1024 * 1024),
        "example_marker": EXAMPLE_ROW_ID,
    }
    return render(request, "portal/screening_runs.html", context, status_code=status_code)


@router.get("/screening", response_class=HTMLResponse)
def runs(request: Request, actor: Viewer) -> HTMLResponse:
    return _list_page(request, actor)


@router.post("/screening", response_class=HTMLResponse)
async def start(request: Request, actor: Viewer) -> Response:
    form = await request.form()
    upload = form.get("file")
    posted = (
        screening_runs.Upload(upload.filename, await upload.read())
        if isinstance(upload, UploadFile) and upload.filename
        else None
    )
    return await run_in_threadpool(_start, request, actor, form, posted)


def _start(request: Request, actor: Actor, form: FormData, posted: screening_runs.Upload | None) -> Response:
    t = Translator(request_lang(request))
    source = form.get("source")
    measures = [m for m in form.getlist("measures") if isinstance(m, str)]
    notify = form.get("notify") == "on"
    values = {"source": source, "measures": measures, "notify": notify}
    errors: dict[str, str] = {}
    if source not in ("file", "register"):
        errors["source"] = t("screening.error.source_required")
    elif source == "file" and posted is None:
        errors["file"] = t("screening.error.file_required")
    if errors:
        return _list_page(request, actor, values, errors, status_code=422)
    upload = posted if source == "file" else None
    if upload is not None:
        upload = screening_runs.Upload(safe_name(upload.name, "csv"), upload.content)
    portal = portal_of(request)
    try:
        run = screening_runs.start_run(portal, actor, upload=upload, measures=measures, notify=notify)
    except ValidationFailed as failed:
        errors = {
            p.path: t(
                f"screening.error.{p.code}",
                detail=p.message,
                mb=screening_runs.MAX_UPLOAD_BYTES // (1024 * 1024),
            )
            for p in failed.errors
        }
        return _list_page(request, actor, values, errors, status_code=422)
    assert run.id is not None  # a stored run
    run_screening(request.app.state.settings, portal, run.id)
    return RedirectResponse(f"/screening/{run.id}", status_code=303)


@router.get("/screening/columns", response_class=HTMLResponse)
def file_columns(request: Request, actor: Viewer) -> HTMLResponse:
    """What a screening file's columns are and how each is written: the page the upload form links."""
    portal = portal_of(request)
    specs = screening_runs.input_columns(portal, portal.today())
    rows = column_rows(portal.pack.facts, specs, Translator(request_lang(request)))
    context = {"actor": actor, "columns": rows, "example_marker": EXAMPLE_ROW_ID}
    return render(request, "portal/screening_columns.html", context)


@router.get("/screening/template.csv")
def file_template(request: Request, actor: Viewer) -> Response:
    """A CSV with the header row a screening file needs (an optional row_id first), to fill in, and
    one example row that the upload skips (its row_id says so)."""
    portal = portal_of(request)
    specs = screening_runs.input_columns(portal, portal.today())
    lines = [[ROW_ID, *(column_name(s) for s in specs)], example_row(specs)]
    return attachment(csv_bytes(lines), CSV_TYPE, "screening-template.csv")


@router.get("/screening/{run_id}.json")
def run_progress(request: Request, actor: Viewer, run_id: PathId) -> JSONResponse:
    """How far the run is, for the run page's script (and anyone who polls)."""
    run = screening_runs.run_of(portal_of(request), actor, run_id)
    return JSONResponse(
        _progress(run, Translator(request_lang(request))), headers={"Cache-Control": "no-store"}
    )


def _results(portal: Portal, run: ScreeningRun, t: Translator) -> list[dict[str, Any]]:
    rows = [
        {"title": _title(portal, measure, run.evaluated_on, t), **by_outcome}
        for measure, by_outcome in run.counts.items()
    ]
    return sorted(rows, key=lambda r: (-int(r.get("eligible", 0)), r["title"]))


@router.get("/screening/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, actor: Viewer, run_id: PathId) -> HTMLResponse:
    portal = portal_of(request)
    t = Translator(request_lang(request))
    run, starter = screening_runs.run_with_starter(portal, actor, run_id)
    finished = run.status in screening_runs.FINISHED
    rejects = [
        {"row": t("screening.row_n", n=r.line), "reason": reworded(r.reason, portal.pack.facts, t)}
        for r in (screening_runs.rejects_of(portal, actor, run_id) if finished else [])
    ]
    error = None
    if run.status == "failed":
        error = t(f"screening.error.{run.error_code or 'internal'}", detail=run.error_detail or "", mb="")
    context = {
        "actor": actor,
        "run": _row(portal, run, starter, t),
        "evaluated_on": t.date(run.evaluated_on),
        "finished": finished,
        "succeeded": run.status == "succeeded",
        "from_file": run.source_sha256 is not None,
        "notified": run.notified,
        "results": _results(portal, run, t) if run.status == "succeeded" else [],
        # None for a run stored before reasons were counted: its page shows no reasons.
        "reasons": (
            measure_reasons(
                portal.pack,
                run.reasons,
                run.counts,
                run.evaluated_on,
                lambda measure: _title(portal, measure, run.evaluated_on, t),
                t,
            )
            if run.status == "succeeded" and run.reasons is not None
            else None
        ),
        "rejects": rejects,
        "rejects_total": run.rows_rejected,
        "error": error,
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, "portal/screening_run.html", context)


def _cell(text: str | None) -> str:
    value = text or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _benefits(rule: Rule | None, row: dict[str, Any], t: Translator) -> str:
    """Each computed benefit as people read it ("补偿比例：50%", "Grant: CNY 3,000,000"), not as stored."""
    if rule is None:
        return ""
    shown = []
    for name, spec in rule.benefit.items():
        value = row.get(f"benefit.{name}")
        if value is not None:
            amount = format_threshold(Decimal(value), spec.type, t.lang)
            label = spec.label.get(t.lang) if spec.label is not None else ""
            shown.append(f"{label}{t('punct.colon')}{amount}" if label else amount)
    return t("punct.semicolon").join(shown)


@router.get("/screening/{run_id}/hits.csv")
def hits_csv(request: Request, actor: Viewer, run_id: PathId) -> Response:
    """The eligible rows, one per input row and measure, with headers and titles in the reader's language."""
    portal = portal_of(request)
    t = Translator(request_lang(request))
    run = screening_runs.run_of(portal, actor, run_id)
    hits = screening_runs.hits_of(portal, actor, run_id)
    # A file's rows by its own row_id (or number); the register's by USCC alone (its row ids are ours).
    key = None if run.source_sha256 is None else "row_id" if "row_id" in hits.column_names else "row"
    header = [t("screening.csv.row_id" if key == "row_id" else "screening.csv.row")] if key else []
    header += [
        t("export.th_uscc"),
        t("screening.csv.enterprise"),
        t("screening.csv.measure"),
        t("screening.csv.version"),
        t("screening.csv.benefits"),
    ]
    # Added last (the columns before are published): the row as the uploaded file shows it. A run
    # stored before lines were kept: the row under the header, as a file without empty lines shows it.
    header += [t("screening.csv.line")] if key else []
    stored_lines = screening_runs.LINE in hits.column_names
    lines: list[Sequence[str | int | None]] = [header]
    rules = {m: portal.pack.select(m, run.evaluated_on) for m in set(hits.column("measure").to_pylist())}
    names = screening_runs.registered_names(portal, actor, [u for u in hits.column("uscc").to_pylist() if u])
    for row in hits.to_pylist():
        cells: list[str | int | None] = [_cell(row[key]) if key == "row_id" else row[key]] if key else []
        lines.append([
            *cells,
            row["uscc"] or "",
            _cell(names.get(row["uscc"] or "")),
            _title(portal, row["measure"], run.evaluated_on, t),
            row["version"],
            _benefits(rules[row["measure"]], row, t),
            *([row[screening_runs.LINE] if stored_lines else row["row"] + 1] if key else []),
        ])  # fmt: skip
    return attachment(csv_bytes(lines), CSV_TYPE, f"screening-{run_id}-hits.csv")


@router.get("/screening/{run_id}/rejects.csv")
def rejects_csv(request: Request, actor: Viewer, run_id: PathId) -> Response:
    """Every rejected input row with its reason in the reader's words (control characters escaped)."""
    portal = portal_of(request)
    t = Translator(request_lang(request))
    rejects = screening_runs.rejects_of(portal, actor, run_id, limit=None)
    lines: list[Sequence[str | int | None]] = [[t("screening.csv.row"), t("screening.csv.reason")]]
    lines += [[t("screening.row_n", n=r.line), reworded(r.reason, portal.pack.facts, t)] for r in rejects]
    return attachment(csv_bytes(lines), CSV_TYPE, f"screening-{run_id}-rejects.csv")
