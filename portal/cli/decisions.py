"""`portal decisions render ID --out FILE.pdf`: re-render a stored decision's letter for inspection.

The stored letter is what was issued and is never replaced; this writes a fresh rendering to
a file of the operator's choosing and says whether it reproduces the stored bytes. A
difference means the template, the pack or the stored rows changed since the letter was
issued, which is worth knowing before anyone re-issues anything.
"""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from portal.db.engine import DatabaseURLError, database_error_reason, make_engine
from portal.forms import FormFileError
from portal.rules import RuleFileError
from portal.services.context import Portal
from portal.services.errors import ServiceError
from portal.services.letters import rerender_letter
from portal.settings import get_settings
from portal.workflows import WorkflowFileError

app = typer.Typer(help="Decisions and their letters.", no_args_is_help=True)


class Lang(StrEnum):
    zh = "zh"
    en = "en"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


@app.command("render")
def render(
    decision_id: Annotated[int, typer.Argument(metavar="ID", help="The decision's id.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF (never the stored letter).")],
    lang: Annotated[
        Lang | None, typer.Option(help="Render in this language (default: the letter's own).")
    ] = None,
    letter: Annotated[
        int | None, typer.Option(help="Which of the decision's letters (default: the newest).")
    ] = None,
) -> None:
    """Re-render decision ID's letter from the stored decision into FILE.pdf and compare it."""
    settings = get_settings()
    try:
        engine = make_engine(settings.database_url, pooled=False)
    except DatabaseURLError as exc:
        raise _fail(str(exc)) from None
    try:
        portal = Portal.from_settings(settings, engine=engine)
        result = rerender_letter(
            portal, decision_id, letter_id=letter, lang=lang.value if lang is not None else None
        )
    except (RuleFileError, FormFileError, WorkflowFileError) as exc:
        raise _fail(f"cannot load the policy pack: {exc}") from None
    except ServiceError as exc:
        raise _fail(str(exc)) from None
    except SQLAlchemyError as exc:
        reason = database_error_reason(exc)
        hint = "is the database migrated (portal db upgrade)?"
        raise _fail(f"cannot read the decision ({reason}); {hint}") from None
    finally:
        engine.dispose()
    try:
        out.write_bytes(result.pdf)
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"letter {result.letter_id} ({result.doc_number}, {result.lang}) → {out}")
    typer.echo(f"sha256 rendered: {result.sha256}")
    typer.echo(f"sha256 stored:   {result.stored_sha256}")
    if result.identical:
        typer.echo("identical to the stored letter")
    else:
        typer.echo("differs from the stored letter (another language, or the template or data changed)")
