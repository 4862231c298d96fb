"""`portal banks add|key|rotate|revoke|list`: partner banks and their API keys.

A key is printed once, on stdout alone, so that `KEY=$(portal banks key icbc)` captures it;
the database keeps only its hash, and a lost key is replaced with `rotate`.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError

from portal.db.engine import DatabaseURLError, database_error_reason, make_engine
from portal.rules import RuleFileError
from portal.services import banks
from portal.services.context import Portal
from portal.services.errors import ServiceError
from portal.settings import get_settings
from portal.workflows import SHANGHAI, WorkflowFileError

app = typer.Typer(help="一链一行 partner banks and their API keys.", no_args_is_help=True)
T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


@contextmanager
def _portal() -> Iterator[Portal]:
    settings = get_settings()
    try:
        engine = make_engine(settings.database_url, pooled=False)
    except DatabaseURLError as exc:
        raise _fail(str(exc)) from None
    try:
        yield Portal.from_settings(settings, engine=engine)
    except (RuleFileError, WorkflowFileError) as exc:
        raise _fail(f"cannot load the policy pack: {exc}") from None
    except ServiceError as exc:
        raise _fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _fail(
            f"database error ({database_error_reason(exc)}); is it migrated (portal db upgrade)?"
        ) from None
    finally:
        engine.dispose()


def _run(action: Callable[[Portal], T]) -> T:
    with _portal() as portal:
        return action(portal)


def _print_key(issued: banks.IssuedKey) -> None:
    typer.echo(issued.key)
    typer.echo(
        f"key {issued.prefix} for bank {issued.bank_code}, scopes {' '.join(issued.scopes)}; "
        "it is shown only this once: store it now",
        err=True,
    )


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The bank's name, e.g. 中国工商银行广州分行.")],
    code: Annotated[
        str, typer.Option("--code", help="Short code used by every other command, e.g. icbc-gz.")
    ],
) -> None:
    """Register a partner bank."""
    bank = _run(lambda portal: banks.add_bank(portal, name=name, code=code))
    typer.echo(f"bank {bank.code} added: {bank.name}")


@app.command("key")
def key(
    code: Annotated[str, typer.Argument(help="The bank's code.")],
    scopes: Annotated[
        list[str] | None,
        typer.Option(
            "--scopes", help="eligibility:read and/or loans:write (repeat or comma-separate); default both."
        ),
    ] = None,
) -> None:
    """Issue an API key to bank CODE and print it once."""
    wanted = [s for item in scopes or [] for s in item.replace(",", " ").split()] or list(banks.SCOPES)
    _print_key(_run(lambda portal: banks.issue_key(portal, code, wanted)))


@app.command("rotate")
def rotate(prefix: Annotated[str, typer.Argument(help="The prefix of the key to replace.")]) -> None:
    """Revoke key PREFIX and issue its successor with the same scopes."""
    _print_key(_run(lambda portal: banks.rotate_key(portal, prefix)))


@app.command("revoke")
def revoke(prefix: Annotated[str, typer.Argument(help="The prefix of the key to revoke.")]) -> None:
    """Revoke key PREFIX at once."""
    row = _run(lambda portal: banks.revoke_key(portal, prefix))
    typer.echo(f"key {row.prefix} revoked")


@app.command("list")
def list_() -> None:
    """Every bank with its keys (prefix, scopes, issued and revoked times; never the key)."""
    listing = _run(banks.list_banks)
    if not listing:
        typer.echo("no banks registered")
    for bank in listing:
        status = "active" if bank.active else "inactive"
        typer.echo(f"{bank.code}\t{bank.name}\t{status}")
        for k in bank.keys:
            issued = k.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            state = (
                f"revoked {k.revoked_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if k.revoked_at else "active"
            )
            typer.echo(f"  {k.prefix}\t{k.scopes}\tissued {issued}\t{state}")
