"""`portal banks add|name-en|key|rotate|revoke|list`: partner banks and their API keys.

A key is printed once, on stdout alone, so that `KEY=$(portal banks key icbc)` captures it;
the database keeps only its hash, and a lost key is replaced with `rotate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from portal.cli.bootstrap import run

if TYPE_CHECKING:
    from portal.services.banks import IssuedKey

app = typer.Typer(help="一链一行 partner banks and their API keys.", no_args_is_help=True)


def _print_key(issued: IssuedKey) -> None:
    typer.echo(issued.key)
    typer.echo(
        f"key {issued.prefix} for bank {issued.bank_code}, scopes {' '.join(issued.scopes)}; "
        "it is shown only this once: store it now",
        err=True,
    )


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The bank's name, e.g. 中国工商银行广州分行.")],
    code: Annotated[
        str,
        typer.Option("--code", metavar="CODE", help="Short code used by every other command, e.g. icbc-gz."),
    ],
    name_en: Annotated[
        str | None,
        typer.Option(
            "--name-en",
            metavar="TEXT",
            help="Its English name, shown on English pages, e.g. 'ICBC Guangzhou Branch'; "
            "without it they show NAME.",
        ),
    ] = None,
) -> None:
    """Register a partner bank."""
    from portal.services import banks

    bank = run(lambda portal: banks.add_bank(portal, name=name, code=code, name_en=name_en))
    english = f" ({bank.name_en})" if bank.name_en else ""
    typer.echo(f"bank {bank.code} added: {bank.name}{english}")


@app.command("name-en")
def name_en(
    code: Annotated[str, typer.Argument(metavar="CODE", help="The bank's code.")],
    text: Annotated[
        str,
        typer.Argument(
            metavar="TEXT", help="Its English name; omitted, English pages show its Chinese name."
        ),
    ] = "",
) -> None:
    """Set (or clear) the English name of bank CODE, e.g. one registered before banks had one."""
    from portal.services import banks

    bank = run(lambda portal: banks.set_name_en(portal, code, text))
    typer.echo(
        f"bank {bank.code}: English name {bank.name_en}"
        if bank.name_en
        else f"bank {bank.code}: no English name"
    )


@app.command("key")
def key(
    code: Annotated[str, typer.Argument(metavar="CODE", help="The bank's code.")],
    scopes: Annotated[
        list[str] | None,
        typer.Option(
            "--scopes",
            metavar="SCOPE",
            help="eligibility:read and/or loans:write (repeat or comma-separate); default both.",
        ),
    ] = None,
) -> None:
    """Issue an API key to bank CODE and print it once."""
    from portal.services import banks

    wanted = [s for item in scopes or [] for s in item.replace(",", " ").split()] or list(banks.SCOPES)
    _print_key(run(lambda portal: banks.issue_key(portal, code, wanted)))


@app.command("rotate")
def rotate(
    prefix: Annotated[str, typer.Argument(metavar="PREFIX", help="The prefix of the key to replace.")],
) -> None:
    """Revoke key PREFIX and issue its successor with the same scopes."""
    from portal.services import banks

    _print_key(run(lambda portal: banks.rotate_key(portal, prefix)))


@app.command("revoke")
def revoke(
    prefix: Annotated[str, typer.Argument(metavar="PREFIX", help="The prefix of the key to revoke.")],
) -> None:
    """Revoke key PREFIX at once."""
    from portal.services import banks

    row = run(lambda portal: banks.revoke_key(portal, prefix))
    typer.echo(f"key {row.prefix} revoked")


@app.command("list")
def list_() -> None:
    """Every bank with its keys (prefix, scopes, issued, revoked and last used times in the pack's
    time zone, its offset shown; never the key)."""
    from portal.services import banks

    listing, clock = run(lambda portal: (banks.list_banks(portal), portal.clock))
    if not listing:
        typer.echo("no banks registered")
    for bank in listing:
        status = "active" if bank.active else "inactive"
        typer.echo(f"{bank.code}\t{bank.name}\t{status}")
        for k in bank.keys:
            issued = clock.zoned_time(k.created_at)
            state = f"revoked {clock.zoned_time(k.revoked_at)}" if k.revoked_at else "active"
            used = f"last used {clock.zoned_time(k.last_used_at)}" if k.last_used_at else "never used"
            typer.echo(f"  {k.prefix}\t{k.scopes}\tissued {issued}\t{state}\t{used}")
