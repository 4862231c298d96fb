"""The fact dictionary (facts.yaml): what may be known about each entity, and input parsing.

Input facts arrive as JSON or form data; `FactDictionary.parse` is the single gate that turns
them into typed values (Decimal, int, bool, date, str) and rejects anything ambiguous, so the
evaluator never has to guess. Derived facts are formulas over other facts and are computed,
never supplied.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from portal.rules.errors import FactError, FormulaError, RuleFileError
from portal.rules.formula import (
    Closure,
    Expr,
    FactRef,
    compile_expr,
    infer_type,
    parse_formula,
    walk,
)
from portal.rules.text import Reader, Text
from portal.rules.yaml_loader import YMap, load_yaml

FACT_TYPES = ("bool", "int", "money", "ratio", "date", "enum", "text")
UNITS = ("yuan", "person", "ratio", "share", "count", "year", "month", "date", "none")
MONEY_PLACES = 2  # yuan to the fen
_NUMBER_TYPES = ("int", "money", "ratio")


@dataclass(frozen=True)
class FactSpec:
    """One entry of facts.yaml."""

    entity: str
    name: str
    type: str
    unit: str
    label: Text
    values: tuple[str, ...] = ()
    formula: Expr | None = None
    formula_text: str | None = None
    line: int = 0
    # A date that has happened (`past: true` in facts.yaml): never after the day it is stated.
    past: bool = False
    # A number's natural range (`min`/`max` in facts.yaml, inclusive): a score out of 100, a
    # term of at least one month. `parse` refuses a value outside it, as a typing error.
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    @property
    def qualified(self) -> str:
        """The name with its entity: `enterprise.revenue`."""
        return f"{self.entity}.{self.name}"

    @property
    def derived(self) -> bool:
        """Computed from other facts by a formula in facts.yaml, never supplied."""
        return self.formula is not None


@dataclass
class FactDictionary:
    """All facts by qualified name, with compiled derived-fact formulas."""

    path: Path
    specs: dict[str, FactSpec]
    _compiled: dict[str, Closure] = field(default_factory=dict, repr=False)
    # Enum values' zh/en labels by qualified fact (the pack's `pack.yaml` `value_labels`): hints and
    # criterion messages name a value as people know it (天河区), never by its code (tianhe).
    value_labels: Mapping[str, Mapping[str, Text]] = field(default_factory=dict)

    def value_label(self, qualified: str, value: object, lang: str) -> str:
        """An enum value's label in `lang`; the value itself when the pack gives none."""
        text = self.value_labels.get(qualified, {}).get(str(value))
        return text.get(lang) if text is not None else str(value)

    @cached_property
    def entities(self) -> tuple[str, ...]:
        """What facts are about (enterprise, loan, ...), in file order: facts.yaml's top-level keys."""
        return tuple(dict.fromkeys(spec.entity for spec in self.specs.values()))

    def after(self, facts: Mapping[str, Mapping[str, object]], today: date) -> list[str]:
        """The `past` dates among typed `facts` that lie after `today`, as qualified names.

        Kept out of `parse`, which knows no today: the caller states the day (the clock's).
        """
        return [
            spec.qualified
            for spec in self.specs.values()
            if spec.past
            and isinstance(value := facts.get(spec.entity, {}).get(spec.name), date)
            and value > today
        ]

    def get(self, qualified: str) -> FactSpec | None:
        """The fact named `entity.name`, or None."""
        return self.specs.get(qualified)

    def entity_facts(self, entity: str) -> list[FactSpec]:
        """The facts of one entity, in file order."""
        return [s for s in self.specs.values() if s.entity == entity]

    def supplied(self) -> list[FactSpec]:
        """The facts a caller supplies, e.g. a screening input's columns; derived facts are computed."""
        return [s for s in self.specs.values() if not s.derived]

    def reader(self, qualified: str) -> Closure:
        """A closure returning the fact's value or None; derived facts compute their formula."""
        cached = self._compiled.get(qualified)
        if cached is not None:
            return cached
        spec = self.specs[qualified]
        if spec.formula is not None:
            closure = compile_expr(spec.formula, lambda ref: self.reader(ref.qualified))  # type: ignore[attr-defined]
        else:
            entity, name = spec.entity, spec.name

            def closure(facts: Mapping[str, Mapping[str, object]], on: date) -> object:
                values = facts.get(entity)
                return None if values is None else values.get(name)

            # Marks a plain read so formula compilation can fuse it (see formula._fused_ratio).
            closure.derived = False  # type: ignore[attr-defined]

        self._compiled[qualified] = closure
        return closure

    def base_facts(self, qualified: str) -> tuple[str, ...]:
        """The supplied facts a fact depends on: itself, or the inputs of its formula."""
        spec = self.specs[qualified]
        if spec.formula is None:
            return (qualified,)
        found: list[str] = []
        for node in walk(spec.formula):
            if isinstance(node, FactRef) and node.qualified in self.specs:
                found += [f for f in self.base_facts(node.qualified) if f not in found]
        return tuple(found)

    def parse(self, raw: Mapping[str, Mapping[str, object]]) -> dict[str, dict[str, object]]:
        """Typed facts from JSON-like input; raises FactError naming the qualified fact.

        Idempotent: already-typed values pass through, so services may parse twice safely.
        A `None` value means "not known" and is dropped.
        """
        if not isinstance(raw, Mapping):
            raise FactError("facts", "expected an object keyed by entity")
        by_entity = self._by_entity
        parsed: dict[str, dict[str, object]] = {}
        for entity, values in raw.items():
            specs = by_entity.get(entity)
            if specs is None:
                raise FactError(str(entity), f"unknown entity; expected one of {', '.join(self.entities)}")
            if not isinstance(values, Mapping):
                raise FactError(entity, "expected an object of facts")
            typed: dict[str, object] = {}
            for name, value in values.items():
                spec = specs.get(name)
                if spec is None:
                    raise FactError(f"{entity}.{name}", "unknown fact (not in facts.yaml)")
                if spec.derived:
                    raise FactError(spec.qualified, "is derived from other facts and cannot be supplied")
                if value is not None:
                    typed[str(name)] = _coerce(spec, value)
            parsed[entity] = typed
        return parsed

    @cached_property
    def _by_entity(self) -> dict[str, dict[str, FactSpec]]:
        """The specs by entity, then by name: `parse` reads one per supplied value."""
        found: dict[str, dict[str, FactSpec]] = {}
        for spec in self.specs.values():
            found.setdefault(spec.entity, {})[spec.name] = spec
        return found


