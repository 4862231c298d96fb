"""The workflow engine: review workflows, working-day SLAs and expert scoring, all pure.

It takes plain values (a stored state, an actor, the facts of a case, dates, scores) and
returns plain values; `portal.services` persists the results.
"""

from portal.workflows.conflicts import (
    ApplicantParties,
    ConflictReason,
    ExpertAffiliation,
    conflict_reasons,
    has_conflict,
)
from portal.workflows.context import SYSTEM_ACTOR, Actor, CaseContext, Role
from portal.workflows.diagrams import workflow_page, write_workflow_pages
from portal.workflows.errors import (
    CalendarRangeError,
    RubricScoreError,
    TransitionRefused,
    UnknownState,
    UnknownWorkflow,
    WorkflowFileError,
)
from portal.workflows.loader import load_workflow, load_workflows
from portal.workflows.rubric import Consensus, Criterion, Rubric, consensus, load_rubric
from portal.workflows.sla import (
    SHANGHAI,
    Escalation,
    OpenCase,
    TimedAdvance,
    local_date,
    plan_sweep,
    remaining_working_days,
    resumed_deadline,
    stage_deadline,
    timer_due_on,
)
from portal.workflows.spec import EventSpec, Label, StateSpec, Timer, TransitionSpec
from portal.workflows.workflow import Workflow
from portal.workflows.working_days import WorkingCalendar

__all__ = [
    "SHANGHAI",
    "SYSTEM_ACTOR",
    "Actor",
    "ApplicantParties",
    "CalendarRangeError",
    "CaseContext",
    "ConflictReason",
    "Consensus",
    "Criterion",
    "Escalation",
    "EventSpec",
    "ExpertAffiliation",
    "Label",
    "OpenCase",
    "Role",
    "Rubric",
    "RubricScoreError",
    "StateSpec",
    "TimedAdvance",
    "Timer",
    "TransitionRefused",
    "TransitionSpec",
    "UnknownState",
    "UnknownWorkflow",
    "Workflow",
    "WorkflowFileError",
    "WorkingCalendar",
    "conflict_reasons",
    "consensus",
    "has_conflict",
    "load_rubric",
    "load_workflow",
    "load_workflows",
    "local_date",
    "plan_sweep",
    "remaining_working_days",
    "resumed_deadline",
    "stage_deadline",
    "timer_due_on",
    "workflow_page",
    "write_workflow_pages",
]
