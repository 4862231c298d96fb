"""Screening runs started from the web: an upload (or the register) screened by a background job.

`start_run` checks the request and stores the upload in the blob store with a `queued` run, in
one transaction, so any web instance or worker can read it. `execute_run` is the job's body:
it claims the run, screens the input piece by piece with `portal.screening` and records the
progress in short transactions of its own, then writes the findings (and, with `notify`, the
notices) in one last transaction. Each claim raises the run's `attempt`; every later write is
fenced by it, so a runner whose run was taken over (its worker died and the job went again)
writes nothing more. Notices keep `services.screening`'s dedupe key, so a retried or repeated
run tells nobody twice.
"""

from __future__ import annotations

import hashlib
import io
import logging
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import Enterprise, RunStatus, ScreeningRun, User
from portal.rules import Rule
from portal.rules.batch.compiler import OUTCOME, ROW_KEY
from portal.rules.batch.formula_sql import NotCompilable
from portal.rules.facts import FactSpec
from portal.screening.engines import open_engine
from portal.screening.inputs import (
    FileLines,
    InputError,
    Reject,
    ScreeningInput,
    check_columns,
    count_rows,
    read_chunks,
    read_records,
)
from portal.screening.outputs import rejects_table
from portal.screening.run import ScreeningResult, facts_read, output_schema
from portal.screening.run import screen as run_screen
from portal.services.context import Portal
from portal.services.errors import FieldProblem, Forbidden, NotFound, ValidationFailed
from portal.services.screening import notify_eligible_in, register_records
from portal.text_rules import escaped
from portal.workflows import Actor

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""An upload's limit: a city register of a million rows fits as Parquet; bigger runs use the CLI."""
FORMATS = ("csv", "parquet")
PARQUET_MAGIC = b"PAR1"
STALE_AFTER = timedelta(minutes=10)
"""A running run whose runner has not reported for this long is taken over (the in-process runner)."""
PIECE_ROWS = 20_000
"""Rows per piece of a Parquet file: each piece is one progress report."""
PIECE_BYTES = 4 << 20
"""Bytes per piece of a CSV (about 12,000 rows of the pack's facts): each piece is one report."""
REJECTS_SHOWN = 200
LINE = "line"
"""The stored hits' column (added) holding each row as the uploaded file shows it, as a reject's `line`."""
_NAMES_PER_QUERY = 500
"""USCCs per lookup of registered names: well under the bound-parameter limits of both databases."""
FINISHED = (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value)


class Superseded(Exception):
    """The run was claimed again by another runner: this one stops writing."""


@dataclass(frozen=True)
class Upload:
    """The uploaded file as posted: its name (metadata only) and its bytes."""

    name: str
    content: bytes


@dataclass
class _Tally:
    rows: int = 0
    rejects: list[Reject] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    reasons: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    hits: list[pa.Table] = field(default_factory=list)

    def add(self, data: ScreeningInput, result: ScreeningResult, lines: FileLines | None) -> None:
        """One piece's rows: its counts and reason counts summed in, its eligible rows kept, each
        with its `line` in the uploaded file (`lines`; None for the register, which has none)."""
        self.rows += data.total_rows
        self.rejects += data.rejects
        _sum_into(self.counts, result.counts)
        for measure, by_kind in result.reasons.items():
            mine = self.reasons.setdefault(measure, {})
            _sum_into(mine, by_kind)
        table = result.table
        eligible = pc.equal(table.column(OUTCOME), "eligible")
        hits = table.filter(eligible)
        if lines is not None:
            rows = _data_rows(data, table).filter(eligible).to_pylist()
            hits = hits.append_column(LINE, pa.array([lines.line_of(row) for row in rows], pa.int64()))
        self.hits.append(hits)


def _data_rows(data: ScreeningInput, table: pa.Table) -> pa.Array:
    """Each OUT row's data row: its `row` column, or (OUT keyed by `row_id`) its input row's, as
    OUT holds every loaded row once per measure, in row order (`portal.screening.run`)."""
    if ROW_KEY in table.column_names:
        return table.column(ROW_KEY).combine_chunks()
    numbers = data.facts.column(ROW_KEY).combine_chunks()
    if not len(numbers):
        return pa.array([], pa.int64())
    per_row = table.num_rows // len(numbers)
    position = pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), table.num_rows), start=-1)
    return numbers.take(pc.divide(position, per_row))


