"""The hash-chained audit log and bank access log, and `portal audit verify`."""

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select
from typer.testing import CliRunner

from portal.cli import app
from portal.db.access_log import append_access, verify_access_log
from portal.db.audit import append_audit, hashed_content, verify_chain
from portal.db.canonical import canonical_json, sha256_hex
from portal.db.chain import GENESIS_HASH, VerifyReport, link_hash
from portal.db.engine import session_scope
from portal.db.tables import AuditEvent, BankAccessLog
from portal.settings import get_settings
from tests.db.tampering import tamper


def _append_events(engine: Engine, count: int) -> None:
    for n in range(1, count + 1):
        with session_scope(engine) as session:
            append_audit(
                session,
                actor_id=7,
                actor_role="reviewer",
                subject_type="application",
                subject_id=n,
                event="approve",
                from_state="district_review",
                to_state="bureau_review",
                comment=f"材料齐全，同意上报（第{n}件）",
                payload={"expected_version": n, "benefit": {"amount": Decimal("1000000.00")}},
            )


def _append_accesses(engine: Engine, count: int) -> None:
    for n in range(1, count + 1):
        with session_scope(engine) as session:
            append_access(
                session,
                outcome="eligible",
                http_status=200,
                uscc_queried="91350100M000100Y43",
                product="credit_risk_compensation",
                facts_read=["enterprise.is_sme", "enterprise.employees"],
                query_id=f"q{n}",
            )


def _verify(engine: Engine) -> tuple[VerifyReport, VerifyReport]:
    with session_scope(engine, read_only=True) as session:
        return verify_chain(session), verify_access_log(session)


def test_appended_events_form_a_verified_chain(migrated_engine: Engine) -> None:
    _append_events(migrated_engine, 3)
    with Session(migrated_engine) as session:
        rows = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
        report = verify_chain(session)
    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert [row.prev_hash for row in rows[1:]] == [row.hash for row in rows[:-1]]
    assert rows[0].payload == {"expected_version": 1, "benefit": {"amount": "1000000.00"}}
    assert rows[0].payload_hash == sha256_hex(canonical_json(rows[0].payload))
    assert rows[0].at.tzinfo is not None
    assert (report.ok, report.checked, report.first_broken_seq, report.head_hash) == (
        True,
        3,
        None,
        rows[2].hash,
    )


@pytest.mark.parametrize(
    ("sql", "broken_seq", "reason"),
    [
        ("UPDATE audit_event SET comment = '同意' WHERE seq = 3", 3, "does not match its hash"),
        ("UPDATE audit_event SET to_state = 'approved' WHERE seq = 2", 2, "does not match its hash"),
        ("UPDATE audit_event SET at = at + interval '1 second' WHERE seq = 4", 4, "does not match its hash"),
        ("DELETE FROM audit_event WHERE seq = 3", 3, "row 3 is missing"),
        ("DELETE FROM audit_event WHERE seq = 1", 1, "row 1 is missing"),
        ("UPDATE audit_event SET hash = :forged WHERE seq = 2", 2, "does not match its hash"),
    ],
    ids=["edited-comment", "edited-state", "edited-time", "deleted-middle", "deleted-first", "forged-hash"],
)
def test_tampering_is_detected_at_the_first_broken_link(
    migrated_engine: Engine, sql: str, broken_seq: int, reason: str
) -> None:
    _append_events(migrated_engine, 5)
    if migrated_engine.dialect.name == "sqlite":
        sql = sql.replace("at + interval '1 second'", "datetime(at, '+1 second')")
    tamper(migrated_engine, sql, forged="f" * 64)
    report, _ = _verify(migrated_engine)
    assert not report.ok
    assert report.first_broken_seq == broken_seq
    assert reason in str(report.reason)


