"""FactDictionary.parse, the one gate for facts: money to the fen, shares within [0, 1]."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from portal.rules import FactError, RuleFileError, load_pack
from portal.rules.facts import load_facts

FACTS = load_pack(Path(__file__).resolve().parents[2] / "rules").facts


@pytest.mark.parametrize("value", ["1.001", "1.000", Decimal("0.125"), "40000000.999"])
def test_money_has_at_most_two_decimals(value: object) -> None:
    with pytest.raises(FactError, match="at most 2 decimal places"):
        FACTS.parse({"enterprise": {"revenue": value}})


@pytest.mark.parametrize("value", ["1.5", "1.50", "40000000", Decimal("0.01"), 7])
def test_money_to_the_fen_is_accepted(value: object) -> None:
    assert FACTS.parse({"enterprise": {"revenue": value}})["enterprise"]["revenue"] == Decimal(str(value))


@pytest.mark.parametrize("value", ["1.0001", "-0.01", "70"])
def test_a_share_lies_between_zero_and_one(value: str) -> None:
    with pytest.raises(FactError, match="a share lies between 0 and 1"):
        FACTS.parse({"product": {"self_reliance_rate": value}})


@pytest.mark.parametrize("value", ["0", "1", "0.70", "1.0000"])
def test_shares_at_and_inside_the_bounds_are_accepted(value: str) -> None:
    assert FACTS.parse({"product": {"price_received_ratio": value}})["product"][
        "price_received_ratio"
    ] == Decimal(value)


@pytest.mark.parametrize(
    ("fact", "value", "reason"),
    [
        ("enterprise.revenue", "1" * 40, "too_large"),
        ("enterprise.revenue", "-1", "negative"),
        ("enterprise.revenue", "1.001", "places"),
        ("product.self_reliance_rate", "2", "share"),
        ("enterprise.certified_ai_staff", "1.5", "whole"),
        ("enterprise.district", "atlantis", "choice"),
        ("enterprise.registered_on", "2020/01/01", "invalid"),
    ],
)
def test_a_refusal_names_its_reason(fact: str, value: str, reason: str) -> None:
    """Pages turn the reason into the reader's words (金额过大), not the type's generic hint."""
    entity, name = fact.split(".")
    with pytest.raises(FactError) as refused:
        FACTS.parse({entity: {name: value}})
    assert (refused.value.fact, refused.value.reason) == (fact, reason)


def test_a_past_date_after_today_is_named() -> None:
    typed = FACTS.parse({"enterprise": {"registered_on": "2026-06-02"}})
    assert FACTS.after(typed, date(2026, 6, 1)) == ["enterprise.registered_on"]
    assert FACTS.after(typed, date(2026, 6, 2)) == []


def test_only_a_date_fact_may_say_past(tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text(
        "enterprise:\n  staff: {type: int, unit: person, past: true, label: {zh: 人数, en: Staff}}\n"
    )
    with pytest.raises(RuleFileError, match="only a date fact may say `past: true`"):
        load_facts(path)
