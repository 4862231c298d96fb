"""Scalar evaluation on the fixture high-tech rule: band edges, windows, rounding, trace, hints."""

from datetime import date
from decimal import Decimal

import pytest

from portal.rules import FactError, Outcome, Pack, Verdict

ON = date(2026, 6, 1)


def firm(**overrides: object) -> dict[str, dict[str, object]]:
    facts: dict[str, object] = {
        "registered_on": "2020-03-01",
        "employees": 100,
        "st_staff": 10,
        "revenue": "40000000",
        "revenue_3y": "100000000",
        "rd_expense_3y": "5000000",
        "rd_expense_domestic_3y": "3000000",
        "hightech_revenue": "24000000",
        "core_ip": True,
        "tech_in_key_fields": True,
        "major_violation_last_year": False,
    }
    facts.update(overrides)
    return {"enterprise": {k: v for k, v in facts.items() if v is not None}}


def run(
    pack: Pack, measure: str = "tax.high_tech_enterprise", on: date = ON, trace: bool = True, **kw: object
):
    return pack.evaluate(measure, pack.facts.parse(firm(**kw)), on, trace)


def test_every_threshold_exactly_met_is_eligible(pack: Pack) -> None:
    result = run(pack)
    assert result.outcome is Outcome.ELIGIBLE
    assert result.benefit == {"income_tax_rate": Decimal("0.15")}
    assert all(c.outcome is Verdict.PASS for c in result.criteria)
    assert result.hints == []


@pytest.mark.parametrize(
    ("revenue", "rd_3y", "outcome"),
    [
        ("50000000", "5000000", Outcome.ELIGIBLE),  # exactly 5,000万 is still the ≤ 5,000万 band: 5 %
        ("50000000", "4999999", Outcome.INELIGIBLE),
        ("50000000.01", "4000000", Outcome.ELIGIBLE),  # just above 5,000万: 4 %
        ("200000000", "4000000", Outcome.ELIGIBLE),  # exactly 2亿 is still the 4 % band
        ("200000000", "3999999.99", Outcome.INELIGIBLE),
        ("200000000.01", "3000000", Outcome.ELIGIBLE),  # above 2亿: 3 %
        ("200000000.01", "2999999.99", Outcome.INELIGIBLE),
    ],
)
def test_revenue_band_edges(pack: Pack, revenue: str, rd_3y: str, outcome: Outcome) -> None:
    # hightech revenue tracks revenue so only the R&D band decides.
    result = run(
        pack, revenue=revenue, rd_expense_3y=rd_3y, rd_expense_domestic_3y=rd_3y, hightech_revenue=revenue
    )
    assert result.outcome is outcome, result.hints


def test_ratio_exactly_at_threshold_passes_and_just_below_fails(pack: Pack) -> None:
    assert run(pack, st_staff=10).outcome is Outcome.ELIGIBLE  # 10 / 100 = 10 %
    assert run(pack, st_staff=9).outcome is Outcome.INELIGIBLE


def test_years_registered_depends_on_the_evaluation_date(pack: Pack) -> None:
    assert run(pack, registered_on="2025-06-01").outcome is Outcome.ELIGIBLE
    assert run(pack, registered_on="2025-06-02").outcome is Outcome.INELIGIBLE


def test_hint_names_required_value_and_gap(pack: Pack) -> None:
    result = run(
        pack,
        rd_expense_3y="3900000",
        rd_expense_domestic_3y="3900000",
        revenue="60000000",
        hightech_revenue="60000000",
    )
    assert result.outcome is Outcome.INELIGIBLE
    assert result.hints == ["研发费用占比 3.9%，需 ≥ 4%（差 0.1 个百分点）"]
    assert result.hints_in("en") == ["R&D expense ratio 3.9%, needs ≥ 4% (short by 0.1 percentage points)"]


