"""Request and response bodies of the bank API (a published contract), as pydantic models.

Bodies are parsed with `json.loads(parse_float=...)` before these models see them, so money
reaches `Money` as an exact Decimal (or text) and never as a binary float. Every field
error says which field and why; `errors_of` turns pydantic's report into that list.
"""

import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from portal.db.tables.banks import LoanTerms
from portal.uscc import InvalidUSCCError, validate_uscc
from portal.web.plain_errors import plain_message

# A credit product of the pack (`pack.yaml` banking.products). The codes are the pack's, so the
# model checks only their shape; the route refuses a code the pack does not offer, and the app
# writes the pack's codes into /openapi.json as this field's enum (`publish_pack_enums`).
PACK_PRODUCTS = "banking.products"
Product = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", json_schema_extra={"x-pack-enum": PACK_PRODUCTS}),
]
PledgeKind = Literal["none", "patent", "trademark", "copyright"]
# An object whose fields are the pack's facts of one entity (the loan): /openapi.json describes
# each field by the fact's label in facts.yaml (`publish_pack_enums`), as the rule calls it.
PACK_ENTITY = "x-pack-entity"
MAX_MONEY = Decimal("9999999999999999.99")  # what Loan.amount (18 digits, 2 decimals) can hold
_PLAIN_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
# Positive, at most 16 integer digits and 2 decimals: what `_money` accepts, for generators and readers.
MONEY_PATTERN = r"^([1-9][0-9]{0,15}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
# JSON numbers above 1e15 or below 0.01 are printed in exponent form by most encoders; keep the
# documented range where a number can be written plainly.
MAX_JSON_NUMBER = 10**15


def _money(value: object) -> Decimal:
    """Yuan, positive, at most 2 decimals; text must be a plain decimal ("1e9" is refused)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PydanticCustomError("money", 'must be a decimal string such as "8000000" or a JSON number')
    if isinstance(value, str) and not _PLAIN_DECIMAL.match(value):
        raise PydanticCustomError(
            "money",
            "'{value}' is not a plain decimal number of yuan (no exponent, no sign)",
            {"value": value},
        )
    amount = Decimal(value)
    if not amount.is_finite():
        raise PydanticCustomError("money", "must be a finite number")
    if amount < 0:
        raise PydanticCustomError("money", "must not be negative")
    if amount == 0:
        raise PydanticCustomError("money", "must be more than zero")
    if amount != amount.quantize(Decimal("0.01")):
        raise PydanticCustomError("money", "at most 2 decimal places (fen)")
    if amount > MAX_MONEY:
        raise PydanticCustomError("money", "is too large")
    return amount


def _uscc(value: object) -> str:
    if not isinstance(value, str) or not _USCC_SHAPE.match(value):
        raise PydanticCustomError("uscc", "must be an 18-character 统一社会信用代码 in upper case")
    try:
        return validate_uscc(value)
    except InvalidUSCCError:
        raise PydanticCustomError("uscc", "the check character does not match (GB 32100-2015)") from None


def _iso_date(value: object) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else _bad_date()
        except ValueError:
            pass
    return _bad_date()


def _bad_date() -> date:
    raise PydanticCustomError("date", "must be a date as YYYY-MM-DD")


Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": MONEY_PATTERN},
                {"type": "number", "minimum": 0.01, "maximum": MAX_JSON_NUMBER, "multipleOf": 0.01},
            ],
            "description": "Yuan: a plain decimal string (preferred, exact) or a JSON number; no exponent.",
            "examples": ["8000000"],
        }
    ),
]
Uscc = Annotated[
    str,
    BeforeValidator(_uscc),
    WithJsonSchema({"type": "string", "pattern": _USCC_SHAPE.pattern, "examples": ["91350100M000100Y43"]}),
]
IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]
Months = Annotated[StrictInt, Field(ge=1, le=600)]
_QUERY_ID = re.compile(r"^[0-9a-f]{32}$")


def _query_id(value: object) -> str:
    if not isinstance(value, str) or not _QUERY_ID.match(value):
        raise PydanticCustomError(
            "query_id", "must be the query_id of an eligibility check: 32 lowercase hexadecimal characters"
        )
    return value


QueryId = Annotated[
    str, BeforeValidator(_query_id), WithJsonSchema({"type": "string", "pattern": _QUERY_ID.pattern})
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoanFacts(_Body):
    """The loan as the bank would grant it; a fact left out is unknown to the rule."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={PACK_ENTITY: "loan"})

    amount: Money
    term_months: Months | None = None
    pledge_kind: PledgeKind | None = None
    uses_policy_tool: StrictBool | None = None
    government_guarantee: StrictBool | None = None
    borrower_total_this_year: Money | None = None

    def facts(self) -> dict[str, object]:
        return {name: value for name, value in self.model_dump().items() if value is not None}


class ProductRequest(_Body):
    """What every bank request names: the enterprise and the credit product."""

    uscc: Uscc
    product: Product


class EligibilityRequest(ProductRequest):
    loan: LoanFacts


class LoanRegistration(ProductRequest):
    amount: Money
    granted_on: IsoDate
    term_months: Months
    query_id: QueryId


class LocalText(BaseModel):
    zh: str
    en: str


class Expected(BaseModel):
    op: str
    value: Any


class Criterion(BaseModel):
    """One criterion of the trace, as in `portal check --json`."""

    id: str
    fact: str | None
    value: Any
    expected: Expected
    outcome: Literal["pass", "fail", "unknown"]
    message: LocalText
    source: str


