"""Screening runs started from the web: queued → running → succeeded, progress, failures, retries.

Real uploads (CSV and Parquet bytes) through the real blob store, the real screening engine and
the real database on SQLite and PostgreSQL; the job body is called as the runners call it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from services_helpers import World
from sqlmodel import col, select

from portal.db.engine import make_engine
from portal.db.tables import AuditEvent, Notification, ScreeningRun
from portal.services import screening_runs
from portal.services.access import actor_of
from portal.services.context import Portal
from portal.services.enterprises import create_staff_user
from portal.services.errors import Forbidden, NotFound, ValidationFailed
from portal.services.screening_runs import Upload, execute_run, start_run
from portal.workflows import Actor

FACTS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "portal" / "demo" / "enterprise.json").read_text("utf-8")
)["enterprise"]
MEASURE = "qualification.st_sme"  # the demo firm's facts make it eligible


def _text(value: object) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def csv_upload(rows: int, *, bad_rows: Sequence[int] = (), name: str = "register.csv") -> Upload:
    """`rows` copies of the demo firm; rows in `bad_rows` (1-based) hold a control character."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row_id", *FACTS])
    for n in range(1, rows + 1):
        values = [_text(v) for v in FACTS.values()]
        if n in bad_rows:
            values[list(FACTS).index("employees")] = "18\x070"
        writer.writerow([f"R{n}", *values])
    return Upload(name, buffer.getvalue().encode("utf-8"))


def parquet_upload(rows: int) -> Upload:
    table = pa.table({"row_id": [f"P{n}" for n in range(rows)], "employees": list(range(rows))})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return Upload("register.parquet", buffer.getvalue())


def _run(portal: Portal, run_id: int) -> ScreeningRun:
    with portal.reading() as session:
        run = session.get(ScreeningRun, run_id)
    assert run is not None
    return run


def test_a_run_goes_queued_running_succeeded_with_counts_and_progress(
    portal: Portal, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = world.actors["admin"]
    run = start_run(portal, admin, upload=csv_upload(5, bad_rows=[4]), measures=[MEASURE], notify=False)
    assert run.id is not None
    queued = _run(portal, run.id)
    assert (queued.status, queued.rows_done, queued.attempt) == ("queued", 0, 0)
    assert portal.blobs.read(queued.source_sha256 or "") == csv_upload(5, bad_rows=[4]).content

    # Each progress report is read back as the page would read it, in its own transaction.
    seen: list[tuple[str, int, int | None]] = []
    report = screening_runs._report

    def watching(portal: Portal, run_id: int, attempt: int, **values: Any) -> None:
        report(portal, run_id, attempt, **values)
        row = _run(portal, run_id)
        seen.append((row.status, row.rows_done, row.rows_total))

    monkeypatch.setattr(screening_runs, "_report", watching)
    done = execute_run(portal, run.id)

    assert done is not None and done.status == "succeeded"
    assert seen[0] == ("running", 0, 5) and seen[-1] == ("running", 5, 5)
    assert (done.rows_total, done.rows_done, done.rows_rejected, done.attempt) == (5, 5, 1, 1)
    assert done.counts == {MEASURE: {"eligible": 4, "ineligible": 0, "undetermined": 0}}
    assert done.started_at is not None and done.finished_at is not None and done.error_code is None
    hits = screening_runs.hits_of(portal, admin, run.id)
    assert hits.column("row_id").to_pylist() == ["R1", "R2", "R3", "R5"]
    assert set(hits.column("measure").to_pylist()) == {MEASURE}
    [reject] = screening_runs.rejects_of(portal, admin, run.id)
    assert reject.row == 4 and "\x07" not in reject.reason and "\\u0007" in reject.reason
    assert reject.line == 5  # the CSV's fifth line: its header is the first
    with portal.reading() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.subject_type == "screening_run")).all()
    assert [e.event for e in events] == ["screening_run_started"]