def test_unknown_fact_gives_undetermined_and_names_it(pack: Pack) -> None:
    result = run(pack, revenue=None)
    assert result.outcome is Outcome.UNDETERMINED
    assert result.missing_facts == ["enterprise.revenue"]
    assert result.hints == [
        "请提供：上年度销售收入",  # the label only: missing_facts names the fact for programs
        "补充上年度销售收入后，如符合条件，可享高新技术企业所得税优惠 0.15",
    ]
    fast = run(pack, revenue=None, trace=False)
    assert fast.outcome is Outcome.UNDETERMINED and fast.missing_facts == ["enterprise.revenue"]


def test_a_failure_beats_an_unknown(pack: Pack) -> None:
    result = run(pack, revenue=None, core_ip=False)
    assert result.outcome is Outcome.INELIGIBLE
    assert result.missing_facts == []


def test_trace_reports_fact_value_expectation_message_and_source(pack: Pack) -> None:
    result = run(pack)
    rd = next(c for c in result.criteria if c.id == "rd_ratio")
    assert rd.fact == "enterprise.rd_ratio_3y"
    assert rd.value == Decimal("0.05") and rd.expected == Decimal("0.05")
    doc = rd.to_json()
    assert doc["expected"] == {"op": ">=", "value": "0.05"}
    assert doc["message"] == {"zh": "研发费用占比达到分档要求", "en": "R&D ratio meets its revenue band"}
    assert "国科发火〔2016〕32号" in str(doc["source"]) and "第十一条" in str(doc["source"])


def test_trace_off_gives_the_same_outcomes(pack: Pack) -> None:
    for kw in ({}, {"core_ip": False}, {"revenue": None}, {"st_staff": 9}):
        assert run(pack, trace=False, **kw).outcome is run(pack, **kw).outcome


def test_effective_window_selects_the_version(pack: Pack) -> None:
    assert pack.select("finance.ip_pledge_compensation", date(2023, 1, 18)).version == "2020"  # type: ignore[union-attr]
    assert pack.select("finance.ip_pledge_compensation", date(2023, 1, 19)).version == "2023"  # type: ignore[union-attr]
    assert pack.select("finance.ip_pledge_compensation", date(2028, 1, 19)) is None


def test_date_outside_every_window_is_not_in_force(pack: Pack) -> None:
    facts = pack.facts.parse({"enterprise": {"is_sme": True}, "loan": {"pledge_kind": "patent"}})
    result = pack.evaluate("finance.ip_pledge_compensation", facts, date(2019, 1, 1))
    assert result.outcome is Outcome.NOT_IN_FORCE
    assert result.rule_hash is None
    assert "2020-07-08" in result.hints[0] and "不在有效期内" in result.hints[0]
    assert "not in force" in result.hints_in("en")[0]


def test_money_benefit_rounds_half_up_to_the_fen(pack: Pack) -> None:
    facts = pack.facts.parse(
        {"enterprise": {"is_sme": True}, "loan": {"pledge_kind": "patent", "amount": "5"}}
    )
    result = pack.evaluate("finance.ip_pledge_compensation", facts, date(2024, 1, 1))
    assert result.outcome is Outcome.ELIGIBLE
    assert result.benefit["compensable_principal"] == Decimal("5.00")
    # Money facts carry at most two decimals, so the rounding shows in a product: 5 × 0.333.
    assert result.benefit["expected_payout"] == Decimal("1.67")  # round(1.665, 2) half-up, not banker's 1.66
    assert result.benefit["compensation_ratio"] == Decimal("0.50")
    big = pack.facts.parse(
        {"enterprise": {"is_sme": True}, "loan": {"pledge_kind": "patent", "amount": 30000000}}
    )
    assert pack.evaluate("finance.ip_pledge_compensation", big, date(2024, 1, 1)).benefit[
        "compensable_principal"
    ] == Decimal("10000000.00")