class CriteriaNode(BaseModel):
    """A node of `criteria_tree`: a criterion (its `id` is one of `criteria`) or a group."""

    kind: Literal["all", "any", "not", "criterion"]
    id: str | None = Field(description="The criterion's id; null for a group")
    outcome: Literal["pass", "fail", "unknown"] = Field(
        description="The node's own outcome: an `any` passes when one child passes, "
        "an `all` when every one does"
    )
    children: list["CriteriaNode"]


class EligibilityResponse(BaseModel):
    outcome: Literal["eligible", "ineligible", "undetermined", "not_in_force"]
    benefit: dict[str, str] = Field(
        description="Named amounts as exact decimal strings, e.g. compensation_ratio"
    )
    criteria: list[Criterion]
    criteria_tree: CriteriaNode | None = Field(
        description="How the criteria combine (all / any / not), each group with its outcome: a criterion "
        "that failed inside an `any` that passed did not keep the enterprise out. Null when no rule "
        "version is in force."
    )
    missing_facts: list[str] = Field(
        description="The facts the rule needed and did not get. A `loan.<field>` one is a field of the "
        "request's `loan` to send; an `enterprise.<fact>` one is the enterprise's to state in its "
        "profile on the portal. Empty when nothing was missing."
    )
    benefit_undetermined: list[str] = Field(
        description="For an eligible outcome: the benefits the check could not determine (a fact their "
        "formula reads is missing, listed in missing_facts); no loan can be registered on such a check. "
        "Empty otherwise."
    )
    rule_hash: str | None
    evaluated_on: date
    query_id: str = Field(description="Quote it when registering the loan (valid 30 days)")


class LoanStatus(LoanTerms):
    """The answer about a registered loan: its terms (`LoanTerms`), whose it is, where it stands."""

    id: int
    uscc: str
    product: Product
    amount: str = Field(description="Yuan, exact decimal string")  # type: ignore[assignment]
    state: str = Field(
        description="The loan's stage in the portal's loan workflow, as a stable code; `state_label` "
        "names it in Chinese and English"
    )
    state_label: LocalText
    registered_at: datetime
    updated_at: datetime
    benefit: dict[str, str] | None = Field(
        default=None,
        description="The benefits the quoted eligibility check answered, as in its `benefit` (named "
        "amounts as exact decimal strings, e.g. compensation_ratio), for the loan it was made for. "
        "Null for a loan on a check made before the portal kept them.",
    )


class FieldError(BaseModel):
    field: str
    message: str


class ProblemBody(BaseModel):
    """RFC 9457 problem details; `code` is stable for refusals, `errors` lists bad fields."""

    type: str
    title: str
    status: int
    detail: str
    code: str | None = None
    errors: list[FieldError] | None = None


# What a request field should be, by its type: the second half of its field errors.
_TYPE_WORDS: dict[object, str] = {
    Money: 'yuan, a plain decimal string such as "8000000" or a JSON number, more than zero',
    Months: "a whole number of months from 1 to 600",
    PledgeKind: f"one of: {', '.join(get_args(PledgeKind))}",
    StrictBool: "true or false",
    IsoDate: "a date as YYYY-MM-DD",
    Uscc: "the enterprise's 18-character 统一社会信用代码",
    Product: "a credit product code of the pack",
    QueryId: "the query_id of the eligibility check the loan relies on",
}


def _expected_words() -> dict[str, str]:
    """Each request field's words, by its last name, read off the models' field types."""
    words = {
        "body": "a JSON object",
        "loan": "a JSON object of the loan's facts: amount, and as known "
        + ", ".join(name for name in LoanFacts.model_fields if name != "amount"),
    }
    for model in (LoanFacts, EligibilityRequest, LoanRegistration):
        for name, hint in get_type_hints(model, include_extras=True).items():
            optional = [arg for arg in get_args(hint) if arg is not type(None)]
            kind = optional[0] if get_origin(hint) in (Union, UnionType) and len(optional) == 1 else hint
            if kind in _TYPE_WORDS and name not in words:
                words[name] = _TYPE_WORDS[kind]
    return words


EXPECTED: Mapping[str, str] = _expected_words()
"""What each request field should be, by its last name (`loan`, `amount`, `term_months`, ...)."""


def errors_of(exc: ValidationError, expected: Mapping[str, str] | None = None) -> list[FieldError]:
    """Each bad field by dotted path (`loan.amount`), in the API's own words: what is wrong and
    what the field should be (`EXPECTED`, or `expected` by dotted path, e.g. the product codes
    the pack offers). A message neither echoes the input nor names a class.
    """
    found = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = [str(p) for p in error["loc"]]
        field = ".".join(loc) or "body"
        wanted = (expected or {}).get(field) or EXPECTED.get(loc[-1] if loc else "body")
        if error["type"] == "extra_forbidden":
            wanted = None
        found.append(FieldError(field=field, message=plain_message(error, wanted)))
    return found


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its $defs inlined, to embed in an operation's requestBody."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def publish_pack_enums(schema: object, products: Collection[str], labels: Mapping[str, LocalText]) -> None:
    """Write the pack's product codes as the enum of every product field of an OpenAPI document,
    and describe each field that carries a pack fact by the fact's label (`labels`, by fact)."""
    if isinstance(schema, dict):
        if schema.pop("x-pack-enum", None) == PACK_PRODUCTS:
            schema["enum"] = sorted(products)
        entity = schema.pop(PACK_ENTITY, None)
        for name, field in schema.get("properties", {}).items() if entity else ():
            label = labels.get(f"{entity}.{name}")
            if label is not None:
                said = f"{label.en} ({label.zh})"
                field["description"] = f"{said}. {field['description']}" if "description" in field else said
        for value in schema.values():
            publish_pack_enums(value, products, labels)
    elif isinstance(schema, list):
        for value in schema:
            publish_pack_enums(value, products, labels)
