"""Figures for `/metrics` that every instance must agree on, so they are read from the database.

Per-process counters (requests, latency) live in the web layer; what the operators alert on
across the whole service — overdue cases, e-mail delivery, bank queries — is aggregated here
in SQL at scrape time, so N instances report the same numbers without shared memory.
"""

from dataclasses import dataclass

from sqlalchemy import case
from sqlmodel import col, func, select

from portal.db.tables import Application, BankAccessLog, Notification
from portal.services.context import Portal


@dataclass(frozen=True)
class ServiceFigures:
    """One scrape's worth of database-wide figures."""

    overdue_by_stage: dict[tuple[str, str], int]
    emails_sent: int
    emails_pending: int
    emails_failed: int
    bank_queries_by_outcome: dict[str, int]


def service_figures(portal: Portal) -> ServiceFigures:
    """Overdue cases per (workflow, state), e-mail delivery, and bank queries per outcome."""
    with portal.reading() as session:
        overdue = session.exec(
            select(col(Application.workflow), col(Application.state), func.count())
            .where(col(Application.overdue).is_(True))
            .group_by(col(Application.workflow), col(Application.state))
        ).all()
        outcome = case(
            (col(Notification.emailed_at).is_not(None), "sent"),
            (col(Notification.email_failed_at).is_not(None), "failed"),
            else_="pending",
        )
        emails = dict(
            session.exec(select(outcome, func.count()).select_from(Notification).group_by(outcome)).all()
        )
        queries = session.exec(
            select(col(BankAccessLog.outcome), func.count()).group_by(col(BankAccessLog.outcome))
        ).all()
    return ServiceFigures(
        overdue_by_stage={(workflow, state): n for workflow, state, n in overdue},
        emails_sent=emails.get("sent", 0),
        emails_pending=emails.get("pending", 0),
        emails_failed=emails.get("failed", 0),
        bank_queries_by_outcome=dict(queries),
    )
