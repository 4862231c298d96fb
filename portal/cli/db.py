"""`portal db upgrade|downgrade|current|roles`: migrations and roles of the database in DATABASE_URL."""

from collections.abc import Callable
from typing import Annotated

import typer

from portal.cli.bootstrap import fail, settings

app = typer.Typer(help="The database schema: Alembic migrations of DATABASE_URL.", no_args_is_help=True)


def _shown(url: str) -> str:
    from portal.db.engine import parse_database_url

    return parse_database_url(url).render_as_string(hide_password=True)


def _run(action: Callable[[str], None]) -> None:
    """Run a migration step, turning the expected failures into one line and exit code 1."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from portal.db.engine import DatabaseURLError, database_error_reason

    url = settings().database_url
    try:
        action(url)
    except (DatabaseURLError, CommandError) as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise fail(f"database {_shown(url)}: {database_error_reason(exc)}") from None


@app.command("upgrade")
def upgrade(
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help="Target revision (default: the latest).")
    ] = "head",
) -> None:
    """Migrate the database up to REVISION."""

    from portal.db import migrations

    def step(url: str) -> None:
        migrations.upgrade(url, revision)
        typer.echo(f"{_shown(url)} is at {', '.join(migrations.current_revisions(url)) or 'base'}")

    _run(step)


@app.command("downgrade")
def downgrade(
    revision: Annotated[
        str,
        typer.Argument(metavar="REVISION", help="Target revision: an id, -1 for one step, base for empty."),
    ],
) -> None:
    """Migrate the database down to REVISION (data in dropped tables is lost)."""

    from portal.db import migrations

    def step(url: str) -> None:
        migrations.downgrade(url, revision)
        typer.echo(f"{_shown(url)} is at {', '.join(migrations.current_revisions(url)) or 'base'}")

    _run(step)


@app.command("current")
def current() -> None:
    """Print the database's revision and whether it is the latest."""

    from portal.db import migrations

    def step(url: str) -> None:
        revisions = migrations.current_revisions(url)
        head = migrations.head_revision()
        state = "up to date" if revisions == (head,) else f"latest is {head}; run `portal db upgrade`"
        typer.echo(f"{_shown(url)}: {', '.join(revisions) or 'base (not migrated)'} ({state})")

    _run(step)


@app.command("roles")
def roles(
    app_role: Annotated[
        str, typer.Option(metavar="ROLE", help="The role the portal connects as.")
    ] = "portal_app",
) -> None:
    """Create or refresh the application role on PostgreSQL (run as the schema owner, after upgrade).

    The role may SELECT and INSERT on the append-only tables but not UPDATE, DELETE or disable
    their triggers; give it a password (ALTER ROLE … PASSWORD) and put it in the portal's
    DATABASE_URL, while migrations keep running as the owner.
    """
    from portal.db.engine import make_engine
    from portal.db.roles import RoleNameError, grant_app_role

    def step(url: str) -> None:
        engine = make_engine(url, pooled=False)
        try:
            if engine.dialect.name != "postgresql":
                raise fail("portal db roles is for PostgreSQL; the embedded SQLite has no roles", 2)
            with engine.begin() as connection:
                for statement in grant_app_role(connection, app_role):
                    typer.echo(statement)
        except RoleNameError as exc:
            raise fail(f"--app-role: {exc}", 2) from None
        finally:
            engine.dispose()

    _run(step)
