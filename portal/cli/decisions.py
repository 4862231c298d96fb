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

from portal.cli.bootstrap import fail, open_portal

app = typer.Typer(help="Decisions and their letters.", no_args_is_help=True)


class Lang(StrEnum):
    zh = "zh"
    en = "en"


@app.command("render")
def render(
    decision_id: Annotated[int, typer.Argument(metavar="ID", help="The decision's id.")],
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Where to write the PDF (never the stored letter).")
    ],
    lang: Annotated[
        Lang | None,
        typer.Option(metavar="zh|en", help="Render in this language (default: the letter's own)."),
    ] = None,
    letter: Annotated[
        int | None, typer.Option(metavar="N", help="Which of the decision's letters (default: the newest).")
    ] = None,
) -> None:
    """Re-render decision ID's letter from the stored decision into FILE.pdf and compare it."""
    from portal.services.letters import rerender_letter

    with open_portal(doing="cannot read the decision") as portal:
        result = rerender_letter(
            portal, decision_id, letter_id=letter, lang=lang.value if lang is not None else None
        )
    try:
        out.write_bytes(result.pdf)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"letter {result.letter_id} ({result.doc_number}, {result.lang}) → {out}")
    typer.echo(f"sha256 rendered: {result.sha256}")
    typer.echo(f"sha256 stored:   {result.stored_sha256}")
    if result.identical:
        typer.echo("identical to the stored letter")
    else:
        typer.echo("differs from the stored letter (another language, or the template or data changed)")
