"""The bank access log from both sides: banks' requests are written, enterprises read them.

Every request that reaches the bank API leaves one row, refused ones too, and a refused
request leaves nothing else. The row names the enterprise whenever the USCC matches one,
even when the bank had no consent: the enterprise should see who tried, although the bank
is told nothing.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from portal.db.access_log import append_access
from portal.db.tables import Bank, BankAccessLog, Enterprise
from portal.rules import Outcome
from portal.services.banks import BankCaller
from portal.services.context import Portal
from portal.services.errors import Forbidden, ServiceError
from portal.workflows import Actor

ACCESS_LOG_PAGE = 500

# Every outcome a row of the log can record: the one list the writers are typed against (mypy
# refuses any other), that the pages label (access_log.outcome.<code>, a test holds every one
# to a zh and an en label) and that the supervision figures sort into kinds of call.
AccessOutcome = Literal[
    # an eligibility check answered: the rules' outcomes (`answered`)
    "eligible",
    "ineligible",
    "undetermined",
    "not_in_force",
    # a loan registered; a loan's status read
    "loan_registered",
    "loan_status",
    # refused before the request was read: no valid key, too many requests, a key without the scope
    "unauthorized",
    "rate_limited",
    "insufficient_scope",
    # refused, whichever call it was: an unreadable request, no consent
    "bad_request",
    "no_consent",
    # a loan registration refused
    "unknown_query",
    "query_mismatch",
    "amount_mismatch",
    "term_mismatch",
    "query_not_eligible",
    "benefit_undetermined",
    "query_expired",
    "query_used",
    # a loan status refused: no loan of the bank's has that id
    "not_found",
]
ACCESS_OUTCOMES: tuple[AccessOutcome, ...] = get_args(AccessOutcome)

# The calls of the bank API: every row written names its call (`call_kind`), from the route.
LoggedCall = Literal["eligibility", "loan_registration", "loan_status"]
LOGGED_CALLS: tuple[LoggedCall, ...] = get_args(LoggedCall)
# The kind of call a row records: its `call_kind`, else (a row written before the column existed)
# as far as its outcome tells; such a row refused before it was read, for want of consent or as
# malformed says nothing of which call it was (`unattributed`).
CallKind = Literal[LoggedCall, "unattributed"]
CALL_KINDS: tuple[CallKind, ...] = get_args(CallKind)
_ANSWERS: dict[Outcome, AccessOutcome] = {
    Outcome.ELIGIBLE: "eligible",
    Outcome.INELIGIBLE: "ineligible",
    Outcome.UNDETERMINED: "undetermined",
    Outcome.NOT_IN_FORCE: "not_in_force",
}
CALL_OF_OUTCOME: dict[AccessOutcome, CallKind] = {
    **{code: "eligibility" for code in _ANSWERS.values()},
    "loan_registered": "loan_registration",
    "unknown_query": "loan_registration",
    "query_mismatch": "loan_registration",
    "amount_mismatch": "loan_registration",
    "term_mismatch": "loan_registration",
    "query_not_eligible": "loan_registration",
    "benefit_undetermined": "loan_registration",
    "query_expired": "loan_registration",
    "query_used": "loan_registration",
    "loan_status": "loan_status",
    "not_found": "loan_status",
    "unauthorized": "unattributed",
    "rate_limited": "unattributed",
    "insufficient_scope": "unattributed",
    "bad_request": "unattributed",
    "no_consent": "unattributed",
}
# The outcomes that answered the call; every other one refused it.
SERVED: frozenset[AccessOutcome] = frozenset({*_ANSWERS.values(), "loan_registered", "loan_status"})


def answered(outcome: Outcome) -> AccessOutcome:
    """The row's outcome for an eligibility check the rules answered."""
    return _ANSWERS[outcome]


NO_CONSENT_MESSAGE = "No current consent of this enterprise covers this bank and product."


