"""A bank's eligibility check: one consented rule evaluation, logged for the enterprise to see.

The rule sees only the profile facts it reads (its criteria and benefit formulas, through
derived facts to the supplied ones) and the loan facts of the request. The answer carries
the criteria trace, which shows a profile value only where a criterion used it.

An `eligible` answer may still leave a benefit open: its formula reads a fact that neither
the request nor the profile supplied. The answer names such benefits, and the access-log row
keeps them, so that no loan is registered on the check (see `portal.services.loans`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from portal.city import City, split_fact
from portal.db.tables import Enterprise
from portal.rules import FactError, Outcome, Result, Rule
from portal.rules.explain import outcome_tree
from portal.services.bank_access import BankRefusal, answered, log_access, no_consent
from portal.services.banks import BankCaller
from portal.services.consents import has_live_consent
from portal.services.context import Portal
from portal.services.enterprises import confirmed_facts
from portal.services.errors import BadStoredState

PROFILE_ENTITY = "enterprise"
REQUEST_LOAN_FIELD = "loan"  # the request's object of loan facts: `loan.amount` names fact and field


@dataclass(frozen=True)
class EligibilityAnswer:
    """The published response body of `POST /api/v1/bank/eligibility`."""

    outcome: str
    benefit: dict[str, str]
    criteria: list[dict[str, object]]
    criteria_tree: dict[str, object] | None
    """How the criteria combine, each group with its outcome (None when no rule is in force)."""
    missing_facts: list[str]
    benefit_undetermined: list[str]
    rule_hash: str | None
    evaluated_on: date
    query_id: str


def profile_inputs(rule: Rule) -> tuple[str, ...]:
    """The supplied enterprise facts a rule version reads, e.g. ("enterprise.is_sme", ...)."""
    compiled = rule.compiled
    if compiled is None:
        raise RuntimeError(f"rule {rule.id} {rule.version} is not bound to a fact dictionary")
    return tuple(fact for fact in compiled.inputs() if fact.startswith(f"{PROFILE_ENTITY}."))


def undetermined_benefits(rule: Rule | None, result: Result) -> list[str]:
    """The benefits an eligible result names in its rule but could not compute; [] otherwise."""
    if rule is None or result.outcome is not Outcome.ELIGIBLE or len(result.benefit) == len(rule.benefit):
        return []
    return [name for name in rule.benefit if name not in result.benefit]


# Built once, as `bank_access._ENTERPRISE_BY_USCC` is: the enterprise and its registered identity.
_REGISTERED = select(Enterprise.id, Enterprise.name, Enterprise.district).where(
    col(Enterprise.uscc) == bindparam("uscc")
)


def confirmed_profile_facts(
    session: Session, city: City, enterprise_id: int, *, name: str, code: str, district: str
) -> dict[str, object]:
    """The enterprise entity's facts of the latest confirmed profile version (empty if none), under
    the register's identity, as every reading of a profile is (`enterprises.profile_facts`): a
    change of registration recorded since the clerk confirmed is what the rule reads."""
    facts = confirmed_facts(session, enterprise_id) or {}
    stored = dict(facts.get(PROFILE_ENTITY) or {})
    stored.update(city.registered_facts(name=name, code=code, district=district).get(PROFILE_ENTITY, {}))
    return stored


def check_eligibility(
    portal: Portal, caller: BankCaller, *, uscc: str, product: str, loan: Mapping[str, object]
) -> EligibilityAnswer:
    """Evaluate `product` for the enterprise as of today; BankRefusal (logged) without a live consent.

    `loan` holds the request's loan facts (already shape-checked by the caller); the bank is
    a partner by virtue of holding a key, so the pack's partner fact (pack.yaml
    `banking.partner_fact`) is supplied here.
    """
    measure_id = portal.city.banking.products[product]
    today = portal.today()
    try:
        entity, partner = split_fact(portal.city.banking.partner_fact)
        loan_facts = portal.pack.facts.parse({entity: {**loan, partner: True}})[entity]
    except FactError as exc:
        with portal.transaction() as session:
            log_access(
                session,
                portal,
                caller,
                call="eligibility",
                outcome="bad_request",
                http_status=422,
                uscc=uscc,
                product=product,
            )
        field = f"{REQUEST_LOAN_FIELD}.{exc.fact.split('.', 1)[-1]}"
        raise BankRefusal(422, "bad_request", f"{field}: {exc.message}", [(field, exc.message)]) from None
    with portal.transaction() as session:
        registered = session.connection().execute(_REGISTERED, {"uscc": uscc}).first()
        enterprise_id = registered.id if registered is not None else None
        if registered is None or not has_live_consent(
            session, enterprise_id=registered.id, bank_id=caller.bank_id, product=product, today=today
        ):
            log_access(
                session,
                portal,
                caller,
                call="eligibility",
                outcome="no_consent",
                http_status=403,
                uscc=uscc,
                enterprise_id=enterprise_id,
                product=product,
            )
            refusal = no_consent()
        else:
            rule = portal.pack.select(measure_id, today)
            inputs = profile_inputs(rule) if rule is not None else ()
            wanted = {fact.split(".", 1)[1] for fact in inputs}
            stored = confirmed_profile_facts(
                session,
                portal.city,
                registered.id,
                name=registered.name,
                code=uscc,
                district=registered.district,
            )
            try:
                facts = portal.pack.facts.parse(
                    {PROFILE_ENTITY: {k: v for k, v in stored.items() if k in wanted}, "loan": loan_facts}
                )
            except FactError as exc:
                raise BadStoredState(
                    "enterprise profile", enterprise_id, f"{exc.fact}: {exc.message}"
                ) from None
            result = portal.pack.evaluate(measure_id, facts, today)
            undetermined = undetermined_benefits(rule, result)
            query_id = log_access(
                session,
                portal,
                caller,
                call="eligibility",
                outcome=answered(result.outcome),
                http_status=200,
                uscc=uscc,
                enterprise_id=enterprise_id,
                product=product,
                facts_read=inputs,
                loan_facts=loan_facts,
                benefit_undetermined=undetermined,
                benefit=result.benefit,
            )
            return EligibilityAnswer(
                outcome=result.outcome.value,
                benefit={name: str(value) for name, value in result.benefit.items()},
                criteria=[criterion.to_json() for criterion in result.criteria],
                criteria_tree=(
                    outcome_tree(rule.criteria, {c.id: c for c in result.criteria})
                    if rule is not None and result.criteria
                    else None
                ),
                missing_facts=list(result.missing_facts),
                benefit_undetermined=undetermined,
                rule_hash=result.rule_hash,
                evaluated_on=today,
                query_id=query_id,
            )
    raise refusal
