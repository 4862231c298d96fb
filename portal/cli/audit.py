"""`portal audit verify`: walk the audit log's and the bank access log's hash chains."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from portal.cli.bootstrap import database

if TYPE_CHECKING:
    from portal.db.chain import VerifyReport

app = typer.Typer(help="The tamper-evident logs.", no_args_is_help=True)


def _line(report: VerifyReport) -> str:
    if report.ok:
        return f"{report.chain}: ok, {report.checked} rows, head {report.head_hash}"
    return (
        f"{report.chain}: BROKEN at seq {report.first_broken_seq}: {report.reason} "
        f"({report.checked} rows intact before it)"
    )


@app.command("verify")
def verify() -> None:
    """Check both hash chains from their first row; exit 1 and name the first broken link if any.

    Keep the printed head hashes somewhere else: they are what proves the newest rows were
    not all rewritten together.
    """
    from portal.db.access_log import verify_access_log
    from portal.db.audit import verify_chain
    from portal.db.engine import session_scope

    with database(doing="cannot read the logs") as engine, session_scope(engine) as session:
        reports = [verify_chain(session), verify_access_log(session)]
    for report in reports:
        typer.echo(_line(report), err=not report.ok)
    if not all(report.ok for report in reports):
        raise typer.Exit(code=1)
