"""Loans a bank registers under the compensation pool (放款备案), and their status.

A registration must quote the eligibility check it relied on. The check must be this
bank's, for the same enterprise and product, `eligible`, at most 30 days old and not yet
used by another loan, and it must have been made for this loan: the amount may not exceed
the checked amount (the compensation ratio falls as the amount grows) and the term must be
the checked term. Nor may the check have left a benefit open (a ratio it could not compute):
the pool would then hold a loan whose compensation nobody determined. The loan then enters
the pack's loan workflow at its initial stage.
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import cast

from sqlmodel import Session, col, select

from portal.city import split_fact
from portal.db.access_log import ACCESS_LOG_CHAIN_LOCK
from portal.db.audit import append_audit
from portal.db.chain import lock_chain
from portal.db.tables import BankAccessLog, Enterprise, Loan
from portal.db.tables.banks import LoanTerms
from portal.services.bank_access import BankRefusal, enterprise_id_for, log_access, no_consent
from portal.services.banks import BankCaller
from portal.services.consents import has_live_consent
from portal.services.context import Portal
from portal.services.errors import BadStoredState
from portal.services.loan_eligibility import REQUEST_LOAN_FIELD
from portal.workflows import UnknownState, Workflow

QUERY_VALID_FOR = timedelta(days=30)


class LoanView(LoanTerms):
    """A registered loan as the bank API publishes it: its terms, whose it is and where it stands."""

    id: int
    uscc: str
    state: str
    state_label: dict[str, str]
    registered_at: datetime
    updated_at: datetime
    # The benefits the quoted eligibility check answered (exact decimal text by name); None for a
    # loan on a check made before the access log kept them.
    benefit: dict[str, str] | None


def _workflow(portal: Portal) -> Workflow:
    name = portal.city.banking.loan_workflow
    workflow = portal.workflows.get(name)
    if workflow is None:
        raise BadStoredState("workflow", name, "the pack has no such workflow")
    return workflow


def _checked_benefit(session: Session, query_id: str) -> dict[str, str] | None:
    """The benefits the eligibility check `query_id` answered, as its access-log row keeps them."""
    benefit = session.exec(
        select(BankAccessLog.benefit).where(col(BankAccessLog.query_id) == query_id)
    ).first()
    return None if benefit is None else {str(name): str(value) for name, value in benefit.items()}


def _view(portal: Portal, loan: Loan, uscc: str, benefit: dict[str, str] | None) -> LoanView:
    try:
        label = _workflow(portal).state(loan.state).label
    except UnknownState:
        raise BadStoredState(
            "loan", loan.id, f"state {loan.state!r} is not a state of its workflow"
        ) from None
    return LoanView(
        id=cast(int, loan.id),
        uscc=uscc,
        product=loan.product,
        amount=loan.amount,
        granted_on=loan.granted_on,
        term_months=loan.term_months,
        query_id=loan.query_id,
        state=loan.state,
        state_label={"zh": label.zh, "en": label.en},
        registered_at=loan.created_at,
        updated_at=loan.updated_at,
        benefit=benefit,
    )


def _loan_mismatch(checked: Mapping[str, object], amount: Decimal, term_months: int) -> BankRefusal | None:
    """Refuse a loan the check was not answered for: larger than checked, or for another term.

    A smaller amount is accepted: the products' criteria only cap the amount, so a check
    that passed a loan passes a smaller one. A check made without a term is no bar: a rule
    that reads the term would have left such a check `undetermined`, which backs no loan.
    """
    checked_amount = checked.get("amount")
    if not isinstance(checked_amount, str):
        return BankRefusal(
            422,
            "amount_mismatch",
            "The eligibility check recorded no loan amount; check again with this loan.",
        )
    if amount > Decimal(checked_amount):
        why = f"{amount} exceeds the {checked_amount} the eligibility check was made for"
        return BankRefusal(
            422, "amount_mismatch", f"amount: {why}; check again with this amount.", [("amount", why)]
        )
    checked_term = checked.get("term_months")
    if checked_term is not None and checked_term != term_months:
        why = f"{term_months} differs from the {checked_term} the eligibility check was made for"
        return BankRefusal(
            422, "term_mismatch", f"term_months: {why}; check again with this term.", [("term_months", why)]
        )
    return None


def _open_benefit(portal: Portal, check: BankAccessLog) -> BankRefusal | None:
    """Refuse an eligible check that left a benefit open, naming the loan fields it lacked.

    The check's row lists the benefits it could not determine. The fields to name come from
    the rule in force on the check's day: the loan facts each open benefit's formula reads
    that the check was not given. A row written before the log kept that list (NULL) is
    judged by those fields alone.
    """
    measure_id = portal.city.banking.products.get(cast(str, check.product))
    rule = portal.pack.select(measure_id, portal.clock.local_date(check.at)) if measure_id else None
    reads = rule.compiled.benefit_inputs() if rule is not None and rule.compiled is not None else {}
    entity = split_fact(portal.city.banking.partner_fact)[0]  # whose facts the request's `loan` holds
    given = check.loan_facts or {}

    def unsent(benefit: str) -> list[str]:
        names = (fact.split(".", 1)[1] for fact in reads.get(benefit, ()) if fact.startswith(f"{entity}."))
        return [f"{REQUEST_LOAN_FIELD}.{name}" for name in names if given.get(name) is None]

    left_open = check.benefit_undetermined
    if left_open is None:
        left_open = [benefit for benefit in reads if unsent(benefit)]
    if not left_open:
        return None
    benefits = ", ".join(left_open)
    fields = list(dict.fromkeys(field for benefit in left_open for field in unsent(benefit)))
    refused = f"The eligibility check could not determine {benefits}, so no loan can be registered on it"
    if not fields:
        return BankRefusal(
            422,
            "benefit_undetermined",
            f"{refused}; check again once the facts it depends on are known "
            "(the enterprise's profile may lack some).",
        )
    why = f"the eligibility check was made without it, and it is needed to determine {benefits}"
    return BankRefusal(
        422,
        "benefit_undetermined",
        f"{refused}; check again with {', '.join(fields)}.",
        [(field, why) for field in fields],
    )


def _check_refusal(
    session: Session,
    portal: Portal,
    caller: BankCaller,
    *,
    enterprise_id: int,
    product: str,
    query_id: str,
    granted_on: date,
    amount: Decimal,
    term_months: int,
) -> BankRefusal | None:
    """Why the quoted check cannot back this loan, or None when it can."""
    check = session.exec(select(BankAccessLog).where(col(BankAccessLog.query_id) == query_id)).first()
    # Another bank's check, a refused request or a loan row is reported as unknown: no oracle.
    if check is None or check.bank_id != caller.bank_id or check.http_status != 200 or check.product is None:
        return BankRefusal(422, "unknown_query", "query_id names no eligibility check made with your keys.")
    if check.enterprise_id != enterprise_id or check.product != product:
        return BankRefusal(
            422, "query_mismatch", "The eligibility check was for another enterprise or product."
        )
    mismatch = _loan_mismatch(check.loan_facts or {}, amount, term_months)
    if mismatch is not None:
        return mismatch
    if check.outcome != "eligible":
        return BankRefusal(422, "query_not_eligible", f"The eligibility check's outcome was {check.outcome}.")
    left_open = _open_benefit(portal, check)
    if left_open is not None:
        return left_open
    if portal.now() - check.at > QUERY_VALID_FOR:
        return BankRefusal(422, "query_expired", "The eligibility check is older than 30 days; check again.")
    if granted_on > portal.today():
        why = "a loan cannot be granted in the future"
        return BankRefusal(422, "bad_request", f"granted_on: {why}.", [("granted_on", why)])
    checked_on = portal.clock.local_date(check.at)
    if granted_on < checked_on:
        why = f"a loan cannot be granted before its eligibility check ({checked_on.isoformat()})"
        return BankRefusal(422, "bad_request", f"granted_on: {why}.", [("granted_on", why)])
    if session.exec(select(Loan.id).where(col(Loan.query_id) == query_id)).first() is not None:
        return BankRefusal(
            409, "query_used", "Another loan was already registered on this eligibility check."
        )
    return None


def register_loan(
    portal: Portal,
    caller: BankCaller,
    *,
    uscc: str,
    product: str,
    amount: Decimal,
    granted_on: date,
    term_months: int,
    query_id: str,
) -> LoanView:
    """Register a granted loan and start its workflow; a refusal is logged and raised as BankRefusal."""
    workflow = _workflow(portal)
    with portal.transaction() as session:
        # Every registration appends to the access log anyway; taking that chain's lock first
        # also serialises registrations, so two racing requests cannot both use one check.
        lock_chain(session.connection(), ACCESS_LOG_CHAIN_LOCK)
        enterprise_id = enterprise_id_for(session, uscc)
        refusal: BankRefusal | None = None
        if enterprise_id is None or not has_live_consent(
            session,
            enterprise_id=enterprise_id,
            bank_id=caller.bank_id,
            product=product,
            today=portal.today(),
        ):
            refusal = no_consent()
        else:
            refusal = _check_refusal(
                session,
                portal,
                caller,
                enterprise_id=enterprise_id,
                product=product,
                query_id=query_id,
                granted_on=granted_on,
                amount=amount,
                term_months=term_months,
            )
        if refusal is not None:
            log_access(
                session,
                portal,
                caller,
                call="loan_registration",
                outcome=refusal.code,
                http_status=refusal.status,
                uscc=uscc,
                enterprise_id=enterprise_id,
                product=product,
            )
        else:
            now = portal.now()
            loan = Loan(
                bank_id=caller.bank_id,
                enterprise_id=cast(int, enterprise_id),
                product=product,
                amount=amount,
                granted_on=granted_on,
                term_months=term_months,
                query_id=query_id,
                workflow=workflow.name,
                state=workflow.initial,
                created_at=now,
                updated_at=now,
            )
            session.add(loan)
            session.flush()
            append_audit(
                session,
                actor_id=caller.bank_id,
                actor_role="bank",
                subject_type="loan",
                subject_id=cast(int, loan.id),
                event="register",
                to_state=workflow.initial,
                payload={
                    "product": product,
                    "amount": amount,
                    "granted_on": granted_on,
                    "term_months": term_months,
                    "query_id": query_id,
                    "api_key": caller.prefix,
                },
            )
            log_access(
                session,
                portal,
                caller,
                call="loan_registration",
                outcome="loan_registered",
                http_status=201,
                uscc=uscc,
                enterprise_id=enterprise_id,
                product=product,
            )
            return _view(portal, loan, uscc, _checked_benefit(session, query_id))
    raise refusal


def loan_status(portal: Portal, caller: BankCaller, loan_id: int) -> LoanView:
    """A loan of the calling bank; any other id, existing or not, is a logged 404."""
    with portal.transaction() as session:
        row = session.exec(
            select(Loan, Enterprise)
            .join(Enterprise, col(Enterprise.id) == Loan.enterprise_id)
            .where(col(Loan.id) == loan_id)
            .where(col(Loan.bank_id) == caller.bank_id)
        ).first()
        if row is not None:
            loan, enterprise = row
            log_access(
                session,
                portal,
                caller,
                call="loan_status",
                outcome="loan_status",
                http_status=200,
                uscc=enterprise.uscc,
                enterprise_id=enterprise.id,
                product=loan.product,
            )
            return _view(portal, loan, enterprise.uscc, _checked_benefit(session, loan.query_id))
        log_access(session, portal, caller, call="loan_status", outcome="not_found", http_status=404)
    raise BankRefusal(404, "not_found", "No loan of yours has this id.")
