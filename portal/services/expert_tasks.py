"""An expert's task list: each case on their desk, who applied, the day to score by and what is next.

The list is what an expert plans their week by, so it answers the three questions the bare case
list left open: whose application it is (the registered name, which the expert may read before
declaring, to spot a conflict), by when the sheet is due, and whether the sheet is still owed.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy.orm import aliased
from sqlmodel import col, select

from portal.db.tables import Application, Enterprise, ExpertAssignment, ExpertScore
from portal.services.access import visible_to
from portal.services.context import Portal
from portal.services.experts import DECLARE_EVENT, SCORE_EVENT, response_due
from portal.workflows import Actor


class Step(StrEnum):
    """What the case asks of the expert now, in the order they meet it."""

    DECLARE = "declare"
    SCORE = "score"
    SCORED = "scored"
    CLOSED = "closed"
    """The case left the scoring stage without this expert's sheet (the panel decided without it)."""


@dataclass(frozen=True)
class ExpertTask:
    application: Application
    enterprise_name: str
    response_due: date
    step: Step
    late: bool
    """Still owed and past `response_due`: the lead unit may now take the expert off the case."""
    due_today: bool = False
    """Still owed, and today is `response_due`: the last day to answer."""


def expert_tasks(portal: Portal, actor: Actor) -> list[ExpertTask]:
    """The expert's cases: the ones still owing a step first, soonest due first, then the rest by
    case number."""
    # Aliased, so that `visible_to`'s own test on the expert's seats stays a subquery of its own.
    seats = aliased(ExpertAssignment)
    query = (
        select(seats, Application, Enterprise.name, ExpertScore.id)
        .join(Application, col(Application.id) == seats.application_id)
        .join(Enterprise, col(Enterprise.id) == Application.enterprise_id)
        .outerjoin(ExpertScore, col(ExpertScore.assignment_id) == seats.id)
        .where(seats.expert_id == actor.user_id)
        .where(col(seats.excluded_at).is_(None))
        .where(visible_to(actor))
    )
    today = portal.today()
    tasks = []
    with portal.reading() as session:
        for seat, application, enterprise_name, sheet_id in session.exec(query).all():
            due = response_due(portal, seat, application.measure_id)
            declared, scored = seat.declared_at is not None, sheet_id is not None
            step = _step(portal, application, declared=declared, scored=scored)
            owed = step in (Step.DECLARE, Step.SCORE)
            tasks.append(
                ExpertTask(
                    application,
                    enterprise_name,
                    due,
                    step,
                    late=owed and today > due,
                    due_today=owed and today == due,
                )
            )
    return sorted(tasks, key=_order)


def _order(task: ExpertTask) -> tuple[bool, date, int]:
    """Owed steps first, soonest due first; then the rest by case number (their due day is past)."""
    owed = task.step in (Step.DECLARE, Step.SCORE)
    return not owed, task.response_due if owed else date.min, task.application.id or 0


def _step(portal: Portal, application: Application, *, declared: bool, scored: bool) -> Step:
    if scored:
        return Step.SCORED
    workflow = portal.workflows[application.workflow]
    events = {edge.event for edge in workflow.transitions_from(application.state)}
    if not events & {DECLARE_EVENT, SCORE_EVENT}:
        return Step.CLOSED
    return Step.SCORE if declared else Step.DECLARE
