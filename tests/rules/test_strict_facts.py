"""FactDictionary.parse, the one gate for facts: money to the fen, shares within [0, 1]."""

from decimal import Decimal
from pathlib import Path

import pytest

from portal.rules import FactError, load_pack

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