def _coerce(spec: FactSpec, value: object) -> object:
    """The typed value, or FactError naming the qualified fact (named only when it is raised)."""
    kind = spec.type
    if kind == "bool":
        if not isinstance(value, bool):
            raise FactError(spec.qualified, f"expected true or false, got {value!r}")
        return value
    if isinstance(value, bool):
        raise FactError(spec.qualified, f"expected {kind}, got a boolean")
    if kind in ("money", "ratio"):
        number, exponent = _decimal(spec, value)
        if kind == "money" and number < 0:
            raise FactError(spec.qualified, f"money cannot be negative, got {value}", "negative")
        if kind == "money" and exponent < -MONEY_PLACES:
            # Batch screening refuses these too (DECIMAL(38, 2)): a fact reads the same on both paths.
            raise FactError(
                spec.qualified,
                f"money has at most {MONEY_PLACES} decimal places (the fen), got {value}",
                "places",
            )
        if spec.unit == "share" and not 0 <= number <= 1:
            raise FactError(
                spec.qualified, f"a share lies between 0 and 1 (0.05 means 5%), got {value}", "share"
            )
        return _in_range(spec, number)
    if kind == "int":
        if type(value) is int:  # already whole: the checks of `_decimal` and below, without a Decimal
            if abs(value) >= _LARGEST:
                raise FactError(spec.qualified, f"implausibly large: {value}", "too_large")
            if value < 0:
                raise FactError(spec.qualified, f"cannot be negative, got {value}", "negative")
            return _in_range(spec, value)
        number, _ = _decimal(spec, value)
        if number != number.to_integral_value():
            raise FactError(spec.qualified, f"expected a whole number, got {value}", "whole")
        if number < 0:
            raise FactError(spec.qualified, f"cannot be negative, got {value}", "negative")
        return _in_range(spec, int(number))
    if kind == "date":
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        # Only the extended form: Python also reads "20200101" and "2020-W01-1", which batch
        # screening rejects, and a fact must read the same on both paths.
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            raise FactError(spec.qualified, f"expected an ISO date YYYY-MM-DD, got {value!r}")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise FactError(spec.qualified, f"not a valid date (YYYY-MM-DD): {value!r}") from exc
    if not isinstance(value, str):
        raise FactError(spec.qualified, f"expected text, got {value!r}")
    if kind == "enum" and value not in spec.values:
        raise FactError(spec.qualified, f"{value!r} is not one of {', '.join(spec.values)}", "choice")
    return value


_N = TypeVar("_N", int, Decimal)


def _in_range(spec: FactSpec, number: _N) -> _N:
    """`number` if it lies within the fact's `min`/`max`; FactError("range") names the range."""
    low, high = spec.minimum, spec.maximum
    if (low is None or number >= low) and (high is None or number <= high):
        return number
    if low is not None and high is not None:
        allowed = f"between {low} and {high}"
    else:
        allowed = f"at least {low}" if low is not None else f"at most {high}"
    raise FactError(spec.qualified, f"must be {allowed}, got {number}", "range")


_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# 10^15 yuan is far beyond any enterprise figure; larger numbers are typing errors or probes,
# and would only overflow the fixed-point formatting of hints and letters.
_LARGEST = Decimal(10) ** 15


