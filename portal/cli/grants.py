"""`portal grants reconcile [--apply] [--case ID ...]`: withdraw granted amounts that no longer stand.

A resubmission withdraws a set amount that the new answers put above what may be granted, and
the notice and the approval refuse one; a case that got past both before they existed (on
public notice or later, where reviewers can no longer set the amount) is stuck until an
administrator withdraws it here. Dry run by default: it lists the cases and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from portal.cli.bootstrap import fail, open_portal
from portal.locales import money

if TYPE_CHECKING:
    from portal.services.grants import StaleGrant

app = typer.Typer(help="Granted amounts (核定兑现金额).", no_args_is_help=True)


def _why(stale: StaleGrant) -> str:
    excess = stale.excess
    if excess.most is None:
        return "the rule grants the case no money now"
    limit = "the amount requested" if excess.by_request else "the rule's amount"
    return f"above {limit}, {_yuan(excess.most)}; {_yuan(excess.most)} is granted once withdrawn"


def _yuan(amount: Decimal) -> str:
    """As every English page, export and letter writes an amount (CNY 3,000,000.00)."""
    return money(amount, "en")


@app.command("reconcile")
def reconcile(
    apply: Annotated[
        bool, typer.Option("--apply", help="Withdraw them (audited, reviewers told); default: list only.")
    ] = False,
    case: Annotated[
        list[int] | None,
        typer.Option("--case", metavar="ID", help="Only this application (repeatable)."),
    ] = None,
) -> None:
    """List the undecided cases whose granted amount no longer stands; --apply withdraws them.

    Each is withdrawn in a transaction of its own, as a resubmission would have withdrawn it.
    """
    from portal.services import grants
    from portal.services.errors import NotFound, StaleVersion

    only = case or []
    bad = [number for number in only if number < 1]
    if bad:
        raise fail(f"--case: {bad[0]} is not an application number", 2)
    with open_portal(doing="cannot read the cases") as portal:
        try:
            found = grants.stale_grants(portal, only)
        except NotFound as exc:
            raise fail(f"--case: no application {exc.key}", 2) from None
        withdrawn = skipped = 0
        for stale in found:
            line = (
                f"application {stale.application_id} ({stale.stage.en}): "
                f"{_yuan(stale.excess.amount)} set, {_why(stale)}"
            )
            if not apply:
                typer.echo(f"  would withdraw  {line}")
                continue
            try:
                done = grants.reconcile(portal, stale.application_id)
            except StaleVersion:
                done = None
            if done is None:
                skipped += 1
                typer.echo(
                    f"  skipped         application {stale.application_id} (changed meanwhile; run again)"
                )
            else:
                withdrawn += 1
                typer.echo(f"  withdrew        {line}")
    if apply:
        typer.echo(f"{withdrawn} withdrawn, {skipped} skipped")
    else:
        typer.echo(f"{len(found)} to withdraw; dry run, nothing changed (--apply withdraws them)")