class BankRefusal(ServiceError):
    """A bank request refused after its access-log row was written: the HTTP status and a stable code.

    An unknown USCC and a missing consent raise the very same refusal (`no_consent`), so a
    bank cannot use the API to learn which enterprises are registered. `errors` names the
    request fields at fault, as (field, message) pairs, when the refusal is about fields.
    """

    def __init__(
        self, status: int, code: AccessOutcome, message: str, errors: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = tuple(errors)


def no_consent() -> BankRefusal:
    return BankRefusal(403, "no_consent", NO_CONSENT_MESSAGE)


@dataclass(frozen=True)
class AccessEntry:
    """One row of "谁查询了我的信息"."""

    at: datetime
    bank_name: str | None
    bank_name_en: str | None
    bank_code: str | None
    product: str | None
    outcome: str
    http_status: int
    facts_read: list[str]
    query_id: str


# Built once: every bank request looks the enterprise up (see banks._KEY_BY_PREFIX).
_ENTERPRISE_BY_USCC = select(Enterprise.id).where(col(Enterprise.uscc) == bindparam("uscc"))


def enterprise_id_for(session: Session, uscc: str | None) -> int | None:
    if uscc is None:
        return None
    enterprise_id: int | None = session.connection().execute(_ENTERPRISE_BY_USCC, {"uscc": uscc}).scalar()
    return enterprise_id


def log_access(
    session: Session,
    portal: Portal,
    caller: BankCaller | None,
    *,
    call: LoggedCall,
    outcome: AccessOutcome,
    http_status: int,
    uscc: str | None = None,
    enterprise_id: int | None = None,
    product: str | None = None,
    facts_read: Iterable[str] = (),
    loan_facts: Mapping[str, object] | None = None,
    benefit_undetermined: Iterable[str] | None = None,
    benefit: Mapping[str, object] | None = None,
) -> str:
    """Append one row inside the caller's transaction and return its query id; the enterprise is
    found by USCC if not given."""
    return append_access(
        session,
        outcome=outcome,
        http_status=http_status,
        bank_id=caller.bank_id if caller else None,
        api_key_id=caller.api_key_id if caller else None,
        uscc_queried=uscc,
        enterprise_id=enterprise_id if enterprise_id is not None else enterprise_id_for(session, uscc),
        product=product,
        facts_read=facts_read,
        loan_facts=loan_facts,
        benefit_undetermined=benefit_undetermined,
        benefit=benefit,
        call_kind=call,
        at=portal.now(),
    )


def log_refusal(
    portal: Portal,
    caller: BankCaller | None,
    *,
    call: LoggedCall,
    outcome: AccessOutcome,
    http_status: int,
    uscc: str | None = None,
    product: str | None = None,
) -> str:
    """Record a refused request in its own transaction; returns the row's query id."""
    with portal.transaction() as session:
        return log_access(
            session,
            portal,
            caller,
            call=call,
            outcome=outcome,
            http_status=http_status,
            uscc=uscc,
            product=product,
        )


def access_log_for(portal: Portal, actor: Actor, limit: int = ACCESS_LOG_PAGE) -> list[AccessEntry]:
    """The enterprise's own access-log rows, newest first."""
    if actor.role != "enterprise" or actor.enterprise_id is None:
        raise Forbidden("仅企业用户可以查看查询记录", "only the enterprise's users may see who queried it")
    with portal.reading() as session:
        return access_entries(session, actor.enterprise_id, limit)


def access_entries(session: Session, enterprise_id: int, limit: int = ACCESS_LOG_PAGE) -> list[AccessEntry]:
    """An enterprise's access-log rows, newest first: for its own page and for its staff file."""
    query = (
        select(BankAccessLog, Bank)
        .join(Bank, col(Bank.id) == BankAccessLog.bank_id, isouter=True)
        .where(col(BankAccessLog.enterprise_id) == enterprise_id)
        .order_by(col(BankAccessLog.seq).desc())
        .limit(limit)
    )
    return [
        AccessEntry(
            at=row.at,
            bank_name=bank.name if bank else None,
            bank_name_en=bank.name_en if bank else None,
            bank_code=bank.code if bank else None,
            product=row.product,
            outcome=row.outcome,
            http_status=row.http_status,
            facts_read=list(row.facts_read),
            query_id=row.query_id,
        )
        for row, bank in session.exec(query).all()
    ]
