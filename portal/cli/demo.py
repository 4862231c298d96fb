"""`portal demo seed`: put the demo enterprises, staff and cases into the configured database.

Idempotent: a second run finds the demo admin and changes nothing. `portal serve --demo` calls
the same function before it starts serving.
"""

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from portal.db.engine import DatabaseURLError, database_error_reason, make_engine
from portal.demo.seed import DEMO_PASSWORD, SeedReport, seed_demo
from portal.forms import FormFileError
from portal.rules import RuleFileError
from portal.services.context import Portal
from portal.settings import Settings, get_settings
from portal.workflows import WorkflowFileError

app = typer.Typer(help="Demo data for trying the portal out.", no_args_is_help=True)


def seed_configured(settings: Settings) -> SeedReport:
    """Seed the database in `settings`; expected failures exit with one line, never a traceback."""
    try:
        engine = make_engine(settings.database_url, pooled=False)
        portal = Portal.from_settings(settings, engine=engine)
    except (DatabaseURLError, RuleFileError, FormFileError, WorkflowFileError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    try:
        return seed_demo(portal)
    except SQLAlchemyError as exc:
        typer.echo(
            f"error: cannot seed {settings.database_url}: {database_error_reason(exc)} "
            "(run `portal db upgrade` first)",
            err=True,
        )
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()


def print_logins(report: SeedReport, base_url: str) -> None:
    console = Console()
    what = f"seeded {report.applications} applications" if report.created else "demo data already present"
    console.print(f"[bold]Demo[/bold]: {what}. Open {base_url} and sign in with:")
    table = Table("username", "who", "password")
    for username, label in report.logins:
        table.add_row(username, label, DEMO_PASSWORD)
    console.print(table)
    console.print("The password is the fixed demo password; never use demo mode with real data.")


@app.command("seed")
def seed() -> None:
    """Create the demo enterprises, staff accounts and ~20 applications (once)."""
    settings = get_settings()
    print_logins(seed_configured(settings), settings.public_base_url)