def test_not_inside_any(pack: Pack) -> None:
    on = date(2024, 1, 1)

    def outcome(loan: dict[str, object]) -> Outcome:
        facts = pack.facts.parse({"enterprise": {"is_sme": True}, "loan": {"pledge_kind": "patent", **loan}})
        return pack.evaluate("finance.ip_pledge_compensation", facts, on).outcome

    assert outcome({"amount": 0, "uses_policy_tool": False}) is Outcome.ELIGIBLE  # not(tool) passes
    assert outcome({"amount": 0, "uses_policy_tool": True}) is Outcome.INELIGIBLE
    assert outcome({"amount": 0}) is Outcome.UNDETERMINED


def test_rule_hash_ignores_formatting(pack: Pack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from portal.rules.model import read_rule_file

    rule = pack.select("tax.high_tech_enterprise", ON)
    assert rule is not None and len(rule.rule_hash) == 64
    text = rule.path.read_text(encoding="utf-8")
    copy = tmp_path / "copy.yaml"
    copy.write_text(
        "# a comment\n" + text.replace("category: tax_benefit", "category:   tax_benefit"), encoding="utf-8"
    )
    assert read_rule_file(copy).rule_hash == rule.rule_hash
    copy.write_text(text.replace("then: 0.04", "then: 0.045"), encoding="utf-8")
    assert read_rule_file(copy).rule_hash != rule.rule_hash


@pytest.mark.parametrize(
    ("raw", "fact"),
    [
        ({"enterprise": {"revnue": 1}}, "enterprise.revnue"),
        ({"enterprise": {"revenue": "-1"}}, "enterprise.revenue"),
        ({"enterprise": {"revenue": "abc"}}, "enterprise.revenue"),
        ({"enterprise": {"revenue": 1.5}}, "enterprise.revenue"),
        ({"enterprise": {"revenue": "1e9"}}, "enterprise.revenue"),
        ({"enterprise": {"revenue": " 12"}}, "enterprise.revenue"),
        ({"enterprise": {"revenue": Decimal("1E+400")}}, "enterprise.revenue"),
        ({"enterprise": {"revenue": "NaN"}}, "enterprise.revenue"),
        ({"enterprise": {"employees": "2.5"}}, "enterprise.employees"),
        ({"enterprise": {"core_ip": "yes"}}, "enterprise.core_ip"),
        ({"enterprise": {"registered_on": "2020-02-30"}}, "enterprise.registered_on"),
        # Forms Python reads but batch screening rejects; both paths must agree.
        ({"enterprise": {"registered_on": "20200101"}}, "enterprise.registered_on"),
        ({"enterprise": {"registered_on": "2020-W01-1"}}, "enterprise.registered_on"),
        ({"enterprise": {"district": "atlantis"}}, "enterprise.district"),
        ({"enterprise": {"rd_ratio_3y": "0.05"}}, "enterprise.rd_ratio_3y"),
        ({"company": {}}, "company"),
    ],
)
def test_bad_facts_name_the_fact(pack: Pack, raw: dict, fact: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(FactError) as info:
        pack.facts.parse(raw)
    assert info.value.fact == fact


def test_parse_is_exact_and_idempotent(pack: Pack) -> None:
    parsed = pack.facts.parse(
        {"enterprise": {"revenue": "0.1", "employees": 3, "registered_on": "2020-01-01"}}
    )
    assert parsed["enterprise"]["revenue"] == Decimal("0.1")
    assert pack.facts.parse(parsed) == parsed


def test_an_exponent_json_number_is_kept_exactly_in_plain_form(pack: Pack) -> None:
    """`1e9` in JSON is exact (parse_float=Decimal) and must print as 1000000000, not 1E+9."""
    revenue = pack.facts.parse({"enterprise": {"revenue": Decimal("1E+9")}})["enterprise"]["revenue"]
    assert revenue == Decimal("1000000000")
    assert str(revenue) == "1000000000"
