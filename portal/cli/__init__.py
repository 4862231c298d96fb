"""The `portal` command: a thin shell that parses arguments, calls engines or services and prints.

Each command group lives in its own module and is registered here.
"""

import typer

app = typer.Typer(
    name="portal",
    help="政策兑现平台 — rule engine, review workflows and the web portal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
