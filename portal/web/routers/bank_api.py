"""The 一链一行 bank API under /api/v1/bank: eligibility checks, loan registration, loan status.

Banks authenticate with `Authorization: Bearer <key>`; there are no cookies, hence no CSRF.
Each request is checked in a fixed order (key → rate limit → scope → body → consent) and
every request from an identified bank leaves exactly one access-log row, refused ones
included, throttled ones too: the issue promises the enterprise every query, and a bank that
floods is accountable through its own key. The row names its call, from the route, so a request
refused before its body is read still counts as an eligibility check, a loan registration or a
status read. Keyless traffic is throttled per address before
anything is written, so it cannot grow the log without bound. The limiter counts in Redis when
one is configured, so several workers enforce one window (see `portal.web.ratelimit`). The
checks and the service run in one worker-thread call per request (see `_Arrival`).

Bodies are parsed by hand (`json.loads` with exact decimals) rather than by FastAPI so that
money is never a binary float and so that a bad body is logged like any other refusal; the
request schemas are still published in /openapi.json through `openapi_extra`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from portal.services.bank_access import BankRefusal, LoggedCall, log_refusal
from portal.services.banks import BankCaller, authenticate
from portal.services.context import Portal
from portal.services.loan_eligibility import EligibilityAnswer, check_eligibility
from portal.services.loans import LoanView, loan_status, register_loan
from portal.uscc import InvalidUSCCError, validate_uscc
from portal.web.bank_api_models import (
    EligibilityRequest,
    EligibilityResponse,
    FieldError,
    LoanRegistration,
    LoanStatus,
    ProblemBody,
    ProductRequest,
    errors_of,
    inline_schema,
)
from portal.web.errors import Problem
from portal.web.json_body import decode_json, read_limited, sends_json
from portal.web.ratelimit import SlidingWindowLimiter
from portal.web.session_auth import portal_of

router = APIRouter(prefix="/api/v1/bank", tags=["bank"])
bearer = HTTPBearer(auto_error=False, description="A partner bank's API key, issued by `portal banks key`.")
MAX_BODY_BYTES = 16 * 1024  # a request is a few hundred bytes
FEN = Decimal("0.01")
_EXPONENT = re.compile(r"[eE]")
Body = TypeVar("Body", bound=ProductRequest)

_DESCRIPTIONS = {
    400: "The body is not JSON",
    401: "Missing, unknown or revoked API key",
    403: "The key lacks the scope, or no current consent covers this enterprise and product "
    "(an unregistered USCC gives the same answer)",
    404: "No loan of this bank has this id",
    409: "A loan was already registered on this eligibility check",
    413: "The body is too large",
    415: "The body is not application/json",
    422: "A bad body (`errors` names the fields) or an unusable eligibility check (`code`)",
    429: "Rate limit exceeded; see Retry-After",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    schema = inline_schema(ProblemBody)
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {"schema": schema}},
            **({"headers": {"Retry-After": {"schema": {"type": "integer"}}}} if status == 429 else {}),
        }
        for status in statuses
    }


def _body_spec(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": inline_schema(model)}}}
    }


@dataclass(frozen=True)
class _Arrival:
    """A bank request as read on the event loop, before any database work.

    The body is read here, bounded, so that the key checks, the body checks and the service
    then run in one worker-thread call instead of two (eligibility over HTTP: +18 %).
    A 413 or 415 waits in `body_problem` for its turn, after the key checks.
    """

    key: str | None
    address: str
    body: bytes = b""
    body_problem: Problem | None = None


async def _arrival(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> _Arrival:
    """Dependency: the presented key, the client address and, for a POST, the bounded body."""
    key = credentials.credentials if credentials else None
    address = request.client.host if request.client else "-"
    if request.method != "POST":
        return _Arrival(key, address)
    if not sends_json(request):
        return _Arrival(key, address, body_problem=Problem(415, "Send the body as application/json."))
    try:
        return _Arrival(key, address, await read_limited(request, MAX_BODY_BYTES))
    except Problem as too_large:
        return _Arrival(key, address, body_problem=too_large)


def _admit(
    portal: Portal, limiter: SlidingWindowLimiter, came: _Arrival, call: LoggedCall, scope: str
) -> BankCaller:
    """The authenticated, rate-limited bank holding `scope`, else a refusal logged as `call` (the
    route's: the log then knows which call a request refused before its body was read was)."""
    caller = authenticate(portal, came.key)
    # Keyless traffic shares one bucket per address, so it cannot grow the log without bound either.
    bucket = f"key:{caller.api_key_id}" if caller else f"ip:{came.address}"
    retry_after = limiter.hit(bucket)
    if retry_after is not None:
        if caller is not None:
            log_refusal(portal, caller, call=call, outcome="rate_limited", http_status=429)
        raise Problem(
            429,
            "Too many requests; wait and retry.",
            headers={"Retry-After": str(retry_after)},
            code="rate_limited",
        )
    if caller is None:
        log_refusal(portal, None, call=call, outcome="unauthorized", http_status=401)
        raise Problem(
            401,
            "A valid API key is required: Authorization: Bearer <key>.",
            headers={"WWW-Authenticate": "Bearer"},
            code="unauthorized",
        )
    if scope not in caller.scopes:
        log_refusal(portal, caller, call=call, outcome="insufficient_scope", http_status=403)
        raise Problem(403, f"This API key lacks the scope {scope}.", code="insufficient_scope")
    return caller


def _exact_number(literal: str) -> Decimal:
    if _EXPONENT.search(literal):
        raise ValueError(f"the number {literal} is in exponent notation; write money as a plain decimal")
    return Decimal(literal)


def _named_in(doc: object, products: Collection[str]) -> tuple[str | None, str | None]:
    """The USCC and product of a refused body, when readable, so the enterprise sees the attempt."""
    if not isinstance(doc, dict):
        return None, None
    uscc, product = doc.get("uscc"), doc.get("product")
    try:
        valid_uscc = validate_uscc(uscc) if isinstance(uscc, str) and len(uscc) == 18 else None
    except InvalidUSCCError:
        valid_uscc = None
    return valid_uscc, product if isinstance(product, str) and product in products else None


def _valid_body(
    portal: Portal, caller: BankCaller, came: _Arrival, call: LoggedCall, model: type[Body]
) -> Body:
    """The validated body, or a logged 400/413/415/422 problem naming what is wrong (worker thread)."""
    doc: object = None
    status, detail = 422, ""
    offered = portal.city.banking.products
    codes = f"one of: {', '.join(sorted(offered))}"
    one_of = f"must be {codes}"
    errors: list[FieldError] = []
    try:
        if came.body_problem is not None:
            raise came.body_problem
        doc = decode_json(came.body, parse_float=_exact_number)
        body = model.model_validate(doc)
        if body.product in offered:
            return body
        errors = [FieldError(field="product", message=one_of)]
        detail = f"product: {one_of}"
    except Problem as problem:  # 400, 413, 415
        status, detail = problem.status, problem.detail
    except ValidationError as exc:
        # A product code of the wrong form is told the codes on offer, as an unknown one is; so is
        # a well-formed one the pack does not offer, beside the other fields' errors.
        errors = errors_of(exc, {"product": codes})
        product = doc.get("product") if isinstance(doc, dict) else None
        if isinstance(product, str) and product not in offered and "product" not in {e.field for e in errors}:
            errors.append(FieldError(field="product", message=one_of))
            place = {name: i for i, name in enumerate(model.model_fields)}  # in the body's order
            errors.sort(key=lambda e: place.get(e.field.split(".", 1)[0], len(place)))
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    except ValueError as exc:  # valid JSON, but a number we refuse to guess at (1e9, NaN)
        detail = str(exc)
    uscc, product = _named_in(doc, offered)
    log_refusal(
        portal, caller, call=call, outcome="bad_request", http_status=status, uscc=uscc, product=product
    )
    extra: dict[str, Any] = {"errors": [e.model_dump() for e in errors]} if errors else {}
    raise Problem(status, detail, code="bad_request", **extra)


def _refused(refusal: BankRefusal) -> Problem:
    errors = [FieldError(field=field, message=message).model_dump() for field, message in refusal.errors]
    extra: dict[str, Any] = {"errors": errors} if errors else {}
    return Problem(refusal.status, refusal.message, code=refusal.code, **extra)


def _checked(portal: Portal, limiter: SlidingWindowLimiter, came: _Arrival) -> EligibilityAnswer:
    """Key, limit, scope, body, then the check: one worker-thread call for the whole request."""
    caller = _admit(portal, limiter, came, "eligibility", "eligibility:read")
    body = _valid_body(portal, caller, came, "eligibility", EligibilityRequest)
    return check_eligibility(portal, caller, uscc=body.uscc, product=body.product, loan=body.loan.facts())


def _registered(portal: Portal, limiter: SlidingWindowLimiter, came: _Arrival) -> LoanView:
    """Key, limit, scope, body, then the registration: one worker-thread call."""
    caller = _admit(portal, limiter, came, "loan_registration", "loans:write")
    body = _valid_body(portal, caller, came, "loan_registration", LoanRegistration)
    return register_loan(
        portal,
        caller,
        uscc=body.uscc,
        product=body.product,
        amount=body.amount,
        granted_on=body.granted_on,
        term_months=body.term_months,
        query_id=body.query_id,
    )


@router.post(
    "/eligibility",
    summary="Check an enterprise's eligibility for a credit product (needs its consent)",
    response_model=EligibilityResponse,
    openapi_extra=_body_spec(EligibilityRequest),
    responses=_problems(400, 401, 403, 413, 415, 422, 429),
)
async def eligibility(request: Request, came: Annotated[_Arrival, Depends(_arrival)]) -> Response:
    portal, limiter = portal_of(request), request.app.state.bank_limiter
    try:
        answer = await run_in_threadpool(_checked, portal, limiter, came)
    except BankRefusal as refusal:
        raise _refused(refusal) from None
    # Validated once here and written by pydantic-core; `response_model` stays for the OpenAPI
    # contract (a returned Response is not validated and encoded a second time).
    # Read from the dataclass's attributes: `asdict` deep-copied every criterion first.
    answered = EligibilityResponse.model_validate(answer, from_attributes=True)
    return Response(answered.model_dump_json(), media_type="application/json")


def _loan_body(view: LoanView) -> LoanStatus:
    # Fen precision always, so the POST answer and later GETs print the amount alike.
    return LoanStatus.model_validate({**view.model_dump(), "amount": str(view.amount.quantize(FEN))})


@router.post(
    "/loans",
    summary="Register a granted loan under the compensation pool (放款备案)",
    status_code=201,
    response_model=LoanStatus,
    openapi_extra=_body_spec(LoanRegistration),
    responses=_problems(400, 401, 403, 409, 413, 415, 422, 429),
)
async def register(
    request: Request, response: Response, came: Annotated[_Arrival, Depends(_arrival)]
) -> LoanStatus:
    portal, limiter = portal_of(request), request.app.state.bank_limiter
    try:
        view = await run_in_threadpool(_registered, portal, limiter, came)
    except BankRefusal as refusal:
        raise _refused(refusal) from None
    response.headers["Location"] = f"{router.prefix}/loans/{view.id}"
    return _loan_body(view)


@router.get(
    "/loans/{loan_id}",
    summary="A registered loan's workflow state (only the bank that registered it)",
    response_model=LoanStatus,
    responses=_problems(401, 403, 404, 429),
)
def get_loan(
    request: Request,
    loan_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    came: Annotated[_Arrival, Depends(_arrival)],
) -> LoanStatus:
    portal = portal_of(request)
    caller = _admit(portal, request.app.state.bank_limiter, came, "loan_status", "loans:write")
    try:
        return _loan_body(loan_status(portal, caller, loan_id))
    except BankRefusal as refusal:
        raise _refused(refusal) from None
