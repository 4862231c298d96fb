"""Partial knowledge on the real pack: criteria settled from what is known, and the benefit an
undetermined result would grant (`potential_benefit`) with its sentence for people."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from portal.rules import Outcome, load_pack

PACK = load_pack(Path(__file__).resolve().parents[2] / "rules")
ON = date(2026, 6, 1)
ST_SME = {
    "resident_enterprise": True,
    "employees": 100,
    "st_staff": 25,
    "revenue": 100000000,
    "total_assets": 80000000,
    "ip_class1": 0,
    "ip_class2": 0,
    "restricted_industry": False,
    "serious_incident_or_listed_2y": False,
    "hightech_certified": False,
    "national_award_5y": False,
    "provincial_rd_institution": False,
    "led_standard_5y": False,
}


def _evaluate(measure: str, facts: dict[str, dict[str, object]], trace: bool = True):  # type: ignore[no-untyped-def]
    return PACK.evaluate(measure, PACK.facts.parse(facts), ON, trace=trace)


def test_rd_at_the_top_band_settles_the_better_of_two_indicators() -> None:
    for trace in (True, False):
        at_cap = _evaluate("qualification.st_sme", {"enterprise": {**ST_SME, "rd_expense": 6000000}}, trace)
        assert at_cap.outcome is Outcome.ELIGIBLE
        below = _evaluate("qualification.st_sme", {"enterprise": {**ST_SME, "rd_expense": 5999999}}, trace)
        assert below.outcome is Outcome.UNDETERMINED
        assert below.missing_facts == ["enterprise.total_cost"]
    traced = _evaluate("qualification.st_sme", {"enterprise": {**ST_SME, "rd_expense": 6000000}})
    score = next(c for c in traced.criteria if c.id == "score")
    assert score.value is None and score.outcome.value == "pass"


def test_ip_items_known_part_meets_the_threshold() -> None:
    facts = {"enterprise": {"invention_patents": 8}}
    result = _evaluate("tax.ic_design_enterprise", facts)
    ip = next(c for c in result.criteria if c.fact == "enterprise.ip_items")
    assert ip.outcome.value == "pass"
    short = _evaluate("tax.ic_design_enterprise", {"enterprise": {"invention_patents": 7}})
    assert next(c for c in short.criteria if c.fact == "enterprise.ip_items").outcome.value == "unknown"


def test_potential_benefit_is_exact_where_known_and_a_ceiling_otherwise() -> None:
    result = _evaluate("tax.high_tech_enterprise", {"enterprise": {"registered_on": "2020-01-01"}})
    assert result.outcome is Outcome.UNDETERMINED
    assert result.benefit == {}
    assert result.potential_benefit == {"income_tax_rate": Decimal("0.15")}
    assert result.potential_up_to == []
    reward = _evaluate("procurement.first_set_reward", {"product": {"kind": "complete_set"}})
    assert reward.potential_benefit == {"reward": 5000000} and reward.potential_up_to == ["reward"]
    priced = _evaluate(
        "procurement.first_set_reward", {"product": {"kind": "complete_set", "unit_price": 1000000}}
    )
    assert priced.potential_benefit == {"reward": 300000} and priced.potential_up_to == []
    doc = reward.to_json("en")
    assert doc["benefit"] == {} and doc["potential_benefit"] == {"reward": "5000000.00"}
    assert doc["potential_benefit_up_to"] == ["reward"]


def test_eligible_and_ineligible_results_have_no_potential_benefit() -> None:
    eligible = _evaluate("qualification.st_sme", {"enterprise": {**ST_SME, "rd_expense": 6000000}})
    assert eligible.potential_benefit == {} and eligible.to_json()["potential_benefit"] == {}


def test_the_sentence_names_labels_only() -> None:
    result = _evaluate("tax.high_tech_enterprise", {"enterprise": {"registered_on": "2020-01-01"}})
    zh, en = result.hints_in("zh")[-1], result.hints_in("en")[-1]
    assert zh.startswith("补充") and "后，如符合条件，可享" in zh and zh.endswith("企业所得税税率 15%")
    assert en.startswith("Provide ") and en.endswith("the measure grants Income-tax rate 15%")
    for text in (zh, en):
        assert not re.search(r"[a-z]+\.[a-z_]+|income_tax_rate", text), text
    ceiling = _evaluate("procurement.first_set_reward", {"product": {"kind": "complete_set"}})
    assert "最高 500万元" in ceiling.hints_in("zh")[-1]
    assert "up to CNY 5,000,000" in ceiling.hints_in("en")[-1]