def _sum_into(total: dict[str, dict[str, int]], part: Mapping[str, Mapping[str, int]]) -> None:
    for key, numbers in part.items():
        mine = total.setdefault(key, {})
        for name, n in numbers.items():
            mine[name] = mine.get(name, 0) + n


def may_start(actor: Actor) -> bool:
    """Who may start a run: the administrator and a city-wide supervisor (a run screens the city)."""
    return actor.role == "admin" or (actor.role == "supervisor" and actor.district is None)


def may_view(actor: Actor) -> bool:
    """Who may follow runs and download their findings: those who may start them. A run screens a
    city-wide list whose rows carry no district, so a district's supervisor would read firms
    outside their district; the dashboard's district view counts its notices instead."""
    return may_start(actor)


def screenable_rules(portal: Portal, on: date) -> list[Rule]:
    """The enterprise measures in force on `on`: what a run may screen."""
    rules = (portal.pack.select(measure, on) for measure in portal.pack.measure_ids())
    return [rule for rule in rules if rule is not None and rule.applies_to == "enterprise"]


def input_columns(portal: Portal, on: date) -> list[FactSpec]:
    """The facts a file supplies for a run of every screenable measure, in facts.yaml's order: what
    those measures read, and the USCC that the findings carry."""
    read = facts_read(screenable_rules(portal, on), portal.pack.facts, on)
    return [spec for spec in portal.pack.facts.specs.values() if spec.qualified in read]


def _chosen(portal: Portal, measures: Sequence[str], on: date) -> list[Rule]:
    return [rule for rule in screenable_rules(portal, on) if not measures or rule.id in measures]


def _format_of(upload: Upload) -> str | None:
    """csv or parquet, by the name's extension and, for Parquet, the bytes' magic at both ends."""
    suffix = Path(upload.name).suffix.lower().lstrip(".")
    content = upload.content
    is_parquet = content[:4] == PARQUET_MAGIC and content[-4:] == PARQUET_MAGIC
    if suffix == "parquet" and is_parquet:
        return "parquet"
    if suffix == "csv" and not is_parquet:
        return "csv"
    return None


def _is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _problem(path: str, code: str, message: str) -> FieldProblem:
    return FieldProblem(path=path, message=message, code=code)


def _check_request(
    portal: Portal, upload: Upload | None, measures: Sequence[str], notify: bool, on: date
) -> tuple[list[FieldProblem], list[str], str | None]:
    """Every field's problem, the input's unknown or doubled column names, and the upload's format."""
    problems: list[FieldProblem] = []
    names: list[str] = []
    offered = {rule.id for rule in screenable_rules(portal, on)}
    if any(measure not in offered for measure in measures):
        problems.append(_problem("measures", "unknown_measure", "not a measure in force"))
    else:
        try:
            facts_read(_chosen(portal, measures, on), portal.pack.facts, on)
        except NotCompilable as exc:
            problems.append(_problem("measures", "not_compilable", str(exc)))
    kind = None
    if upload is not None:
        if not upload.content:
            problems.append(_problem("file", "empty", "the file is empty"))
        elif len(upload.content) > MAX_UPLOAD_BYTES:
            problems.append(_problem("file", "too_large", f"over {MAX_UPLOAD_BYTES} bytes"))
        elif (kind := _format_of(upload)) is None:
            problems.append(_problem("file", "format", "not a CSV or Parquet file"))
        elif kind == "csv" and not _is_utf8(upload.content):
            # Excel's plain "CSV" is GBK here: say so, rather than "cannot be read" halfway through.
            problems.append(_problem("file", "not_utf8", "a CSV must be UTF-8"))
        else:
            with _as_file(upload.content, kind) as path:
                try:
                    check_columns(path, portal.pack.facts.supplied())
                except InputError as exc:
                    names = [escaped(name) for name in exc.names]
                    problems.append(_problem("file", exc.code, _detail(exc, path)))
    if notify and upload is not None:
        problems.append(_problem("notify", "notify_needs_register", "notices go to registered enterprises"))
    return problems, names, kind


