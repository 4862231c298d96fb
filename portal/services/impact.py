"""Impact of a rule change on stored applications: the read-only database side.

The facts of each case are rebuilt exactly as `applications.submit` built them: the enterprise
profile version the case was submitted with, overlaid by its submitted answers, through the
same `facts_for_evaluation`. The comparison itself is `portal.screening.replay` (pure).
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import col, select

from portal.db.tables import Application, ApplicationAnswers, Enterprise, EnterpriseProfile
from portal.screening.impact import RuleSet
from portal.screening.replay import ApplicationImpact, Skipped, StoredCase, replay_cases, replayed_measures
from portal.services.applications import facts_for_evaluation
from portal.services.context import Portal
from portal.services.errors import ValidationFailed


@dataclass
class StoredCases:
    """The applications to replay, and those whose stored facts no longer read."""

    cases: list[StoredCase] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def stored_cases(portal: Portal, since: date, measures: Collection[str]) -> StoredCases:
    """Every application of `measures` submitted on or after `since` (a local date), with its facts."""
    start = portal.clock.start_of(since)
    with portal.reading() as session:
        rows = session.exec(
            select(Application, Enterprise.uscc, EnterpriseProfile, ApplicationAnswers)
            .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
            .join(
                EnterpriseProfile,
                (col(EnterpriseProfile.enterprise_id) == col(Application.enterprise_id))
                & (col(EnterpriseProfile.version) == col(Application.profile_version)),
            )
            .outerjoin(
                ApplicationAnswers,
                (col(ApplicationAnswers.application_id) == col(Application.id))
                & (col(ApplicationAnswers.version) == col(Application.answers_version)),
            )
            .where(col(Application.submitted_at) >= start)
            .where(col(Application.measure_id).in_(sorted(measures)))
            .order_by(col(Application.id))
        ).all()
    found = StoredCases()
    for application, uscc, profile, answers in rows:
        assert application.id is not None and application.submitted_at is not None  # filtered above
        try:
            facts = facts_for_evaluation(
                portal, profile, answers.answers if answers is not None else {}, application.measure_id
            )
        except ValidationFailed as exc:
            found.skipped.append(Skipped(application.id, str(exc)))
            continue
        found.cases.append(
            StoredCase(
                application_id=application.id,
                uscc=uscc,
                measure=application.measure_id,
                state=application.state,
                submitted_on=portal.clock.local_date(application.submitted_at),
                facts=facts,
            )
        )
    return found


def application_impact(
    portal: Portal, old: RuleSet, new: RuleSet, since: date, on: date | None = None
) -> ApplicationImpact:
    """Replay the stored applications of the measures both REFs cover under OLD and NEW.

    Each is judged at its submission day unless `on` forces one date for all.
    """
    found = stored_cases(portal, since, replayed_measures(old, new))
    return replay_cases(found.cases, old, new, since, on, found.skipped)
