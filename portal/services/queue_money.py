"""The money paid column of the review queue's exports: what each case was paid.

Apart from `services.queue` because it reads the dashboard's sets (`supervision_sets`), which
the payments module, a reader of the queue, must not pull in.
"""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import col, select

from portal.db.tables import Decision, DecisionOutcome
from portal.db.types import money_sum
from portal.services.context import Portal
from portal.services.queue import QueueQuery, matching_ids
from portal.services.supervision_sets import Cases
from portal.workflows import Actor


def queue_money(portal: Portal, actor: Actor, query: QueueQuery) -> dict[int, Decimal]:
    """What every matching approved case that reached a disbursement stage was paid (the exports):
    the approving decision's amount, as the dashboard's money figures count it.

    The rule's amount is what a case may get; a reader of the export also needs what was paid,
    which may be less. What a case is granted is the case page's (`grants.grants_of`).
    """
    cases = matching_ids(portal, actor, query).subquery()
    sets = Cases(portal, portal.engine.dialect.name)
    disbursed = sets.entered(sets.disbursing, "disbursed_ever")
    statement = (
        select(col(Decision.application_id), col(Decision.granted_amount))
        .join(disbursed, disbursed.c.application_id == col(Decision.application_id))
        .where(
            col(Decision.application_id).in_(select(cases.c.id)),
            col(Decision.outcome) == DecisionOutcome.APPROVED,
            col(Decision.granted_amount).is_not(None),
        )
    )
    with portal.reading() as session:
        return {case_id: money_sum(amount) for case_id, amount in session.exec(statement).all()}
