"""`portal workflows docs`: regenerate (or check) the workflow diagrams in docs/workflows/."""

from pathlib import Path
from typing import Annotated

import typer

from portal.cli.bootstrap import fail, settings

app = typer.Typer(help="Review workflows: validate the definitions and render their diagrams.")


@app.command("docs")
def docs(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Directory for the pages (default: <pack>/docs/workflows)."
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Fail if a page differs from its definition.")
    ] = False,
) -> None:
    """Write <name>.md (Mermaid diagram + stage and transition tables) for each workflows/*.yaml."""
    from portal.workflows import WorkflowFileError, load_workflows
    from portal.workflows.diagrams import workflow_page, write_workflow_pages

    config = settings()
    target = out_dir if out_dir is not None else config.pack_dir / "docs" / "workflows"
    try:
        workflows = load_workflows(config.workflows_dir)
    except WorkflowFileError as exc:
        raise fail(str(exc), 2) from None
    if check:
        stale = [
            name
            for name, workflow in sorted(workflows.items())
            if not (target / f"{name}.md").is_file()
            or (target / f"{name}.md").read_text(encoding="utf-8") != workflow_page(workflow)
        ]
        if stale:
            typer.echo(f"out of date in {target}: {', '.join(stale)}; run `portal workflows docs`", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"{len(workflows)} workflow pages are up to date")
        return
    try:
        written = write_workflow_pages(workflows, target)
    except OSError as exc:
        raise fail(f"cannot write to {target}: {exc.strerror}", 2) from None
    for path in written:
        typer.echo(f"wrote {path}")
