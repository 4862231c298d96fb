"""The `portal` command: a thin shell that parses arguments, calls engines or services and prints.

Each command group lives in its own module and is registered here.
"""

import typer

from portal.cli import (
    audit,
    banks,
    db,
    decisions,
    demo,
    enterprises,
    grants,
    rules,
    screen,
    serve,
    sla,
    worker,
    workflows,
)
from portal.cli.inputs import GuardedGroup

app = typer.Typer(
    cls=GuardedGroup,
    name="portal",
    help="政策兑现平台 — rule engine, review workflows and the web portal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(workflows.app, name="workflows")
app.add_typer(db.app, name="db")
app.add_typer(audit.app, name="audit")
app.add_typer(banks.app, name="banks")
app.add_typer(enterprises.app, name="enterprises")
app.add_typer(decisions.app, name="decisions")
app.add_typer(grants.app, name="grants")
app.add_typer(sla.app, name="sla")
app.add_typer(demo.app, name="demo")
app.add_typer(rules.app, name="rules")
app.command("check")(rules.check)
app.command("screen")(screen.screen)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
rules.app.command("impact")(screen.impact)