def start_run(
    portal: Portal, actor: Actor, *, upload: Upload | None, measures: Sequence[str], notify: bool
) -> ScreeningRun:
    """Queue a run over `upload` (None: the enterprise register); ValidationFailed names each bad field.

    The unknown or doubled column names of a refused file are the `message` of its problem.
    """
    if not may_start(actor):
        raise Forbidden("无权发起筛查", "you may not start a screening run")
    on = portal.today()
    problems, names, kind = _check_request(portal, upload, measures, notify, on)
    if problems:
        if names:
            problems = [
                FieldProblem(p.path, ", ".join(names), p.code) if p.path == "file" else p for p in problems
            ]
        raise ValidationFailed(problems)
    digest = hashlib.sha256(upload.content).hexdigest() if upload is not None else None
    created = False
    try:
        with portal.transaction() as session:
            if upload is not None and digest is not None:
                created = portal.blobs.put(session, digest, upload.content)
            run = ScreeningRun(
                started_by=actor.user_id,
                measures=sorted(set(measures)),
                evaluated_on=on,
                source_name=upload.name if upload is not None else None,
                source_format=kind,
                source_sha256=digest,
                source_bytes=len(upload.content) if upload is not None else 0,
                notify=notify,
                created_at=portal.now(),
            )
            session.add(run)
            session.flush()
            append_audit(
                session,
                actor_id=actor.user_id,
                actor_role=actor.role,
                subject_type="screening_run",
                subject_id=str(run.id),
                event="screening_run_started",
                payload={"measures": run.measures, "source_sha256": digest, "notify": notify},
            )
            session.refresh(run)
            return run
    except BaseException:
        if created and digest is not None:
            portal.blobs.discard(digest)
        raise


def list_runs(portal: Portal, actor: Actor, limit: int = 50) -> list[tuple[ScreeningRun, str]]:
    """The newest runs first, each with the name of the person who started it."""
    if not may_view(actor):
        raise Forbidden("无权查看筛查", "you may not view screening runs")
    with portal.reading() as session:
        query = (
            select(ScreeningRun, User.display_name)
            .join(User, col(User.id) == col(ScreeningRun.started_by))
            .order_by(col(ScreeningRun.id).desc())
            .limit(limit)
        )
        return [(run, name) for run, name in session.exec(query)]


def run_of(portal: Portal, actor: Actor, run_id: int) -> ScreeningRun:
    """One run; NotFound for a run that does not exist or that the actor may not see."""
    return run_with_starter(portal, actor, run_id)[0]


def run_with_starter(portal: Portal, actor: Actor, run_id: int) -> tuple[ScreeningRun, str]:
    """One run and the name of the person who started it (NotFound as `run_of`)."""
    if not may_view(actor):
        raise NotFound("screening run", run_id)
    with portal.reading() as session:
        found = session.exec(
            select(ScreeningRun, User.display_name)
            .join(User, col(User.id) == col(ScreeningRun.started_by))
            .where(col(ScreeningRun.id) == run_id)
        ).first()
    if found is None:
        raise NotFound("screening run", run_id)
    return found[0], found[1]


def hits_of(portal: Portal, actor: Actor, run_id: int) -> pa.Table:
    """The eligible rows of a finished run (one per input row and measure), as screening OUT rows."""
    run = run_of(portal, actor, run_id)
    if run.hits_sha256 is None:
        raise NotFound("screening hits", run_id)
    return pq.read_table(io.BytesIO(portal.blobs.read(run.hits_sha256)))


def registered_names(portal: Portal, actor: Actor, usccs: Sequence[str]) -> dict[str, str]:
    """The names of the portal's registered enterprises among `usccs`, for the hits export: an
    official reads who an eligible row is, not only its code (a row of a file not registered here
    keeps its USCC alone)."""
    if not may_view(actor):
        return {}
    wanted = sorted(set(usccs))
    names: dict[str, str] = {}
    with portal.reading() as session:
        for start in range(0, len(wanted), _NAMES_PER_QUERY):
            chunk = wanted[start : start + _NAMES_PER_QUERY]
            found = session.exec(
                select(Enterprise.uscc, Enterprise.name).where(col(Enterprise.uscc).in_(chunk))
            ).all()
            names.update((uscc, name) for uscc, name in found)
    return names


def rejects_of(portal: Portal, actor: Actor, run_id: int, limit: int | None = REJECTS_SHOWN) -> list[Reject]:
    """The rejected input rows of a finished run with their reasons (control characters escaped)."""
    run = run_of(portal, actor, run_id)
    if run.rejects_sha256 is None:
        return []
    table = pq.read_table(io.BytesIO(portal.blobs.read(run.rejects_sha256)))
    if limit is not None:
        table = table.slice(0, limit)
    rows = table.column("row").to_pylist()
    # A run stored before lines were kept: the row under the header, as a file without empty lines shows it.
    lines = table.column("line").to_pylist() if "line" in table.column_names else [r + 1 for r in rows]
    reasons = table.column("reason").to_pylist()
    return [Reject(row=r, reason=m, line=n) for r, m, n in zip(rows, reasons, lines, strict=True)]


