"""The formula whitelist: anything that is not arithmetic over named facts is refused."""

import re

import pytest

from portal.rules.errors import FormulaError
from portal.rules.formula import Call, FactRef, ParamRef, infer_type, parse_formula


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "enterprise.revenue.__class__",
        "open('x')",
        "[1, 2]",
        "lambda: 1",
        "enterprise.revenue ** 2",
        "1 < enterprise.revenue < 3",
        "x",
        "round(enterprise.revenue, digits=2)",
    ],
)
def test_outside_the_whitelist_is_refused(text: str) -> None:
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_any_entity_of_the_pack_may_be_named() -> None:
    """Entities are facts.yaml's (issue 17): the parser names the fact; the dictionary judges it."""
    assert parse_formula("vessel.tonnage") == FactRef("vessel.tonnage")


def test_ir_is_walkable() -> None:
    expr = parse_formula("min(loan.amount, param.cap)")
    assert expr == Call("min", (FactRef("loan.amount"), ParamRef("cap")))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("enterprise.revenue + enterprise.rd_ratio", "cannot compute money + ratio"),
        ("enterprise.revenue >= enterprise.registered_on", "cannot compare money with date"),
        ("enterprise.core_ip + 1", "needs numbers"),
        ("years_between(enterprise.revenue, on)", "two dates"),
        ("enterprise.district > 'tianhe'", "needs numbers or dates"),
    ],
)
def test_type_errors(text: str, message: str) -> None:
    types = {
        "enterprise.revenue": "money",
        "enterprise.rd_ratio": "ratio",
        "enterprise.registered_on": "date",
        "enterprise.core_ip": "bool",
        "enterprise.district": "enum",
    }
    with pytest.raises(FormulaError, match=re.escape(message)):
        infer_type(parse_formula(text), lambda ref: types[ref.qualified])  # type: ignore[attr-defined]


def test_types_that_fit() -> None:
    types = {"enterprise.revenue": "money", "enterprise.rd": "money", "enterprise.employees": "int"}
    assert (
        infer_type(parse_formula("enterprise.rd / enterprise.revenue"), lambda r: types[r.qualified])
        == "ratio"
    )  # type: ignore[attr-defined]
    assert (
        infer_type(parse_formula("round(enterprise.revenue * 0.3, 2)"), lambda r: types[r.qualified])
        == "money"
    )  # type: ignore[attr-defined]
