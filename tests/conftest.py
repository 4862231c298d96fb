"""Shared fixtures: throwaway databases on SQLite and PostgreSQL, migrated by Alembic.

A test that asks for `db_url`, `migrated_url`, `migrated_engine` or `session` runs twice,
once per backend; the PostgreSQL run carries the `postgres` marker (deselect it with
`-m "not postgres"`). PostgreSQL databases are named `portal_test_<run>_<n>`, created on the
server at PORTAL_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
and dropped when the test ends. An unreachable server fails the tests: CI starts it.

Migrations run once per backend and test session, into a template; each test gets a copy
(a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL). A finished test's
PostgreSQL database is emptied (rows deleted, sequences restarted) and handed to the next
test, because CREATE/DROP DATABASE cost a checkpoint each. So: a test must not change the
schema of a `migrated_url` database; migration tests use `db_url`.
"""

import itertools
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from portal.db import migrations
from portal.db.engine import make_engine

# Every Settings built in the suite (apps, CLIs run in a subprocess, Portals) pins the clock to
# this day, so the suite gives the same result whatever the real date is. A test that needs
# another day pins its own Portal (`portal.today_override = ...`).
SUITE_TODAY = "2026-11-27"
os.environ["PORTAL_TODAY"] = SUITE_TODAY
# Every password the suite hashes is a throwaway: real argon2id at a low cost (8 MiB, one pass, one
# lane) instead of the recommended 64 MiB x 3 x 4, which cost about 0.3 s of CPU per hash and check
# and was the largest share of the web tests' time. tests/services/test_password_cost.py checks
# that the setting reaches the hashes and that the recommended cost stays the default.
SUITE_PASSWORD_COST = (8192, 1, 1)
os.environ["PORTAL_PASSWORD_HASH_COST"] = json.dumps(SUITE_PASSWORD_COST)

POSTGRES_ADMIN_URL = os.environ.get(
    "PORTAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
POSTGRES_HELP = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start "
    "(or point PORTAL_TEST_POSTGRES_URL at another server; deselect with -m 'not postgres')"
)


class Databases:
    """Creates the test session's databases and removes them again."""

    def __init__(self, tmp_dir: Path) -> None:
        self._tmp_dir = tmp_dir
        self._run_id = uuid.uuid4().hex[:10]
        self._counter = itertools.count(1)
        self._templates: dict[str, str] = {}
        self._recycled: list[str] = []

    # -- PostgreSQL -------------------------------------------------------------------------

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        conninfo = (
            make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        try:
            return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            pytest.fail(
                f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {exc}\n{POSTGRES_HELP}", pytrace=False
            )

    def _postgres_url(self, name: str) -> str:
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def _create_postgres(self, template: str | None = None) -> str:
        name = f"portal_test_{self._run_id}_{next(self._counter)}"
        with self._admin() as admin:
            clause = f" TEMPLATE {template}" if template else ""
            admin.execute(f"CREATE DATABASE {name}{clause}")
        return name

    def drop_postgres(self, url: str) -> None:
        name = make_url(url).database
        with self._admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _emptied(self, url: str) -> bool:
        """Empty every table of a used database; False if a leftover connection holds a lock.

        DELETE rather than TRUNCATE: on tables this small it is several times faster, as
        TRUNCATE creates and syncs new files. The replica role skips the append-only
        triggers and the foreign-key triggers, so the order of the tables does not matter.
        """
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            try:
                with connection.transaction():
                    connection.execute("SET LOCAL lock_timeout = '2s'")
                    connection.execute("SET LOCAL session_replication_role = replica")
                    for (table,) in connection.execute(
                        "SELECT tablename FROM pg_tables"
                        " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    ).fetchall():
                        connection.execute(f"DELETE FROM {table}")
                    for (sequence,) in connection.execute(
                        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                    ).fetchall():
                        connection.execute(f"ALTER SEQUENCE {sequence} RESTART")
            except psycopg.errors.LockNotAvailable:
                return False
        return True

    # -- both -------------------------------------------------------------------------------

    def empty(self, backend: str) -> str:
        """A new database with nothing in it."""
        if backend == "postgres":
            return self._postgres_url(self._create_postgres())
        return f"sqlite:///{self._tmp_dir / f'db_{next(self._counter)}.sqlite'}"

    def migrated(self, backend: str) -> str:
        """A new database at the latest migration, copied from this session's template."""
        template_url = self._templates.get(backend)
        if template_url is None:
            template_url = self.empty(backend)
            migrations.upgrade(template_url)
            self._templates[backend] = template_url
        if backend == "postgres":
            if self._recycled:
                return self._recycled.pop()
            template_name = make_url(template_url).database
            return self._postgres_url(self._create_postgres(template=template_name))
        target = self._tmp_dir / f"db_{next(self._counter)}.sqlite"
        shutil.copyfile(str(make_url(template_url).database), target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        if make_url(url).get_backend_name() == "postgresql":
            self.drop_postgres(url)

    def release(self, url: str) -> None:
        """Done with a `migrated` database: recycle it (PostgreSQL) or let it go."""
        if make_url(url).get_backend_name() == "postgresql" and self._emptied(url):
            self._recycled.append(url)
        else:
            self.drop(url)

    def close(self) -> None:
        for url in [*self._recycled, *self._templates.values()]:
            self.drop(url)


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    registry = Databases(tmp_path_factory.mktemp("databases"))
    yield registry
    registry.close()


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(databases: Databases, db_backend: str) -> Iterator[str]:
    """An empty, unmigrated database (for migration tests)."""
    url = databases.empty(db_backend)
    yield url
    databases.drop(url)


@pytest.fixture
def migrated_url(databases: Databases, db_backend: str) -> Iterator[str]:
    """A database of its own at the latest migration."""
    url = databases.migrated(db_backend)
    yield url
    databases.release(url)


@pytest.fixture
def migrated_engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(migrated_engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; the test commits what it wants kept."""
    with Session(migrated_engine, expire_on_commit=False) as db_session:
        yield db_session


@pytest.fixture(scope="session")
def demo_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data, seeded once per test process; `tests.support.page_checks.demo_app` copies it."""
    from tests.support.page_checks import seed_demo_once  # the web app: too heavy for `make check`

    return seed_demo_once(tmp_path_factory.mktemp("demo-seed"))