def waiting_runs(portal: Portal) -> list[int]:
    """Runs nobody is working on: queued, or running with a runner silent past `STALE_AFTER`."""
    stale = portal.clock.real_now() - STALE_AFTER
    with portal.reading() as session:
        query = (
            select(ScreeningRun.id)
            .where(
                or_(
                    col(ScreeningRun.status) == RunStatus.QUEUED.value,
                    (col(ScreeningRun.status) == RunStatus.RUNNING.value)
                    & (col(ScreeningRun.heartbeat_at) < stale),
                )
            )
            .order_by(col(ScreeningRun.id))
        )
        return [run_id for run_id in session.exec(query) if run_id is not None]


def claim(portal: Portal, run_id: int, *, takeover: bool) -> int | None:
    """Mark the run running and return this runner's attempt; None when it is not this runner's.

    A queued run is claimed; a running one only when its runner is silent past `STALE_AFTER`, or
    with `takeover` (procrastinate's lock already guarantees that no other job runs it).
    """
    stale = portal.clock.real_now() - STALE_AFTER
    claimable = col(ScreeningRun.status) == RunStatus.QUEUED.value
    if takeover:
        claimable = claimable | (col(ScreeningRun.status) == RunStatus.RUNNING.value)
    else:
        claimable = claimable | (
            (col(ScreeningRun.status) == RunStatus.RUNNING.value) & (col(ScreeningRun.heartbeat_at) < stale)
        )
    with portal.transaction() as session:
        result = session.connection().execute(
            update(ScreeningRun)
            .where(col(ScreeningRun.id) == run_id, claimable)
            .values(
                status=RunStatus.RUNNING.value,
                attempt=col(ScreeningRun.attempt) + 1,
                started_at=portal.now(),
                heartbeat_at=portal.clock.real_now(),
                rows_done=0,
                rows_rejected=0,
                counts={},
                reasons=None,
            )
        )
        if not result.rowcount:
            return None
        run = session.get(ScreeningRun, run_id)
        return run.attempt if run is not None else None


def _fenced(session: Session, run_id: int, attempt: int, **values: Any) -> None:
    result = session.connection().execute(
        update(ScreeningRun)
        .where(
            col(ScreeningRun.id) == run_id,
            col(ScreeningRun.attempt) == attempt,
            col(ScreeningRun.status) == RunStatus.RUNNING.value,
        )
        .values(**values)
    )
    if not result.rowcount:
        raise Superseded(f"screening run {run_id}: attempt {attempt} was superseded")


def _report(portal: Portal, run_id: int, attempt: int, **values: Any) -> None:
    """One progress report in its own short transaction, so the page sees it at once."""
    with portal.transaction() as session:
        _fenced(session, run_id, attempt, heartbeat_at=portal.clock.real_now(), **values)


def execute_run(portal: Portal, run_id: int, *, takeover: bool = False) -> ScreeningRun | None:
    """The job: claim the run, screen it, record the outcome; None when another runner has it.

    Bad input ends the run `failed` with a code the page words in the reader's language and the
    reader's detail (control characters escaped); an unexpected error does too, and is logged.
    """
    attempt = claim(portal, run_id, takeover=takeover)
    if attempt is None:
        return None
    try:
        _screen(portal, run_id, attempt)
    except Superseded:
        log.warning("screening run %s: taken over by another runner; attempt %s stops", run_id, attempt)
        return None
    except InputError as exc:
        _fail(portal, run_id, attempt, exc.code, escaped(str(exc)))
    except NotCompilable as exc:
        _fail(portal, run_id, attempt, "not_compilable", escaped(str(exc)))
    except Exception:
        log.exception("screening run %s failed", run_id)
        _fail(portal, run_id, attempt, "internal", None)
    with portal.reading() as session:
        return session.get(ScreeningRun, run_id)


def queue_unavailable(portal: Portal, run_id: int) -> None:
    """The job queue refused the run: it ends `failed` at once instead of waiting unseen."""
    with portal.transaction() as session:
        session.connection().execute(
            update(ScreeningRun)
            .where(col(ScreeningRun.id) == run_id, col(ScreeningRun.status) == RunStatus.QUEUED.value)
            .values(status=RunStatus.FAILED.value, error_code="queue_unavailable", finished_at=portal.now())
        )


