"""`portal enterprises verify`: the operator verifies an enterprise whose papers were checked out of band."""

from __future__ import annotations

from typing import Annotated

import typer

from portal.cli.bootstrap import run

app = typer.Typer(help="Enterprise accounts: verification out of band.")


@app.command("verify")
def verify(
    uscc: Annotated[str, typer.Argument(metavar="USCC", help="The enterprise's unified social credit code.")],
) -> None:
    """Mark the enterprise with this code verified (audited); exit 1 if no enterprise has it."""
    from portal.services.verified import verify_enterprise

    enterprise = run(lambda portal: verify_enterprise(portal, uscc.strip().upper()))
    typer.echo(f"verified: {enterprise.name} ({enterprise.uscc})")
