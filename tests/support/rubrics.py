"""The rubric a stored case's experts score on, for tests that fill in a score sheet."""

from portal.db.tables import Application
from portal.services.context import Portal
from portal.workflows.rubric import Rubric


def case_rubric(portal: Portal, application_id: int) -> Rubric:
    """The rubric of the case's measure, as the score sheet shows it."""
    with portal.reading() as session:
        application = session.get(Application, application_id)
        assert application is not None, application_id
        return portal.rubric_for(application.measure_id)