def _fail(portal: Portal, run_id: int, attempt: int, code: str, detail: str | None) -> None:
    try:
        with portal.transaction() as session:
            _fenced(
                session,
                run_id,
                attempt,
                status=RunStatus.FAILED.value,
                error_code=code,
                error_detail=detail,
                finished_at=portal.now(),
            )
    except Superseded:
        log.warning("screening run %s: failure of a superseded attempt %s not recorded", run_id, attempt)


def _screen(portal: Portal, run_id: int, attempt: int) -> None:
    with portal.reading() as session:
        run = session.get(ScreeningRun, run_id)
    if run is None:
        raise NotFound("screening run", run_id)
    rules = _chosen(portal, run.measures, run.evaluated_on)
    facts = portal.pack.facts
    keep = facts_read(rules, facts, run.evaluated_on)
    tally = _Tally()
    with _pieces(portal, run, keep) as (total, pieces, lines), open_engine("duckdb").connect() as conn:
        _report(portal, run_id, attempt, rows_total=total)
        for data in pieces:
            # One transaction per piece: the previous piece's facts table is freed at its commit.
            with conn.begin():
                result = run_screen(conn, data, rules, facts, run.evaluated_on, count_reasons=True)
            tally.add(data, result, lines)
            _report(
                portal,
                run_id,
                attempt,
                rows_done=tally.rows,
                rows_rejected=len(tally.rejects),
                counts=tally.counts,
            )
    _finish(portal, run, attempt, rules, tally)


@contextmanager
def _as_file(content: bytes, kind: str) -> Iterator[Path]:
    """The upload as a file the screening reader opens, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="portal-screening-") as folder:
        path = Path(folder) / f"upload.{kind}"
        path.write_bytes(content)
        yield path


def _detail(exc: InputError, path: Path) -> str:
    """The reader's message about the upload, naming it as the person does and escaped for a page."""
    return escaped(str(exc).replace(str(path), path.name))


@contextmanager
def _pieces(
    portal: Portal, run: ScreeningRun, keep: set[str]
) -> Iterator[tuple[int | None, Iterator[ScreeningInput], FileLines | None]]:
    """(data rows in the input, the input in pieces, its rows' lines): the uploaded file, or the
    register's profiles (no lines)."""
    columns = portal.pack.facts.supplied()
    if run.source_sha256 is None or run.source_format is None:
        records = register_records(portal)
        yield len(records), iter([read_records(records, columns, "db:")]), None
        return
    with _as_file(portal.blobs.read(run.source_sha256), run.source_format) as path:
        lines = FileLines(path)
        try:
            pieces = read_chunks(path, columns, keep=keep, rows=PIECE_ROWS, csv_block=PIECE_BYTES)
            yield count_rows(path, scan=True), pieces, lines
        except InputError as exc:
            raise InputError(_detail(exc, path), code=exc.code, names=exc.names) from exc
        finally:
            lines.close()


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _finish(portal: Portal, run: ScreeningRun, attempt: int, rules: Sequence[Rule], tally: _Tally) -> None:
    """The findings, the notices and `succeeded` in one transaction: a crash before it leaves none."""
    assert run.id is not None  # a stored run
    if tally.hits:
        hits = pa.concat_tables(tally.hits)
    else:
        benefits = sorted({name for rule in rules for name in rule.benefit})
        hits = output_schema(False, benefits).empty_table()
    rejects = rejects_table(tally.rejects)
    blobs = {hashlib.sha256(b).hexdigest(): b for b in (_parquet(hits), _parquet(rejects))}
    hits_digest, rejects_digest = blobs
    created: list[str] = []
    try:
        with portal.transaction() as session:
            created = [
                digest for digest, content in blobs.items() if portal.blobs.put(session, digest, content)
            ]
            notified = None
            if run.notify:  # an empty register has no hits (and no row_id column) to tell anyone of
                notified = notify_eligible_in(session, portal, hits, rules) if hits.num_rows else 0
            _fenced(
                session,
                run.id,
                attempt,
                status=RunStatus.SUCCEEDED.value,
                rows_done=tally.rows,
                rows_rejected=len(tally.rejects),
                counts=tally.counts,
                reasons=tally.reasons,
                notified=notified,
                hits_sha256=hits_digest,
                rejects_sha256=rejects_digest,
                finished_at=portal.now(),
                heartbeat_at=portal.clock.real_now(),
            )
    except BaseException:
        for digest in created:
            portal.blobs.discard(digest)
        raise
