"""Engines and transactions for SQLite (the embedded default) and PostgreSQL.

SQLite runs every read-write transaction as BEGIN IMMEDIATE: the write lock is taken up
front, so two writers queue on `busy_timeout` instead of one failing mid-transaction with
"database is locked" when it upgrades from reader to writer. That also serialises the
audit-chain appenders on SQLite, as the advisory lock does on PostgreSQL. The price is
that a read-write session holds the lock until it ends: pages that only read use
`session_scope(engine, read_only=True)`, a plain deferred BEGIN that never blocks writers
(and a READ ONLY transaction on PostgreSQL).

Within one process the writers of a SQLite file also queue on a lock of the engine's before
they BEGIN: SQLite's busy handler polls with sleeps of up to 100 ms, so thirty threads of the
web server waiting on it for the write lock take turns seconds apart, while a lock hands it
on at once. Other processes on the same file still meet `busy_timeout`.
"""

import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 15_000
POOL_SIZE, POOL_OVERFLOW = 15, 5  # per process: 2 instances × 2 workers stay far below PostgreSQL's 100
_READ_ONLY = "portal_read_only"
# Per SQLite engine: the lock its read-write sessions hold from before BEGIN until they end.
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


class DatabaseURLError(ValueError):
    """A DATABASE_URL the portal cannot use; the message names the URL (password hidden)."""


def parse_database_url(url: str) -> URL:
    """Accept sqlite and postgresql URLs; plain postgresql:// means the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(f"DATABASE_URL is not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in {"postgresql", "postgres"}:
            parsed = parsed.set(drivername="postgresql+psycopg")
        elif parsed.drivername != "postgresql+psycopg":
            raise DatabaseURLError(
                f"DATABASE_URL {parsed.render_as_string(hide_password=True)!r}: "
                "use the postgresql+psycopg:// driver"
            )
        return parsed
    if backend == "sqlite":
        return parsed
    raise DatabaseURLError(
        f"DATABASE_URL {parsed.render_as_string(hide_password=True)!r}: "
        "only sqlite:/// and postgresql+psycopg:// are supported"
    )


def make_engine(url: str, *, echo: bool = False, foreign_keys: bool = True, pooled: bool = True) -> Engine:
    """An engine with the portal's connection settings applied on every new connection.

    `foreign_keys=False` is for migrations only: Alembic's batch mode rebuilds SQLite tables,
    which enforced foreign keys would refuse. `pooled=False` gives short-lived engines
    (migrations, CLI) that leave no connection open behind them.
    """
    parsed = parse_database_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if not pooled:
        kwargs["poolclass"] = NullPool
    elif parsed.database not in (None, "", ":memory:"):  # a memory database has one connection
        # The web server runs up to 40 requests in threads: with SQLAlchemy's 5 pooled connections
        # every request past the fifth opened and closed its own (PRAGMAs or a PostgreSQL login).
        kwargs.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    if parsed.get_backend_name() == "sqlite":
        _create_parent_directory(parsed)
        # The pool hands a connection to one thread at a time; FastAPI's threadpool moves it.
        kwargs["connect_args"] = {"check_same_thread": False}
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        _WRITERS[engine] = threading.RLock()
        return engine
    return create_engine(parsed, **kwargs)


def _create_parent_directory(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module so that "begin" below decides its kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def database_error_reason(exc: SQLAlchemyError) -> str:
    """The driver's first message line, for a one-line CLI error instead of a traceback."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


@contextmanager
def session_scope(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """One unit of work: commit if the block finishes, roll everything back if it raises.

    Objects stay readable after the commit (`expire_on_commit=False`), so a service can
    return the rows it wrote. `read_only=True` never takes SQLite's write lock, makes
    PostgreSQL refuse writes, and ends with a rollback.
    """
    bind = (
        engine.execution_options(**{_READ_ONLY: True, "postgresql_readonly": True}) if read_only else engine
    )
    with _writer_turn(engine, read_only), Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            if read_only:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise


def _writer_turn(engine: Engine, read_only: bool) -> AbstractContextManager[object]:
    """This process's queue for a SQLite file's write lock; nothing for readers and PostgreSQL."""
    lock = None if read_only else _WRITERS.get(engine)
    return lock if lock is not None else nullcontext()
