"""Alembic driven from Python, for `portal db ...`, the test fixtures and `make run`.

The scripts live in the top-level `alembic/` of a checkout, as the project layout says;
the wheel ships the same directory as `portal/_alembic` (see pyproject's force-include),
so migrations run from any working directory and from an installed package alike.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal.db.engine import make_engine

_CHECKOUT_SCRIPTS = Path(__file__).resolve().parents[2] / "alembic"
_PACKAGED_SCRIPTS = Path(__file__).resolve().parents[1] / "_alembic"


def script_location() -> Path:
    """The checkout's `alembic/` when running from the repository, else the packaged copy."""
    if (_CHECKOUT_SCRIPTS / "env.py").is_file():
        return _CHECKOUT_SCRIPTS
    return _PACKAGED_SCRIPTS


def alembic_config(database_url: str) -> Config:
    """A Config without an ini file: env.py reads the URL from `attributes["database_url"]`.

    The URL travels in `attributes`, not in the ini options, because ini interpolation
    would mangle a password containing `%`.
    """
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["database_url"] = database_url
    return config


def include_object(
    _object: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """What autogenerate compares: the portal's tables, not procrastinate's job queue, whose tables
    the `procrastinate_jobs` revision creates from procrastinate's own schema script."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_revisions(database_url: str) -> tuple[str, ...]:
    """The revisions the database is at; empty for a database never migrated."""
    engine = make_engine(database_url, pooled=False)
    try:
        with engine.connect() as connection:
            return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {script_location()}")
    return head
