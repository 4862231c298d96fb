"""Errors the workflow engine raises, each carrying what a caller needs to answer precisely.

`TransitionRefused` is bilingual because the portal shows it to the person who pressed the
button; its `code` is stable so that services can map it to an HTTP status.
"""

from pathlib import Path


class WorkflowFileError(ValueError):
    """A workflow, calendar or rubric file that cannot be used, naming the file and the field."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class UnknownState(LookupError):
    """A stored state value that the workflow does not declare (a bad row, or a renamed state)."""

    def __init__(self, workflow: str, state: str) -> None:
        super().__init__(f"workflow {workflow!r} has no state {state!r}")
        self.workflow = workflow
        self.state = state


class UnknownWorkflow(LookupError):
    """A stored workflow name that no loaded workflow file declares."""

    def __init__(self, workflow: str) -> None:
        super().__init__(f"no workflow named {workflow!r} is loaded")
        self.workflow = workflow


class TransitionRefused(Exception):
    """An event this actor may not fire now; nothing has changed.

    Codes: `not_allowed_in_state`, `no_route`, `wrong_role`, `wrong_jurisdiction`,
    `guard_failed` (then `detail` names the guard) and `comment_required`.
    """

    def __init__(self, code: str, message_zh: str, message_en: str, detail: str | None = None) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.detail = detail


class CalendarRangeError(ValueError):
    """A date outside the years the working-day calendar covers: we refuse rather than guess."""


class RubricScoreError(ValueError):
    """A score sheet that does not fit the rubric (missing, unknown or out-of-range criteria)."""
