"""`portal sla sweep`: run the working-day SLA sweep once (cron calls it; it is idempotent)."""

from datetime import date
from typing import Annotated

import typer

from portal.cli.bootstrap import fail, open_portal

app = typer.Typer(help="Stage deadlines and timed events.", no_args_is_help=True)


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--today") from None


@app.command("sweep")
def sweep(
    today: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="Run as if it were this day, e.g. to replay a missed night."),
    ] = None,
) -> None:
    """Escalate overdue stages once, close public notices whose period ended, and print what was done."""
    from portal.services.notifications import deliver_email
    from portal.services.sla import sweep as run_sweep
    from portal.workflows import CalendarRangeError

    day = _parse_day(today)
    with open_portal() as portal:
        portal.today_override = day
        try:
            report = run_sweep(portal)
            mailed = deliver_email(portal)
        except CalendarRangeError as exc:
            raise fail(str(exc)) from None
        except OSError as exc:
            raise fail(f"e-mail delivery failed: {exc}") from None
    typer.echo(f"sla sweep {report.today.isoformat()}")
    for case_id in report.escalated:
        typer.echo(f"  escalated   application {case_id}")
    for moved in report.advanced:
        typer.echo(
            f"  advanced    application {moved.case_id}: {moved.source_label.en} -> {moved.target_label.en}"
        )
    for case_id in report.skipped:
        typer.echo(f"  skipped     application {case_id} (changed meanwhile; next run retries)")
    for case_id in report.reply_reminded:
        typer.echo(f"  reminded    application {case_id} (amendment reply due soon)")
    for case_id in report.reply_overdue:
        typer.echo(f"  reply late  application {case_id} (reviewers told)")
    for listing_id in report.reminded_listings:
        typer.echo(f"  reminded    listing {listing_id} (expires soon)")
    for listing_id in report.expired_listings:
        typer.echo(f"  expired     listing {listing_id}")
    for case_id, problem in report.broken:
        typer.echo(f"  BROKEN      application {case_id}: {problem}", err=True)
    typer.echo(
        f"{len(report.escalated)} escalated, {len(report.advanced)} advanced, "
        f"{len(report.reply_reminded)} reminded to reply, {len(report.reply_overdue)} replies late, "
        f"{len(report.skipped)} skipped, {len(report.reminded_listings)} listings reminded, "
        f"{len(report.expired_listings)} expired, {mailed} e-mails sent"
    )
    if report.broken:
        raise typer.Exit(code=1)
