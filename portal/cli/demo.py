"""`portal demo seed`: put the demo enterprises, staff and cases into the configured database.

Idempotent: a second run finds the demo admin and changes nothing. `portal serve --demo` calls
the same function before it starts serving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from portal.cli.bootstrap import open_portal, settings

if TYPE_CHECKING:
    from portal.demo.seed import SeedReport
    from portal.settings import Settings

app = typer.Typer(help="Demo data for trying the portal out.", no_args_is_help=True)


def seed_configured(config: Settings) -> SeedReport:
    """Seed the database in `config`; expected failures exit with one line, never a traceback."""
    from portal.demo.seed import seed_demo

    with open_portal(config, doing="cannot seed the database") as portal:
        return seed_demo(portal)


def print_logins(report: SeedReport, base_url: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from portal.demo.seed import DEMO_PASSWORD

    console = Console()
    what = f"seeded {report.applications} applications" if report.created else "demo data already present"
    console.print(f"[bold]Demo[/bold]: {what}. Open {base_url} and sign in with:")
    table = Table("username", "who", "password")
    for username, label in report.logins:
        table.add_row(username, label, DEMO_PASSWORD)
    console.print(table)
    console.print("The password is the fixed demo password; never use demo mode with real data.")
    if report.bank_key is not None:
        console.print(
            f"Partner bank API key (shown this once; make a new one at {base_url}/admin/banks):\n"
            f"  {report.bank_key}"
        )


@app.command("seed")
def seed() -> None:
    """Create the demo enterprises, staff accounts and ~20 applications (once)."""
    config = settings()
    print_logins(seed_configured(config), config.public_base_url)
