"""Coerce posted answers to typed values and validate them with JSON Schema 2020-12.

Browsers post strings; the database stores Decimals as strings. Coercion turns both into the
JSON-Schema types the form declares (Decimal for `number`, int for `integer`), so the schema
checks real values and money never passes through float.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from portal.forms.errors import FieldError
from portal.forms.messages import message
from portal.locales import long_date
from portal.numerals import plain_number, read_decimal
from portal.uscc import is_valid_uscc

if TYPE_CHECKING:
    from portal.forms.model import FieldSpec, FormSpec

# Beyond 10^18 no amount or count in this policy is real, and jsonschema's `multipleOf` on a
# larger Decimal exceeds the default 28-digit precision and raises instead of answering.
_MAX_ADJUSTED_EXPONENT = 17
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_LENGTHS = frozenset({"minLength", "maxLength"})
_TRUE = frozenset({"true", "on", "1", "yes"})
_FALSE = frozenset({"false", "off", "0", "no"})

# A private copy: registering `cn-uscc` must not change jsonschema's process-wide checker.
FORMAT_CHECKER = FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers)


@FORMAT_CHECKER.checks("cn-uscc")
def _is_uscc(instance: object) -> bool:
    return not isinstance(instance, str) or is_valid_uscc(instance)


def make_validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    """A validator that also checks `format` (2020-12 treats it as an annotation by default)."""
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


class _Rejected(Exception):
    """A posted value that cannot be the declared type; carries the message key."""

    def __init__(self, key: str) -> None:
        self.key = key


def _bounded(number: Decimal) -> Decimal:
    """`number` if it is finite and below 10^18 in magnitude; else the applicant must retype it."""
    if not number.is_finite():
        raise _Rejected("type.number")
    if number and number.adjusted() > _MAX_ADJUSTED_EXPONENT:
        raise _Rejected("number.too_large")
    return number


def _coerce_number(value: object) -> Decimal:
    if isinstance(value, bool | float):
        # A float has already lost the exact decimal the applicant typed.
        raise _Rejected("type.number")
    if isinstance(value, int | Decimal):
        return _bounded(Decimal(value))
    if isinstance(value, str) and (number := read_decimal(value)) is not None:
        return _bounded(number)
    raise _Rejected("type.number")


def as_number(value: object) -> Decimal | None:
    """A stored or posted answer as the exact Decimal it stands for; None if it is not a number."""
    try:
        return _coerce_number(value)
    except _Rejected:
        return None


def _coerce_integer(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return int(_bounded(Decimal(value)))
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(_bounded(value))
    if isinstance(value, str) and (plain := plain_number(value)) is not None and "." not in plain:
        # Bounded as a Decimal first: int() of a 5000-digit string raises ValueError.
        return int(_bounded(Decimal(plain)))
    raise _Rejected("type.integer")


def _coerce_boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Rejected("type.boolean")


def _coerce_value(f: FieldSpec, value: object) -> object:
    kind = f.json_type
    if kind == "number":
        return _coerce_number(value)
    if kind == "integer":
        return _coerce_integer(value)
    if kind == "boolean":
        return _coerce_boolean(value)
    if kind == "array":
        return list(value) if isinstance(value, list | tuple) else [value]
    if kind == "string" and isinstance(value, str):
        return value.strip()
    return value


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _field_message(
    f: FieldSpec | None, keyword: str, key: str, lang: str, limit: object = None, label: str | None = None
) -> str:
    if f is not None and keyword in f.messages:
        return f.messages[keyword].get(lang)
    return message(key, lang, limit, label)


def coerce_answers(
    spec: FormSpec, raw: Mapping[str, Any], lang: str = "zh"
) -> tuple[dict[str, Any], list[FieldError]]:
    """Typed answers for the form's fields plus the values that could not be typed.

    Keys that are not fields (a CSRF token, a submit button) are dropped; blank values are left
    out so that `required` reports them.
    """
    fields = spec.fields
    answers: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in raw.items():
        f = fields.get(name)
        if f is None or _is_blank(value):
            continue
        try:
            answers[name] = _coerce_value(f, value)
        except _Rejected as rejected:
            # A share typed as "75%" or "七成" is told the shape a ratio takes, not "e.g. 1234.56".
            key = "type.ratio" if rejected.key == "type.number" and f.widget == "ratio" else rejected.key
            errors.append(FieldError(name, _field_message(f, "type", key, lang)))
    return answers, errors


def _translate(spec: FormSpec, error: ValidationError, lang: str) -> list[FieldError]:
    path = [str(p) for p in error.absolute_path]
    keyword = str(error.validator)
    limit: Any = error.validator_value
    if keyword == "required" and isinstance(error.instance, Mapping) and isinstance(limit, list):
        missing = [str(p) for p in limit if p not in error.instance]
        return [
            FieldError(
                ".".join([*path, m]),
                _field_message(spec.fields.get(m) if not path else None, "required", "required", lang),
            )
            for m in missing
        ]
    f = spec.fields.get(path[0]) if path else None
    if keyword == "type":
        key = f"type.{limit if isinstance(limit, str) else limit[0]}"
    elif keyword == "format":
        key = f"format.{limit}"
    elif keyword in _LENGTHS and isinstance(error.schema, Mapping) and error.schema.keys() >= _LENGTHS:
        # Said as the field's help says it (50 至 2000 字), whichever end was missed.
        key, limit = "length", (error.schema["minLength"], error.schema["maxLength"])
    elif keyword == "multipleOf" and (places := _decimal_places(limit)) is not None:
        key, limit = "multipleOf.places", places
    else:
        key = keyword
    return [FieldError(".".join(path), _field_message(f, keyword, key, lang, limit))]


def _decimal_places(step: object) -> int | None:
    """n when `step` is 10⁻ⁿ (0.01 → 2): a clerk reads "two decimal places", not "steps of 0.01"."""
    if isinstance(step, bool) or not isinstance(step, int | float | Decimal):
        return None
    exponent = Decimal(str(step)).normalize().as_tuple()
    if exponent.digits == (1,) and isinstance(exponent.exponent, int) and exponent.exponent < 0:
        return -exponent.exponent
    return None


def iso_date(value: object) -> date | None:
    """The day of a `YYYY-MM-DD` answer; None for anything else (fromisoformat alone takes 20261206)."""
    if not (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _date_bound_errors(
    spec: FormSpec, typed: Mapping[str, Any], errors: list[FieldError], lang: str, today: date | None
) -> list[FieldError]:
    """A date answer outside its field's `not_before` / `not_after` on `today` (without it, only
    the fixed days: a library caller that passes no day is not refused on one it never gave).

    JSON Schema has no keyword for "not after today", so the bounds are checked here, once the
    schema has found the date well-formed (a field already in `errors` is left to that message).
    The bounds by another field come last and skip an other answer that is itself wrong: an end
    is not measured against a start that has its own message.
    """
    wrong = {e.path for e in errors}
    found: list[FieldError] = []
    for by_field in (False, True):
        for f in spec.fields.values():
            day = iso_date(typed.get(f.name))
            if day is None or f.name in wrong:  # malformed: the schema's `format` says so at submission
                continue
            for keyword, bound in (("not_before", f.not_before), ("not_after", f.not_after)):
                if bound is None or (bound.field is not None) is not by_field or bound.field in wrong:
                    continue
                limit = bound.on(today, typed)
                if limit is None or (day >= limit if keyword == "not_before" else day <= limit):
                    continue
                if bound.field is not None:
                    key, label = f"{keyword}.field", spec.fields[bound.field].label.get(lang)
                else:
                    key, label = (f"{keyword}.today" if bound.is_today else keyword), None
                found.append(
                    FieldError(f.name, _field_message(f, keyword, key, lang, long_date(limit, lang), label))
                )
                wrong.add(f.name)
                break
    return found


def validate_answers(
    spec: FormSpec, answers: Mapping[str, Any], lang: str = "zh", *, today: date | None = None
) -> list[FieldError]:
    """One error per field at most (the first the applicant should fix), in form order."""
    typed, errors = coerce_answers(spec, answers, lang)
    unknown = [k for k in answers if k not in spec.fields]
    if unknown and spec.schema.get("additionalProperties") is False:
        errors.extend(FieldError(k, message("additionalProperties", lang)) for k in unknown)
    rejected = {e.path for e in errors}
    for error in spec.validator.iter_errors(typed):
        errors.extend(e for e in _translate(spec, error, lang) if e.path not in rejected)
    errors += _date_bound_errors(spec, typed, errors, lang, today)
    return _first_per_field(spec, errors)


# The limits a saved draft is held to as well: typing more never brings such a value within them
# (a number is whole when typed, so a negative amount is as wrong in a draft as a submission).
_DRAFT_LIMITS = frozenset(
    {"maxLength", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxItems", "multipleOf"}
)


def draft_answers(
    spec: FormSpec, answers: Mapping[str, Any], lang: str = "zh", *, today: date | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The typed answers of a draft, and what it may not hold even unfinished.

    A missing answer or one still too short waits for the submission; a mistyped value, one
    over a limit (60 characters where the form allows 40), a number below its minimum (a negative
    amount) or a date outside its bounds on `today` (a contract signed next year) is said at once.
    """
    typed, errors = coerce_answers(spec, answers, lang)
    rejected = {e.path for e in errors}
    for error in spec.validator.iter_errors(typed):
        if error.validator in _DRAFT_LIMITS:
            errors.extend(e for e in _translate(spec, error, lang) if e.path not in rejected)
    errors += _date_bound_errors(spec, typed, errors, lang, today)
    return typed, _first_per_field(spec, errors)


def _first_per_field(spec: FormSpec, errors: list[FieldError]) -> list[FieldError]:
    order = {name: i for i, name in enumerate(spec.fields)}
    seen: set[str] = set()
    result: list[FieldError] = []
    for e in sorted(errors, key=lambda e: order.get(e.path.split(".", 1)[0], -1)):
        if e.path not in seen:
            seen.add(e.path)
            result.append(e)
    return result
