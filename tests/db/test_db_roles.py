"""`portal db roles`: connected as the application role, the evidence cannot be tampered with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from portal.cli import app
from portal.db.audit import append_audit, verify_chain
from portal.db.engine import make_engine, session_scope
from portal.settings import get_settings


@pytest.fixture
def app_role(migrated_url: str, migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh application role granted by the real command (roles are cluster-wide: unique name)."""
    role = f"portal_app_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield role
    get_settings.cache_clear()
    if migrated_engine.dialect.name == "postgresql":
        with migrated_engine.begin() as connection:
            if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
                connection.execute(text(f"DROP OWNED BY {role}"))
                connection.execute(text(f"DROP ROLE {role}"))


def _as(url: str, role: str) -> Engine:
    return make_engine(make_url(url).set(username=role).render_as_string(hide_password=False), pooled=False)


TAMPERING = [
    "UPDATE audit_event SET comment = 'rewritten'",
    "DELETE FROM audit_event",
    "TRUNCATE bank_access_log",
    "DELETE FROM letter",
    "UPDATE audit_checkpoint SET document = '{}'",
    "DELETE FROM submitted_attachment",
    "SET session_replication_role = replica",
    "ALTER TABLE audit_event DISABLE TRIGGER ALL",
    "ALTER ROLE CURRENT_USER SUPERUSER",
]


def test_the_app_role_can_work_but_cannot_tamper(migrated_url: str, db_backend: str, app_role: str) -> None:
    result = CliRunner().invoke(app, ["db", "roles", "--app-role", app_role])
    if db_backend == "sqlite":
        assert result.exit_code == 2
        assert "PostgreSQL" in result.output
        return
    assert result.exit_code == 0, result.output
    engine = _as(migrated_url, app_role)
    try:
        with session_scope(engine) as session:  # the everyday work: append to the chain
            append_audit(
                session, actor_id=None, actor_role="system", subject_type="t", subject_id=1, event="e"
            )
        for statement in TAMPERING:
            with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
                connection.execute(text(statement))
            # 42501 insufficient_privilege from the role's rights; the triggers (which say
            # "append-only") are a second line that this role never even reaches.
            assert getattr(refused.value.orig, "sqlstate", None) == "42501", (statement, str(refused.value))
            assert "append-only" not in str(refused.value), statement
        with session_scope(engine, read_only=True) as session:
            assert verify_chain(session).ok
        # Idempotent: a second run after an upgrade changes nothing that matters.
        assert CliRunner().invoke(app, ["db", "roles", "--app-role", app_role]).exit_code == 0
    finally:
        engine.dispose()


def test_a_bad_role_name_is_one_line_and_exit_2(migrated_url: str, db_backend: str, app_role: str) -> None:
    if db_backend == "sqlite":
        pytest.skip("roles are PostgreSQL's")
    result = CliRunner().invoke(app, ["db", "roles", "--app-role", "x; DROP TABLE audit_event"])
    assert result.exit_code == 2
    assert "--app-role" in result.output
