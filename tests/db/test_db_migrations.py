"""Alembic migrations on SQLite and PostgreSQL, and `portal db`."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from portal.cli import app
from portal.db import migrations
from portal.db.engine import make_engine
from portal.db.tables import ScreeningRun, User
from portal.settings import get_settings

EXPECTED_TABLES = {
    "api_key",
    "application",
    "application_answers",
    "application_attachment",
    "attachment",
    "attachment_blob",
    "audit_checkpoint",
    "audit_event",
    "bank",
    "bank_access_log",
    "bank_consent",
    "decision",
    "doc_number_counter",
    "enterprise",
    "enterprise_claim",
    "enterprise_profile",
    "enterprise_verification",
    "expert_assignment",
    "expert_conflict",
    "expert_score",
    "letter",
    "listing",
    "listing_event",
    "loan",
    "notification",
    "password_reset",
    "payment_batch",
    "payment_line",
    "payment_return",
    "payment_return_line",
    "saved_view",
    "screening_run",
    "self_check_result",
    "submitted_attachment",
    "objection",
    "transition",
    "user_account",
    "web_session",
}

# procrastinate's job queue (`portal worker`), created on PostgreSQL only.
PROCRASTINATE_TABLES = {
    "procrastinate_events",
    "procrastinate_jobs",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
}


def _expected_tables(url: str) -> set[str]:
    return EXPECTED_TABLES | PROCRASTINATE_TABLES if url.startswith("postgresql") else EXPECTED_TABLES


def _tables(url: str) -> set[str]:
    engine = make_engine(url, pooled=False)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _refuse_change_function_exists(url: str) -> bool:
    engine = make_engine(url, pooled=False)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT count(*) FROM pg_proc WHERE proname = 'portal_refuse_change'")
            )
            return bool(found.scalar_one())
    finally:
        engine.dispose()


def _procrastinate_objects(url: str) -> list[str]:
    """procrastinate's routines and types left in the database (a clean downgrade leaves none)."""
    engine = make_engine(url, pooled=False)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT proname FROM pg_proc WHERE proname LIKE 'procrastinate%'"
                    " UNION ALL SELECT typname FROM pg_type WHERE typname LIKE '%procrastinate%'"
                )
            )
            return list(found.scalars())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    head = migrations.head_revision()
    assert migrations.current_revisions(db_url) == ()

    migrations.upgrade(db_url)
    assert migrations.current_revisions(db_url) == (head,)
    assert _tables(db_url) == _expected_tables(db_url)

    migrations.downgrade(db_url, "base")
    assert migrations.current_revisions(db_url) == ()
    assert _tables(db_url) == set()
    if db_url.startswith("postgresql"):
        assert not _refuse_change_function_exists(db_url)
        assert not _procrastinate_objects(db_url)

    migrations.upgrade(db_url)
    assert migrations.current_revisions(db_url) == (head,)
    assert _tables(db_url) == _expected_tables(db_url)


def test_models_and_migrations_have_no_drift(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": migrations.include_object}
        )
        assert compare_metadata(context, SQLModel.metadata) == []


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/nested/portal.db"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # migrations must not depend on the working directory
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_cli_upgrade_current_downgrade(cli_database: str) -> None:
    runner = CliRunner()
    head = migrations.head_revision()

    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 0, result.output
    assert "base (not migrated)" in result.output

    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"is at {head}" in result.output
    assert _tables(cli_database) == EXPECTED_TABLES

    result = runner.invoke(app, ["db", "current"])
    assert f"{head} (up to date)" in result.output

    result = runner.invoke(app, ["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert _tables(cli_database) == set()


@pytest.mark.parametrize(
    ("url", "args", "message"),
    [
        ("mysql://db.example/portal", ["db", "current"], "only sqlite:/// and postgresql+psycopg://"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/none", ["db", "upgrade"], "connection"),
        (None, ["db", "downgrade", "no-such-revision"], "no-such-revision"),
    ],
)
def test_cli_errors_are_one_line_without_traceback(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, url: str | None, args: list[str], message: str
) -> None:
    if url is not None:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_a_run_finished_before_reasons_were_counted_keeps_its_counts_and_has_no_reasons(db_url: str) -> None:
    """0024 adds `screening_run.reasons` to stored runs as NULL; what they recorded stays as it was."""
    migrations.upgrade(db_url, "0023_case_track")
    engine = make_engine(db_url, pooled=False)
    try:
        with Session(engine) as session:
            user = User(username="root", display_name="管理员", password_hash="x", role="admin")
            session.add(user)
            session.commit()
            session.connection().execute(
                text(
                    "INSERT INTO screening_run (started_by, measures, evaluated_on, source_bytes, notify,"
                    " status, attempt, rows_done, rows_rejected, counts, created_at) VALUES (:user, '[]',"
                    " '2026-06-01', 0, false, 'succeeded', 1, 3, 0, :counts, '2026-06-01 08:00:00')"
                ),
                {"user": user.id, "counts": '{"m": {"eligible": 1, "ineligible": 2, "undetermined": 0}}'},
            )
            session.commit()
        migrations.upgrade(db_url)
        with Session(engine) as session:
            [run] = session.exec(select(ScreeningRun)).all()
        assert run.reasons is None
        assert run.counts == {"m": {"eligible": 1, "ineligible": 2, "undetermined": 0}}
    finally:
        engine.dispose()