def test_an_edit_with_a_recomputed_hash_is_caught_by_the_next_link(migrated_engine: Engine) -> None:
    _append_events(migrated_engine, 3)
    with migrated_engine.connect() as connection:
        row = dict(connection.execute(select(AuditEvent.__table__).where(text("seq = 2"))).mappings().one())
    row["comment"] = "不同意"
    rehashed = link_hash(row["prev_hash"], hashed_content(row))
    tamper(migrated_engine, "UPDATE audit_event SET comment = '不同意', hash = :h WHERE seq = 2", h=rehashed)
    report, _ = _verify(migrated_engine)
    assert (report.ok, report.first_broken_seq) == (False, 3)
    assert "prev_hash differs" in str(report.reason)


def test_an_edited_payload_is_detected(migrated_engine: Engine) -> None:
    _append_events(migrated_engine, 2)
    with migrated_engine.connect() as connection:
        forged = connection.execute(text("SELECT payload FROM audit_event WHERE seq = 1")).scalar_one()
    forged_text = canonical_json(forged).replace("1000000.00", "9000000.00")
    tamper(migrated_engine, "UPDATE audit_event SET payload = :payload WHERE seq = 1", payload=forged_text)
    report, _ = _verify(migrated_engine)
    assert (report.ok, report.first_broken_seq) == (False, 1)
    assert "payload" in str(report.reason)


@pytest.mark.parametrize("table", ["audit_event", "bank_access_log"])
@pytest.mark.parametrize(
    "sql", ["UPDATE {table} SET seq = seq WHERE seq = 1", "DELETE FROM {table} WHERE seq = 1"]
)
def test_the_database_refuses_to_change_logged_rows(migrated_engine: Engine, table: str, sql: str) -> None:
    _append_events(migrated_engine, 1)
    _append_accesses(migrated_engine, 1)
    with pytest.raises(DBAPIError, match="append-only"), migrated_engine.begin() as connection:
        connection.execute(text(sql.format(table=table)))
    assert all(report.ok and report.checked == 1 for report in _verify(migrated_engine))


def test_a_failed_transaction_leaves_no_audit_row(migrated_engine: Engine) -> None:
    _append_events(migrated_engine, 1)
    with pytest.raises(RuntimeError), session_scope(migrated_engine) as session:
        append_audit(session, actor_id=1, actor_role="admin", subject_type="user", subject_id=1, event="lock")
        raise RuntimeError("injected after the audit insert")
    _append_events(migrated_engine, 1)
    report, _ = _verify(migrated_engine)
    assert (report.ok, report.checked) == (True, 2)


def test_concurrent_appenders_keep_the_chain_gap_free(migrated_engine: Engine) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _append_events(migrated_engine, 5)
            _append_accesses_unique(migrated_engine, 3)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    audit, access = _verify(migrated_engine)
    assert (audit.ok, audit.checked) == (True, 40)
    assert (access.ok, access.checked) == (True, 24)


def _append_accesses_unique(engine: Engine, count: int) -> None:
    for _ in range(count):
        with session_scope(engine) as session:
            append_access(session, outcome="no_consent", http_status=403, uscc_queried="91350100M000100Y43")


def test_access_log_rows_are_chained_and_checked(migrated_engine: Engine) -> None:
    _append_accesses(migrated_engine, 4)
    with Session(migrated_engine) as session:
        first = session.exec(select(BankAccessLog).where(BankAccessLog.seq == 1)).one()
    assert first.facts_read == ["enterprise.employees", "enterprise.is_sme"]
    assert first.query_id == "q1"
    tamper(migrated_engine, "UPDATE bank_access_log SET http_status = 403 WHERE seq = 2")
    _, report = _verify(migrated_engine)
    assert (report.ok, report.first_broken_seq) == (False, 2)


