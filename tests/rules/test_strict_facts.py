"""FactDictionary.parse, the one gate for facts: money to the fen, shares within [0, 1]."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from portal.rules import FactError, RuleFileError, load_pack
from portal.rules.bounds import fact_range
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
        ("enterprise.innovation_score", "150", "range"),
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


@pytest.mark.parametrize(
    ("fact", "value"),
    [("enterprise.innovation_score", "101"), ("enterprise.innovation_score", 150), ("loan.term_months", "0")],
)
def test_a_number_outside_its_facts_range_is_refused(fact: str, value: object) -> None:
    """facts.yaml's `min`/`max`: a score is out of 100, a loan runs at least a month."""
    entity, name = fact.split(".")
    with pytest.raises(FactError, match=r"must be (between 0 and 100|at least 1), got") as refused:
        FACTS.parse({entity: {name: value}})
    assert (refused.value.fact, refused.value.reason) == (fact, "range")


@pytest.mark.parametrize("value", ["0", "100", 71])
def test_a_number_at_the_ends_of_its_range_is_accepted(value: object) -> None:
    assert FACTS.parse({"enterprise": {"innovation_score": value}})["enterprise"]["innovation_score"] == int(
        value
    )


def test_a_missing_fact_ranges_over_its_own_bounds() -> None:
    """Partial knowledge (scalar and SQL) assumes no more of a missing score than facts.yaml allows."""
    assert fact_range(FACTS.specs["enterprise.innovation_score"]) == (0, 100)
    assert fact_range(FACTS.specs["loan.term_months"]) == (1, None)
    assert fact_range(FACTS.specs["product.self_reliance_rate"]) == (0, 1)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{type: int, unit: none, min: 100, max: 0", "min 100 is above max 0"),
        ("{type: text, unit: none, max: 10", r"only a number fact \(int, money, ratio\) may have a max"),
        ("{type: int, unit: none, min: low", "min is a number, got 'low'"),
        ("{type: int, unit: none, max: true", "max is a number, got True"),
    ],
)
def test_a_range_must_make_sense(tmp_path: Path, entry: str, message: str) -> None:
    """`portal rules lint` fails on these, as on every facts.yaml error."""
    path = tmp_path / "facts.yaml"
    path.write_text(f"enterprise:\n  score: {entry}, label: {{zh: 得分, en: Score}}}}\n")
    with pytest.raises(RuleFileError, match=message):
        load_facts(path)
