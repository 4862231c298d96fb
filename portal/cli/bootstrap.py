"""The one bootstrap of every `portal` command: settings, the database engine, the loaded pack,
and expected failures turned into one line on stderr with an exit code, never a traceback.

Heavy modules (SQLAlchemy, the services, WeasyPrint, FastAPI) are imported inside the functions
that need them, so that `portal --help` and `portal check` start in a fraction of a second: a
command pays only for what it uses. `tests/test_cli_startup.py` keeps it so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from portal.rules import Pack
    from portal.services.context import Portal
    from portal.settings import Settings

T = TypeVar("T")
MIGRATE_HINT = "is the database migrated (portal db upgrade)?"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `error: message` on stderr and return the Exit to raise (`raise fail(...) from None`)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def settings() -> Settings:
    """The process-wide settings, read from the environment once; a bad value: one line, exit 2."""
    from pydantic import ValidationError

    from portal.settings import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = ".".join(str(part) for part in problem["loc"])
        raise fail(f"environment variable {name}: {problem['msg']}", 2) from None


def parse_day(option: str, value: str) -> date:
    """A YYYY-MM-DD option value, or exit 2 naming the option.

    Only the extended form: Python 3.11's `date.fromisoformat` also reads `20261127` and
    `2026-W48-5`, which a person would not mean and the facts files never accept.
    """
    if not _DAY.fullmatch(value):
        raise fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)", 2)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)", 2) from None


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def today() -> date:
    """Today in the pack's time zone (its calendar's `timezone:`), or the day PORTAL_TODAY pins."""
    from portal.clock import pack_clock
    from portal.workflows import WorkflowFileError

    try:
        return pack_clock(settings()).today()
    except WorkflowFileError as exc:
        raise fail(f"cannot read the pack's calendar: {exc}", 1) from None


def load_rules(rules_dir: Path | None = None) -> Pack:
    """The rule pack in `rules_dir` (default: the configured one); exit 1 if it does not load."""
    from portal.rules import RuleFileError, load_pack

    try:
        return load_pack(rules_dir or settings().rules_dir)
    except RuleFileError as exc:
        raise fail(str(exc), 1) from None


def pack_errors() -> tuple[type[Exception], ...]:
    """The errors that mean the policy pack on disk cannot be loaded."""
    from portal.forms import FormFileError
    from portal.rules import RuleFileError
    from portal.workflows import WorkflowFileError

    return (RuleFileError, FormFileError, WorkflowFileError)


@contextmanager
def database(config: Settings | None = None, *, doing: str = "database error") -> Iterator[Engine]:
    """An engine on the configured database for one command, disposed afterwards.

    A bad URL, a service refusal or a database failure becomes one line and exit 1; `doing`
    starts the database message, e.g. "cannot read the logs".
    """
    from sqlalchemy.exc import SQLAlchemyError

    from portal.db.engine import DatabaseURLError, database_error_reason, make_engine
    from portal.services.errors import ServiceError

    try:
        engine = make_engine((config or settings()).database_url, pooled=False)
    except DatabaseURLError as exc:
        raise fail(str(exc)) from None
    try:
        yield engine
    except ServiceError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise fail(f"{doing} ({database_error_reason(exc)}); {MIGRATE_HINT}") from None
    finally:
        engine.dispose()


@contextmanager
def open_portal(config: Settings | None = None, *, doing: str = "database error") -> Iterator[Portal]:
    """A `Portal` (engine, pack, workflows, forms) for one command, with `database`'s error handling.

    A pack that does not load exits 1 with "cannot load the policy pack: ...".
    """
    from portal.services.context import Portal

    config = config or settings()
    with database(config, doing=doing) as engine:
        try:
            portal = Portal.from_settings(config, engine=engine)
        except pack_errors() as exc:
            raise fail(f"cannot load the policy pack: {exc}") from None
        yield portal


def run(action: Callable[[Portal], T], *, doing: str = "database error") -> T:
    """Call `action` with a fresh `Portal` inside `open_portal`."""
    with open_portal(doing=doing) as portal:
        return action(portal)