@pytest.fixture
def cli_env(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_verify_reports_ok_then_the_first_broken_link(migrated_engine: Engine, cli_env: None) -> None:
    _append_events(migrated_engine, 3)
    _append_accesses(migrated_engine, 2)
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit_event: ok, 3 rows" in result.output
    assert "bank_access_log: ok, 2 rows" in result.output

    tamper(migrated_engine, "DELETE FROM bank_access_log WHERE seq = 1")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "bank_access_log: BROKEN at seq 1: row 1 is missing" in result.output
    assert "audit_event: ok, 3 rows" in result.output


@pytest.fixture
def signing_env(cli_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh Ed25519 key pair in the environment, made by `portal audit keygen` itself."""
    result = CliRunner().invoke(app, ["audit", "keygen"])
    assert result.exit_code == 0, result.output
    keys = dict(line.split("=", 1) for line in result.output.splitlines())
    monkeypatch.setenv("PORTAL_AUDIT_SIGNING_KEY", keys["PORTAL_AUDIT_SIGNING_KEY"])
    get_settings.cache_clear()
    yield keys["PORTAL_AUDIT_PUBLIC_KEY"]
    get_settings.cache_clear()


def _checkpoint(tmp_path: Path) -> Path:
    out = tmp_path / "checkpoint.json"
    result = CliRunner().invoke(app, ["audit", "checkpoint", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_truncating_the_newest_rows_is_caught_by_a_checkpoint(
    migrated_engine: Engine, signing_env: str, tmp_path: Path
) -> None:
    _append_events(migrated_engine, 8)
    _append_accesses(migrated_engine, 2)
    saved = _checkpoint(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["audit", "verify", "--checkpoint", str(saved)]).exit_code == 0

    tamper(migrated_engine, "DELETE FROM audit_event WHERE seq > 3")
    plain = runner.invoke(app, ["audit", "verify"])
    assert plain.exit_code == 0, "a truncated chain still verifies on its own: that is the gap"
    checked = runner.invoke(app, ["audit", "verify", "--checkpoint", str(saved)])
    assert checked.exit_code == 1
    assert "audit_event: row 8 named by the checkpoint is gone (truncated)" in checked.output


def test_a_rewrite_with_every_later_hash_recomputed_is_caught(
    migrated_engine: Engine, signing_env: str, tmp_path: Path
) -> None:
    _append_events(migrated_engine, 4)
    saved = _checkpoint(tmp_path)
    # Rewrite row 2's comment and re-link rows 2..4 so that the chain alone verifies.
    with session_scope(migrated_engine, read_only=True) as session:
        rows = [dict(r._mapping) for r in session.execute(select(AuditEvent.__table__).order_by(text("seq")))]
    rows[1]["comment"] = "改写"
    prev = rows[0]["hash"]
    for row in rows[1:]:
        row["prev_hash"], row["hash"] = prev, link_hash(prev, hashed_content(row))
        prev = row["hash"]
        tamper(
            migrated_engine,
            "UPDATE audit_event SET comment = :comment, prev_hash = :prev_hash, hash = :hash "
            "WHERE seq = :seq",
            comment=row["comment"],
            prev_hash=row["prev_hash"],
            hash=row["hash"],
            seq=row["seq"],
        )
    runner = CliRunner()
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    checked = runner.invoke(app, ["audit", "verify", "--checkpoint", str(saved)])
    assert checked.exit_code == 1
    assert "audit_event: row 4 differs from the checkpoint (rewritten)" in checked.output


def test_a_checkpoint_signed_with_another_key_is_refused(
    migrated_engine: Engine, signing_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append_events(migrated_engine, 2)
    saved = _checkpoint(tmp_path)
    other = dict(
        line.split("=", 1) for line in CliRunner().invoke(app, ["audit", "keygen"]).output.splitlines()
    )
    monkeypatch.setenv("PORTAL_AUDIT_PUBLIC_KEY", other["PORTAL_AUDIT_PUBLIC_KEY"])
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["audit", "verify", "--checkpoint", str(saved)])
    assert result.exit_code == 2
    assert "signature does not verify" in result.output
    assert "Traceback" not in result.output


def test_the_latest_checkpoint_is_public(migrated_engine: Engine, signing_env: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from portal.web.app import create_app

    app_ = create_app(get_settings().model_copy(update={"secret_key": SecretStr("k"), "data_dir": tmp_path}))
    with TestClient(app_) as client:
        assert client.get("/audit/checkpoints/latest").status_code == 404
        _append_events(migrated_engine, 2)
        saved = json.loads(_checkpoint(tmp_path).read_text("utf-8"))
        published = client.get("/audit/checkpoints/latest")
    assert published.status_code == 200
    assert published.json() == saved
    assert published.json()["public_key"] == signing_env
