"""What names a case to the people who must tell it apart: the applicant and, where the form says
which answer names it (`title_field`), the project, product or model applied for.

An expert reads this before signing the no-conflict declaration (they cannot judge a conflict
with an applicant they have not been told of); the public notice shows it so that two entries
of one enterprise under one measure can be told apart. Nothing else of the file is read here.
"""

from dataclasses import dataclass
from typing import cast

from sqlmodel import Session

from portal.db.tables import Application, Enterprise
from portal.forms.model import Text
from portal.services.access import load_visible
from portal.services.context import Portal
from portal.services.errors import NotFound
from portal.services.listing_register import submitted_answers
from portal.workflows import Actor


@dataclass(frozen=True)
class CaseTitle:
    """The answer that names a case, under its field's label."""

    label: Text
    value: str


@dataclass(frozen=True)
class CaseParties:
    """Who applied and for what."""

    enterprise_name: str
    uscc: str
    title: CaseTitle | None


def case_title(portal: Portal, session: Session, application: Application) -> CaseTitle | None:
    """The title answer of the latest submission, when the measure's form names a title field."""
    spec = portal.forms.get(application.measure_id)
    if spec is None or spec.title_field is None:
        return None
    found = spec.case_title(submitted_answers(session, cast(int, application.id)))
    return CaseTitle(label=found[0], value=found[1]) if found is not None else None


def case_parties(portal: Portal, actor: Actor, application_id: int) -> CaseParties:
    """The applicant's registered name and code and the case's title, for anyone who may see the case.

    An expert assigned to the case reads this before declaring; the answers, files and trace
    stay closed to them until then.
    """
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        enterprise = session.get(Enterprise, application.enterprise_id)
        if enterprise is None:
            raise NotFound("enterprise", application.enterprise_id)
        return CaseParties(
            enterprise_name=enterprise.name,
            uscc=enterprise.uscc,
            title=case_title(portal, session, application),
        )