def test_progress_counts_the_data_rows_and_hits_keep_the_files_lines(
    portal: Portal, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The template's example row is no firm: three firms under it are "3 of 3", never "4 of 4".
    Each eligible row keeps the line the file shows it on (header, example, an empty line)."""
    admin = world.actors["admin"]
    text = csv_upload(3).content.decode("utf-8").splitlines(keepends=True)
    example = text[1].replace("R1", "#example", 1)
    content = "".join([text[0], example, text[1], "\n", text[2], text[3]]).encode("utf-8")
    run = start_run(portal, admin, upload=Upload("filled.csv", content), measures=[MEASURE], notify=False)
    assert run.id is not None
    seen: list[tuple[int, int | None]] = []
    report = screening_runs._report

    def watching(portal: Portal, run_id: int, attempt: int, **values: Any) -> None:
        report(portal, run_id, attempt, **values)
        row = _run(portal, run_id)
        seen.append((row.rows_done, row.rows_total))

    monkeypatch.setattr(screening_runs, "_report", watching)
    done = execute_run(portal, run.id)
    assert done is not None and done.status == "succeeded"
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)
    assert (done.rows_total, done.rows_done, done.rows_rejected) == (3, 3, 0)
    hits = screening_runs.hits_of(portal, admin, run.id)
    assert hits.column("row_id").to_pylist() == ["R1", "R2", "R3"]
    assert hits.column(screening_runs.LINE).to_pylist() == [3, 5, 6]


def _watch_progress(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows done after each progress report of the run, in order."""
    reported: list[int] = []
    report = screening_runs._report

    def watching(portal: Portal, run_id: int, attempt: int, **values: Any) -> None:
        report(portal, run_id, attempt, **values)
        reported.append(_run(portal, run_id).rows_done)

    monkeypatch.setattr(screening_runs, "_report", watching)
    return reported


def test_a_parquet_upload_reports_progress_piece_by_piece(
    portal: Portal, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(screening_runs, "PIECE_ROWS", 2)
    run = start_run(portal, world.actors["admin"], upload=parquet_upload(5), measures=[], notify=False)
    assert run.id is not None
    reported = _watch_progress(monkeypatch)
    done = execute_run(portal, run.id)
    assert done is not None and done.status == "succeeded"
    assert reported == [0, 2, 4, 5]
    # Every enterprise measure in force was screened: the facts given decide none of them eligible.
    assert set(done.counts) == {r.id for r in screening_runs.screenable_rules(portal, done.evaluated_on)}
    assert all(sum(by.values()) == 5 for by in done.counts.values())


def test_a_csv_upload_reports_progress_by_blocks_of_bytes(
    portal: Portal, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = csv_upload(30)
    monkeypatch.setattr(screening_runs, "PIECE_BYTES", len(upload.content) // 3 + 1)
    run = start_run(portal, world.actors["admin"], upload=upload, measures=[MEASURE], notify=False)
    assert run.id is not None
    reported = _watch_progress(monkeypatch)
    done = execute_run(portal, run.id)
    assert done is not None and done.status == "succeeded" and done.rows_done == 30
    assert len(reported) >= 4 and reported == sorted(reported) and reported[-1] == 30


def rows_upload(changes: Sequence[dict[str, str]]) -> Upload:
    """One demo firm per item of `changes`, each with those facts changed ("" leaves a fact out)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row_id", *FACTS])
    for n, changed in enumerate(changes, start=1):
        writer.writerow([f"R{n}", *(changed.get(k, _text(v)) for k, v in FACTS.items())])
    return Upload("reasons.csv", buffer.getvalue().encode("utf-8"))


def test_a_finished_run_counts_the_criteria_that_kept_rows_out(
    portal: Portal, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five rows, in two pieces: one eligible, three not (one failing two criteria), one that
    cannot be judged. A row that fails two criteria counts for each; nothing counts twice."""
    upload = rows_upload(
        [
            {},
            {"employees": "600"},
            {"employees": "600", "revenue": "300000000"},
            {"revenue": "300000000", "restricted_industry": ""},
            {"employees": ""},
        ]
    )
    monkeypatch.setattr(screening_runs, "PIECE_BYTES", len(upload.content) // 2)
    run = start_run(portal, world.actors["admin"], upload=upload, measures=[MEASURE], notify=False)
    assert run.id is not None
    assert _run(portal, run.id).reasons is None  # nothing until the run has finished
    reported = _watch_progress(monkeypatch)
    done = execute_run(portal, run.id)
    assert done is not None and done.status == "succeeded" and len(reported) >= 3
    assert done.counts == {MEASURE: {"eligible": 1, "ineligible": 3, "undetermined": 1}}
    assert done.reasons == {MEASURE: {"failed": {"employees": 2, "revenue": 2}, "unknown": {"employees": 1}}}


def test_a_broken_file_ends_the_run_failed_with_a_readable_message(portal: Portal, world: World) -> None:
    good = csv_upload(2).content.decode()
    broken = Upload("broken.csv", (good + "R9,only,three\n").encode())
    run = start_run(portal, world.actors["admin"], upload=broken, measures=[MEASURE], notify=False)
    assert run.id is not None
    done = execute_run(portal, run.id)
    assert done is not None and done.status == "failed"
    assert done.error_code == "unreadable"
    assert done.error_detail is not None and done.error_detail.startswith("upload.csv: cannot be read")
    assert "/tmp" not in done.error_detail and done.hits_sha256 is None


@pytest.mark.parametrize(
    ("upload", "notify", "measures", "problems"),
    [
        (Upload("x.csv", b"row_id,colour\nA,red\n"), False, [], [("file", "unknown_columns", "colour")]),
        (Upload("x.csv", b""), False, [], [("file", "empty", None)]),
        (Upload("x.xlsx", b"PK\x03\x04"), False, [], [("file", "format", None)]),
        (Upload("x.parquet", b"name\nA\n"), False, [], [("file", "format", None)]),
        (Upload("x.csv", "row_id,name\nA,广州\n".encode("gbk")), False, [], [("file", "not_utf8", None)]),
        (None, False, ["no.such_measure"], [("measures", "unknown_measure", None)]),
        (Upload("x.csv", b"row_id\nA\n"), True, [], [("notify", "notify_needs_register", None)]),
    ],
    ids=["unknown-column", "empty", "not-csv", "not-parquet", "gbk-csv", "unknown-measure", "notify-a-file"],
)
def test_a_bad_request_names_each_field_and_writes_nothing(
    portal: Portal,
    world: World,
    upload: Upload | None,
    notify: bool,
    measures: list[str],
    problems: list[tuple[str, str, str | None]],
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        start_run(portal, world.actors["admin"], upload=upload, measures=measures, notify=notify)
    got = [(p.path, p.code, p.message if message else None) for p, (_, _, message) in zip(
        refused.value.errors, problems, strict=True
    )]  # fmt: skip
    assert got == problems
    with portal.reading() as session:
        assert session.exec(select(ScreeningRun)).all() == []


def test_the_register_with_notify_tells_each_enterprise_once_even_when_retried(
    portal: Portal, world: World
) -> None:
    admin = world.actors["admin"]
    first = start_run(portal, admin, upload=None, measures=[], notify=True)
    assert first.id is not None
    # A runner claims the run and dies; the job goes again (procrastinate's lock: a takeover).
    dead_attempt = screening_runs.claim(portal, first.id, takeover=False)
    assert dead_attempt == 1 and _run(portal, first.id).status == "running"
    assert screening_runs.claim(portal, first.id, takeover=False) is None  # its runner is not silent yet
    done = execute_run(portal, first.id, takeover=True)
    assert done is not None and done.status == "succeeded" and done.attempt == 2
    assert done.rows_total == 2 and done.notified is not None and done.notified > 0
    with pytest.raises(screening_runs.Superseded):  # the dead attempt can write nothing more
        screening_runs._report(portal, first.id, dead_attempt, rows_done=1)
    with portal.reading() as session:
        notices = session.exec(select(Notification).where(col(Notification.kind) == "screening")).all()
    assert len(notices) == done.notified

    again = start_run(portal, admin, upload=None, measures=[], notify=True)
    assert again.id is not None
    repeated = execute_run(portal, again.id)
    assert repeated is not None and repeated.status == "succeeded" and repeated.notified == 0
    assert repeated.counts == done.counts
    with portal.reading() as session:
        assert len(
            session.exec(select(Notification).where(col(Notification.kind) == "screening")).all()
        ) == len(notices)


def test_a_finished_run_is_not_claimed_again(portal: Portal, world: World) -> None:
    run = start_run(portal, world.actors["admin"], upload=csv_upload(1), measures=[MEASURE], notify=False)
    assert run.id is not None
    assert screening_runs.waiting_runs(portal) == [run.id]
    assert execute_run(portal, run.id) is not None
    assert screening_runs.waiting_runs(portal) == []
    assert execute_run(portal, run.id, takeover=True) is None
    assert _run(portal, run.id).attempt == 1


@pytest.mark.parametrize("who", ["ent_a", "rev_tianhe", "rev_gzdev", "expert1"])
def test_only_the_city_wide_roles_start_or_see_runs(portal: Portal, world: World, who: str) -> None:
    run = start_run(portal, world.actors["admin"], upload=csv_upload(1), measures=[], notify=False)
    assert run.id is not None
    actor = world.actors[who]
    with pytest.raises(Forbidden):
        start_run(portal, actor, upload=csv_upload(1), measures=[], notify=False)
    with pytest.raises(Forbidden):
        screening_runs.list_runs(portal, actor)
    with pytest.raises(NotFound):
        screening_runs.run_of(portal, actor, run.id)
    with pytest.raises(NotFound):
        screening_runs.rejects_of(portal, actor, run.id)


def _supervisor(portal: Portal, district: str | None) -> Actor:
    user = create_staff_user(
        portal,
        None,
        username=f"supervisor_{district or 'city'}",
        password="correct horse battery",
        display_name="监管",
        role="supervisor",
        district=district,
    )
    return actor_of(user)


def test_a_city_wide_supervisor_starts_and_follows_runs_a_district_supervisor_neither(
    portal: Portal, world: World
) -> None:
    """A run screens a city-wide list whose rows carry no district: outside a district's scope."""
    city = _supervisor(portal, None)
    district = _supervisor(portal, "tianhe")
    run = start_run(portal, city, upload=csv_upload(1), measures=[MEASURE], notify=False)
    assert run.id is not None and run.started_by == city.user_id
    assert [(r.id, name) for r, name in screening_runs.list_runs(portal, city)] == [(run.id, "监管")]
    assert screening_runs.run_of(portal, city, run.id).id == run.id
    with pytest.raises(Forbidden):
        start_run(portal, district, upload=csv_upload(1), measures=[], notify=False)
    with pytest.raises(Forbidden):
        screening_runs.list_runs(portal, district)
    with pytest.raises(NotFound):
        screening_runs.run_of(portal, district, run.id)


def test_an_empty_register_with_notify_succeeds_and_tells_nobody(
    portal: Portal, migrated_url: str, tmp_path: Path
) -> None:
    """A database with no enterprise at all (not the cast's): nothing to screen, nobody to tell."""
    portal = replace(portal, engine=make_engine(migrated_url), data_dir=tmp_path)
    try:
        admin = actor_of(
            create_staff_user(
                portal,
                None,
                username="root",
                password="correct horse battery",
                display_name="管理员",
                role="admin",
            )
        )
        run = start_run(portal, admin, upload=None, measures=[], notify=True)
        assert run.id is not None
        done = execute_run(portal, run.id)
        assert done is not None and (done.status, done.rows_total, done.notified) == ("succeeded", 0, 0)
    finally:
        portal.engine.dispose()


def test_a_run_stored_before_lines_were_kept_numbers_its_rejects_under_the_header(
    portal: Portal, world: World
) -> None:
    """Its rejects blob has `row` and `reason` only: each reads as the row under a header."""
    admin = world.actors["admin"]
    run = start_run(portal, admin, upload=csv_upload(3, bad_rows=[2]), measures=[MEASURE], notify=False)
    assert run.id is not None
    execute_run(portal, run.id)
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"row": pa.array([2], pa.int64()), "reason": ["employees: not a whole number"]}), buffer
    )
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    with portal.transaction() as session:
        portal.blobs.put(session, digest, buffer.getvalue())
        stored = session.get(ScreeningRun, run.id)
        assert stored is not None
        stored.rejects_sha256 = digest
    [reject] = screening_runs.rejects_of(portal, admin, run.id)
    assert (reject.row, reject.line) == (2, 3)
