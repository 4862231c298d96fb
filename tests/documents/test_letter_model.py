"""LetterData refuses malformed decisions before rendering, naming the field."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from sample_letters import APPROVAL, REJECTION

from portal.documents import BenefitLine, TraceLine


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "warning"}, "kind must be one of"),
        ({"lang": "fr"}, "lang must be one of"),
        ({"enterprise_name": "  "}, "enterprise_name must be a non-empty string"),
        ({"issued_on": datetime(2026, 11, 27, 9, 0)}, "issued_on must be a datetime.date"),
        ({"rule_hash": ""}, "rule_hash"),
        ({"verify_url": "javascript:alert(1)"}, "verify_url"),
        ({"kind": "disbursement", "benefits": []}, "must carry the granted amount or a benefit"),
        ({"granted_amount": Decimal("-1")}, "granted_amount must be a Decimal of at least 0"),
    ],
)
def test_bad_letters_name_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(APPROVAL, **changes)  # type: ignore[arg-type]


def test_a_rejection_needs_reasons() -> None:
    with pytest.raises(ValueError, match="must state its reasons"):
        replace(REJECTION, reasons=["  "])


def test_reasons_may_be_one_comment_or_a_list() -> None:
    assert replace(REJECTION, reasons="一条意见").reason_list == ["一条意见"]
    assert replace(REJECTION, reasons=["甲", "乙"]).reason_list == ["甲", "乙"]


def test_benefit_lines_check_their_amounts() -> None:
    with pytest.raises(ValueError, match="money amount cannot be negative"):
        BenefitLine("reward", "奖励", "Reward", Decimal("-1"))
    with pytest.raises(ValueError, match="finite Decimal"):
        BenefitLine("reward", "奖励", "Reward", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind must be one of"):
        BenefitLine("reward", "奖励", "Reward", Decimal(1), "percent")  # type: ignore[arg-type]


def test_trace_lines_check_their_outcome() -> None:
    with pytest.raises(ValueError, match="outcome must be one of"):
        TraceLine("x", "甲", "A", "maybe")  # type: ignore[arg-type]