def _decimal(spec: FactSpec, value: object) -> tuple[Decimal, int]:
    """The number in plain form, and its exponent (-2 for 12.34)."""
    if type(value) is Decimal:  # immutable: no copy needed
        number = value
    elif isinstance(value, float):
        raise FactError(spec.qualified, f"got a binary float {value!r}; pass a decimal string or Decimal")
    elif isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, str):
        # A string is read as written: "40000000" or "0.05", never "4e7" or " 12 ".
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise FactError(spec.qualified, f"not a plain decimal number: {value!r}")
        number = Decimal(value)
    else:
        raise FactError(spec.qualified, f"expected a number or decimal string, got {value!r}")
    if not number.is_finite():
        raise FactError(spec.qualified, f"not a finite number: {value!r}")
    if abs(number) >= _LARGEST:
        raise FactError(spec.qualified, f"implausibly large: {number}", "too_large")
    # A JSON number such as 1e9 is exact but carries an exponent; store it in plain form.
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    if exponent > 0:
        return Decimal(format(number, "f")), 0
    return number, exponent


_ENTITY_NAME = re.compile(r"[a-z][a-z0-9_]*")


def load_facts(path: Path) -> FactDictionary:
    """Read facts.yaml; schema errors, unknown references and formula type errors raise RuleFileError."""
    data = load_yaml(path)
    top = Reader(path, data, "", 1)
    if not isinstance(data, dict) or not data:
        raise RuleFileError(path, 1, "", "expected a mapping of entities (enterprise:, ...) to their facts")
    specs: dict[str, FactSpec] = {}
    for entity in data:
        if not _ENTITY_NAME.fullmatch(entity):
            raise RuleFileError(path, top.line(entity), entity, "an entity is a lower-case snake_case name")
        entity_map = top.mapping(entity)
        for name in entity_map:
            specs[f"{entity}.{name}"] = _read_spec(path, entity, name, entity_map)
    dictionary = FactDictionary(path, specs)
    _check_formulas(dictionary)
    return dictionary


def _read_spec(path: Path, entity: str, name: str, entity_map: YMap) -> FactSpec:
    r = Reader(path, entity_map[name], f"{entity}.{name}", entity_map.line_of(name))
    r.only({"type", "unit", "label", "values", "formula", "past", "min", "max"})
    kind = r.choice("type", FACT_TYPES)
    unit = r.choice("unit", UNITS, default="none")
    label = r.text("label")
    assert label is not None
    values: tuple[str, ...] = ()
    if kind == "enum":
        raw_values = r.sequence("values")
        if not raw_values or not all(isinstance(v, str) for v in raw_values):
            raise r.error("values", "an enum needs a non-empty list of text values")
        values = tuple(str(v) for v in raw_values)
    elif r.has("values"):
        raise r.error("values", "only enum facts have values")
    formula_text = r.text_field("formula", required=False)
    formula = None
    if formula_text is not None:
        try:
            formula = parse_formula(formula_text)
        except FormulaError as exc:
            raise r.error("formula", str(exc)) from exc
    past = r.raw("past") is True
    if r.has("past") and (kind != "date" or not past):
        raise r.error("past", "only a date fact may say `past: true`")
    minimum, maximum = _bound(r, kind, "min"), _bound(r, kind, "max")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise r.error("min", f"min {minimum} is above max {maximum}")
    return FactSpec(
        entity, name, kind, unit, label, values, formula, formula_text, r.line(), past, minimum, maximum
    )


def _bound(r: Reader, kind: str, key: str) -> Decimal | None:
    """A number fact's `min` or `max`, when it gives one."""
    if not r.has(key):
        return None
    value = r.raw(key)
    if kind not in _NUMBER_TYPES:
        raise r.error(key, f"only a number fact ({', '.join(_NUMBER_TYPES)}) may have a {key}")
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise r.error(key, f"{key} is a number, got {value!r}")
    return Decimal(value)


def _check_formulas(dictionary: FactDictionary) -> None:
    for spec in dictionary.specs.values():
        if spec.formula is None:
            continue
        _check_cycle(dictionary, spec, [])

        def resolve(ref: Expr, spec: FactSpec = spec) -> str:
            if not isinstance(ref, FactRef):
                raise FormulaError("derived facts may only refer to facts and `on`")
            target = dictionary.get(ref.qualified)
            if target is None:
                raise FormulaError(f"unknown fact {ref.qualified}")
            return target.type

        try:
            kind = infer_type(spec.formula, resolve)
        except FormulaError as exc:
            raise RuleFileError(dictionary.path, spec.line, f"{spec.qualified}.formula", str(exc)) from exc
        numeric = {"int", "money", "ratio", "number"}
        if kind != spec.type and not (kind in numeric and spec.type in numeric):
            raise RuleFileError(
                dictionary.path,
                spec.line,
                f"{spec.qualified}.formula",
                f"formula gives {kind} but the fact is declared {spec.type}",
            )


def _check_cycle(dictionary: FactDictionary, spec: FactSpec, chain: list[str]) -> None:
    if spec.qualified in chain:
        raise RuleFileError(
            dictionary.path,
            spec.line,
            f"{spec.qualified}.formula",
            "derived facts refer to each other in a cycle: " + " → ".join([*chain, spec.qualified]),
        )
    if spec.formula is None:
        return
    for node in walk(spec.formula):
        if isinstance(node, FactRef):
            target = dictionary.get(node.qualified)
            if target is not None:
                _check_cycle(dictionary, target, [*chain, spec.qualified])
