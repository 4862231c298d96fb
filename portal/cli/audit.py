"""`portal audit verify`: walk the audit log's and the bank access log's hash chains."""

import typer
from sqlalchemy.exc import SQLAlchemyError

from portal.db.access_log import verify_access_log
from portal.db.audit import verify_chain
from portal.db.chain import VerifyReport
from portal.db.engine import DatabaseURLError, database_error_reason, make_engine, session_scope
from portal.settings import get_settings

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
    url = get_settings().database_url
    try:
        engine = make_engine(url, pooled=False)
    except DatabaseURLError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    try:
        with session_scope(engine) as session:
            reports = [verify_chain(session), verify_access_log(session)]
    except SQLAlchemyError as exc:
        reason = database_error_reason(exc)
        typer.echo(
            f"error: cannot read the logs ({reason}); is the database migrated (portal db upgrade)?", err=True
        )
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()
    for report in reports:
        typer.echo(_line(report), err=not report.ok)
    if not all(report.ok for report in reports):
        raise typer.Exit(code=1)
