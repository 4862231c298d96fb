"""Session fixtures: the pack's real workflow, calendar and rubric files."""

import pytest
from wf_helpers import WORKFLOWS_DIR

from portal.workflows import Workflow, WorkingCalendar, load_workflows
from portal.workflows.rubric import Rubric, load_rubric


@pytest.fixture(scope="session")
def workflows() -> dict[str, Workflow]:
    return load_workflows(WORKFLOWS_DIR)


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar.load(WORKFLOWS_DIR / "calendar" / "cn-holidays.yaml")


@pytest.fixture(scope="session")
def rubric() -> Rubric:
    return load_rubric(WORKFLOWS_DIR / "rubrics" / "default.yaml")
