"""Render a workflow as Mermaid and as a Markdown page for `docs/workflows/`.

The pages are generated, never hand-edited, and a test compares them with the definitions,
so the documentation cannot drift from what the engine enforces.
"""

from pathlib import Path
from typing import TYPE_CHECKING

from portal.workflows.checks import GUARDS

if TYPE_CHECKING:
    from portal.workflows.workflow import Workflow


def _edge_text(edge_label: str, roles: frozenset[str], comment_required: bool, routed: bool) -> str:
    parts = [edge_label, "/".join(sorted(roles))]
    if comment_required:
        parts.append("须填意见")
    if routed:
        parts.append("回到退回阶段")
    # ':' and ';' end a Mermaid edge label early.
    return " · ".join(parts).replace(":", "：").replace(";", "；")


def mermaid(workflow: "Workflow") -> str:
    """A `stateDiagram-v2`: one node per state (zh + en), one arrow per source → target edge."""
    lines = ["stateDiagram-v2", "    direction TB"]
    for state in workflow.states:
        lines.append(f'    state "{state.label.zh} {state.label.en}" as {state.name}')
    lines.append(f"    [*] --> {workflow.initial}")
    for edge in workflow.transitions:
        text = _edge_text(edge.label.zh, edge.roles, edge.comment_required, edge.route_by_returned_from)
        lines.append(f"    {edge.source} --> {edge.target} : {text}")
    for state in workflow.states:
        if state.final:
            lines.append(f"    {state.name} --> [*]")
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    return "—" if value in (None, "", ()) else str(value).replace("|", "\\|")


def workflow_page(workflow: "Workflow") -> str:
    """The Markdown page for one workflow: diagram, stage table and transition table."""
    out = [
        f"# {workflow.title.zh} · {workflow.title.en}",
        "",
        f"<!-- Generated from workflows/{workflow.name}.yaml by `portal workflows docs`; do not edit. -->",
        "",
        "```mermaid",
        workflow.mermaid().rstrip("\n"),
        "```",
        "",
        "## Stages",
        "",
        "| state | label | kind | SLA (working days) | responsible | escalate to | SLA paused | timer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in workflow.states:
        timer = f"{s.timer.calendar_days} calendar days → `{s.timer.event}`" if s.timer else None
        paused = "yes" if s.paused_sla else "no"
        if s.reply_within is not None:
            paused += f"; reply within {s.reply_within.days} {s.reply_within.counted.replace('_', ' ')}"
        out.append(
            f"| `{s.name}` | {s.label.zh} / {s.label.en} | {s.kind} | {_cell(s.sla_working_days)} "
            f"| {_cell(s.responsible)} | {_cell(s.escalate_to)} | {paused} "
            f"| {_cell(timer)} |"
        )
    out += [
        "",
        "## Transitions",
        "",
        "| event | from | to | label | roles | jurisdiction | guards | comment |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in workflow.transitions:
        target = f"`{e.target}` (if returned from there)" if e.route_by_returned_from else f"`{e.target}`"
        guards = ", ".join(f"`{g}`" for g in e.guards)
        out.append(
            f"| `{e.event}` | `{e.source}` | {target} | {e.label.zh} / {e.label.en} "
            f"| {', '.join(sorted(e.roles))} | {e.jurisdiction} | {_cell(guards)} "
            f"| {'required' if e.comment_required else 'optional'} |"
        )
    used = sorted({g for e in workflow.transitions for g in e.guards})
    if used:
        out += ["", "## Guards (a failed guard refuses with)", ""]
        out += [f"- `{g}`: {GUARDS[g][1].zh} / {GUARDS[g][1].en}" for g in used]
    return "\n".join(out) + "\n"


def write_workflow_pages(workflows: dict[str, "Workflow"], out_dir: Path) -> list[Path]:
    """Write `<out_dir>/<name>.md` for each workflow and return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, workflow in sorted(workflows.items()):
        path = out_dir / f"{name}.md"
        path.write_text(workflow_page(workflow), encoding="utf-8")
        written.append(path)
    return written
