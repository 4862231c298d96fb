"""The workflow engine: review workflows, who may fire which event, and working-day deadlines.

`load_workflow` reads one workflow file into a `Workflow` (`load_workflows` a directory). The
engine keeps no per-case memory: `Workflow.allowed_events` and `Workflow.fire` take the stored
state, the `Actor` and a `CaseContext`, and either return plain values or raise
`TransitionRefused`. `WorkingCalendar` counts working days on the Chinese calendar, and
`stage_deadline` gives a stage's SLA deadline. `portal.services` persists the results.
"""

from portal.workflows.context import Actor, CaseContext, Role
from portal.workflows.errors import (
    CalendarRangeError,
    TransitionRefused,
    UnknownState,
    WorkflowFileError,
)
from portal.workflows.loader import load_workflow, load_workflows
from portal.workflows.sla import stage_deadline
from portal.workflows.spec import EventSpec, StateSpec
from portal.workflows.workflow import Workflow
from portal.workflows.working_days import WorkingCalendar

__all__ = [
    "Actor",
    "CalendarRangeError",
    "CaseContext",
    "EventSpec",
    "Role",
    "StateSpec",
    "TransitionRefused",
    "UnknownState",
    "Workflow",
    "WorkflowFileError",
    "WorkingCalendar",
    "load_workflow",
    "load_workflows",
    "stage_deadline",
]
