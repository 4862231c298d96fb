"""The money columns of the review queue's exports: what each case was granted and paid.

Apart from `services.queue` because it reads the dashboard's sets (`supervision_sets`), which
the payments module, a reader of the queue, must not pull in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import col, select

from portal.db.tables import Decision, DecisionOutcome
from portal.db.types import money_sum
from portal.services.context import Portal
from portal.services.queue import QueueQuery, matching_ids
from portal.services.supervision_sets import Cases
from portal.workflows import Actor


@dataclass(frozen=True)
class CaseMoney:
    """What a case was granted (核定, the approving decision's amount) and, once it reached a
    disbursement stage, paid: the granted amount, as the dashboard's money figures count it."""

    granted: Decimal | None = None
    disbursed: Decimal | None = None


def queue_money(portal: Portal, actor: Actor, query: QueueQuery) -> dict[int, CaseMoney]:
    """The granted and disbursed amounts of every matching approved case (the exports).

    The rule's amount is what a case may get; a reader of the export also needs what the lead
    unit granted and what was paid, which may be less.
    """
    cases = matching_ids(portal, actor, query).subquery()
    sets = Cases(portal, portal.engine.dialect.name)
    disbursed = sets.entered(sets.disbursing, "disbursed_ever")
    statement = (
        select(col(Decision.application_id), col(Decision.granted_amount), disbursed.c.application_id)
        .outerjoin(disbursed, disbursed.c.application_id == col(Decision.application_id))
        .where(
            col(Decision.application_id).in_(select(cases.c.id)),
            col(Decision.outcome) == DecisionOutcome.APPROVED,
            col(Decision.granted_amount).is_not(None),
        )
    )
    with portal.reading() as session:
        return {
            case_id: CaseMoney(money_sum(amount), money_sum(amount) if paid is not None else None)
            for case_id, amount, paid in session.exec(statement).all()
        }
