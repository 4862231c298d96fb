"""The 一链一行 records behind the supervision dashboard's bank figures, as SQL.

Each bank figure (queries by bank, product and outcome; consents by bank; loans by bank,
product and stage; the pool's loans by stage today) counts one of these record sets grouped by
its columns, and its drill-down lists the same set with the row's values as filters, so a figure
and the records behind it cannot disagree (as `supervision_sets` does for cases).

A filter of None takes any value; "" takes the records without one (a query made with an
unknown key has no bank, a refused one may have no product).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Select, case, func, literal, null, select

from portal.db.tables import Bank, BankAccessLog, BankConsent, Loan
from portal.services.bank_access import CALL_KINDS, CALL_OF_OUTCOME, LOGGED_CALLS, SERVED
from portal.services.context import Portal
from portal.services.errors import Forbidden
from portal.services.supervision_sets import E, district_scope, table_of
from portal.services.supervision_sql import Period
from portal.workflows import Actor

BankKind = Literal["queries", "consents", "loans", "exposure"]
BANK_KINDS: tuple[str, ...] = get_args(BankKind)
RECORD_LIST_LIMIT = 200
# The kind of call of a row whose call or outcome this release does not know.
OTHER_CALL = "other"
CALLS: tuple[str, ...] = (*CALL_KINDS, OTHER_CALL)
_SERVED: frozenset[str] = frozenset(SERVED)


def refused(outcome: str) -> bool:
    """Whether the row's call was refused (an unknown outcome counts as refused: nothing was served)."""
    return outcome not in _SERVED


def call_of_row(call_kind: ColumnElement[Any], outcome: ColumnElement[Any]) -> ColumnElement[str]:
    """The kind of call a query row records (`CALLS`): the call it names; a row written before the
    log named calls, by its outcome (`bank_access.CALL_OF_OUTCOME`: a refusal before the request was
    read is `unattributed`); `other` for a call or outcome this release does not know."""
    by_outcome = {kind: [code for code, of in CALL_OF_OUTCOME.items() if of == kind] for kind in CALL_KINDS}
    return case(
        (call_kind.in_(LOGGED_CALLS), call_kind),
        (call_kind.is_not(None), literal(OTHER_CALL)),
        *[(outcome.in_(codes), literal(kind)) for kind, codes in by_outcome.items()],
        else_=literal(OTHER_CALL),
    )


LOG, BANK, CONSENT, LOAN = table_of(BankAccessLog), table_of(Bank), table_of(BankConsent), table_of(Loan)


@dataclass(frozen=True)
class BankChoice:
    """One bank figure's records: a kind in a period and scope, narrowed by the row's values.

    `state` is a query's outcome or a loan's stage; `call` a kind of call (`CALLS`, see
    `call_of_row`), for queries only. The pool's loans (`exposure`) are those of today, whatever the period.
    """

    kind: BankKind
    period: Period
    district_scope: str | None
    bank: str | None = None
    product: str | None = None
    state: str | None = None
    call: str | None = None


@dataclass(frozen=True)
class BankRecord:
    """One record behind a bank figure, as the drill-down lists it."""

    id: int
    at: dt.datetime
    bank: str | None
    products: list[str]
    enterprise: str | None
    uscc: str | None
    state: str | None
    amount: Decimal | None


def _matches(column: ColumnElement[Any], wanted: str | None) -> list[ColumnElement[bool]]:
    if wanted is None:
        return []
    return [column.is_(None)] if wanted == "" else [column == wanted]


def records(chosen: BankChoice, loan_workflow: str) -> tuple[Select[Any], dict[str, ColumnElement[Any]]]:
    """FROM/WHERE of the chosen records with no columns yet, and their columns by name (`bank`,
    `product`, `state` and, for queries, `call` are what the figures group by)."""
    scoped = [E.c.district == chosen.district_scope] if chosen.district_scope is not None else []
    if chosen.kind == "queries":
        query = (
            select()
            .select_from(LOG)
            .outerjoin(BANK, BANK.c.id == LOG.c.bank_id)
            .outerjoin(E, E.c.id == LOG.c.enterprise_id)
            .where(chosen.period.holds(LOG.c.at))
        )
        columns: dict[str, ColumnElement[Any]] = {
            "id": LOG.c.seq,
            "at": LOG.c.at,
            "product": LOG.c.product,
            "products": LOG.c.product,
            "uscc": func.coalesce(E.c.uscc, LOG.c.uscc_queried),
            "state": LOG.c.outcome,
            "amount": null(),
            "call": call_of_row(LOG.c.call_kind, LOG.c.outcome),
        }
    elif chosen.kind == "consents":
        query = (
            select()
            .select_from(CONSENT)
            .join(BANK, BANK.c.id == CONSENT.c.bank_id)
            .join(E, E.c.id == CONSENT.c.enterprise_id)
            .where(chosen.period.holds(CONSENT.c.granted_at))
        )
        columns = {
            "id": CONSENT.c.id,
            "at": CONSENT.c.granted_at,
            "product": literal(None),
            "products": CONSENT.c.products,
            "uscc": E.c.uscc,
            "state": literal(None),
            "amount": null(),
            "call": literal(None),
        }
    else:
        query = (
            select()
            .select_from(LOAN)
            .join(BANK, BANK.c.id == LOAN.c.bank_id)
            .join(E, E.c.id == LOAN.c.enterprise_id)
        )
        if chosen.kind == "loans":
            query = query.where(chosen.period.holds(LOAN.c.created_at))
        else:
            query = query.where(LOAN.c.workflow == loan_workflow)
        columns = {
            "id": LOAN.c.id,
            "at": LOAN.c.created_at,
            "product": LOAN.c.product,
            "products": LOAN.c.product,
            "uscc": E.c.uscc,
            "state": LOAN.c.state,
            "amount": LOAN.c.amount,
            "call": literal(None),
        }
    columns |= {"bank": BANK.c.name, "enterprise": E.c.name}
    query = query.where(
        *scoped,
        *_matches(columns["bank"], chosen.bank),
        *_matches(columns["product"], chosen.product),
        *_matches(columns["state"], chosen.state),
    )
    if chosen.call is not None:
        query = query.where(columns["call"] == chosen.call)
    return query, columns


def list_bank_records(
    portal: Portal, actor: Actor, chosen: BankChoice, after: int = 0
) -> tuple[list[BankRecord], int]:
    """The records behind one bank figure (id order, a page after `after`), and how many in all;
    a choice outside the reader's scope is Forbidden."""
    if district_scope(actor) != chosen.district_scope:
        raise Forbidden("超出您的监管范围", "outside your supervision scope")
    query, c = records(chosen, portal.city.banking.loan_workflow)
    with portal.reading() as session:
        total = session.execute(query.add_columns(func.count())).scalar_one()
        rows = session.execute(
            query.add_columns(
                c["id"],
                c["at"],
                c["bank"],
                c["products"],
                c["enterprise"],
                c["uscc"],
                c["state"],
                c["amount"],
            )
            .where(c["id"] > after)
            .order_by(c["id"])
            .limit(RECORD_LIST_LIMIT)
        ).all()
    return [
        BankRecord(
            row[0],
            row[1],
            row[2],
            list(row[3]) if isinstance(row[3], list) else ([row[3]] if row[3] else []),
            row[4],
            row[5],
            row[6],
            Decimal(str(row[7])).quantize(Decimal("0.01")) if row[7] is not None else None,
        )
        for row in rows
    ], int(total)
