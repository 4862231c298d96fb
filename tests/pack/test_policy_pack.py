"""The shipped Guangzhou pack keeps its published contract.

Measure ids, fact names, enum values and benefit names are used by the portal, the bank API and
outside callers, so a rename here must fail loudly. The tests read the real `rules/`, run the real
engine, and check the bundled demo enterprise that `make run` shows.
"""

import json
from datetime import date
from pathlib import Path

import pytest
from stdnum.cn import uscc

from portal.rules import Pack, load_pack
from portal.rules.examples import run_examples
from portal.rules.lint import lint_pack

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
WORKFLOWS = REPO / "workflows"
DEMO = REPO / "portal" / "demo" / "enterprise.json"

PUBLISHED_MEASURES = {
    "tax.high_tech_enterprise",
    "tax.rd_super_deduction",
    "tax.software_enterprise",
    "tax.ic_design_enterprise",
    "qualification.st_sme",
    "finance.credit_risk_compensation",
    "finance.ip_pledge_compensation",
    "finance.guarantee_fee",
    "procurement.ai_product_listing",
    "procurement.first_set_reward",
    "procurement.sme_price_deduction",
    "talent.gba_iit_subsidy",
    "talent.housing",
    "talent.hukou",
    "talent.medical",
    "talent.education",
    "subsidy.ai_scenario_demo",
    "subsidy.model_filing",
    "subsidy.algorithm_filing",
    "subsidy.compute_voucher",
}

PUBLISHED_FACTS = {
    "enterprise": {
        "uscc": "text",
        "name": "text",
        "district": "enum",
        "registered_on": "date",
        "employees": "int",
        "st_staff": "int",
        "rd_staff": "int",
        "bachelor_staff": "int",
        "revenue": "money",
        "revenue_3y": "money",
        "rd_expense": "money",
        "rd_expense_3y": "money",
        "rd_expense_domestic_3y": "money",
        "total_cost": "money",
        "total_assets": "money",
        "hightech_revenue": "money",
        "software_revenue": "money",
        "self_dev_software_revenue": "money",
        "ic_design_revenue": "money",
        "core_ip": "bool",
        "invention_patents": "int",
        "software_copyrights": "int",
        "ip_class1": "int",
        "ip_class2": "int",
        "tech_in_key_fields": "bool",
        "innovation_score": "int",
        "hightech_certified": "bool",
        "is_sme": "bool",
        "is_small_micro": "bool",
        "major_violation_last_year": "bool",
        "bad_credit_record_3y": "bool",
        "on_key_support_list": "bool",
        "restricted_industry": "bool",
        "ai_track": "enum",
        "ai_rd_expense": "money",
        "ai_revenue": "money",
        "certified_ai_staff": "int",
    },
    "loan": {
        "amount": "money",
        "term_months": "int",
        "bank_is_partner": "bool",
        "pledge_kind": "enum",
        "uses_policy_tool": "bool",
    },
    "talent": {"residency": "enum", "taxable_income": "money", "iit_paid": "money"},
    "product": {
        "unit_price": "money",
        "kind": "enum",
        "on_city_catalogue": "bool",
        "price_received_ratio": "ratio",
        "invention_patent": "bool",
        "self_reliance_rate": "ratio",
    },
    "project": {"investment": "money"},
}

PUBLISHED_ENUMS = {
    "enterprise.district": (
        "yuexiu",
        "haizhu",
        "liwan",
        "tianhe",
        "baiyun",
        "huangpu",
        "panyu",
        "huadu",
        "nansha",
        "conghua",
        "zengcheng",
        "outside",
    ),
    "enterprise.ai_track": ("zao", "che", "jian", "cheng", "other"),
    "loan.pledge_kind": ("none", "patent", "trademark", "copyright"),
    "talent.residency": ("mainland", "hk", "macao", "taiwan", "foreign", "returnee"),
    "product.kind": ("complete_set", "single_machine"),
}

DERIVED_FACTS = (
    "rd_ratio_3y",
    "years_registered",
    "st_staff_ratio",
    "rd_staff_ratio",
    "bachelor_ratio",
    "hightech_revenue_ratio",
    "software_revenue_ratio",
    "self_dev_software_ratio",
    "ic_design_revenue_ratio",
    "rd_domestic_ratio",
    "rd_cost_ratio",
)

# (measure, version) -> benefit names other parts of the product read.
PUBLISHED_BENEFITS = {
    ("tax.high_tech_enterprise", "2016"): {"income_tax_rate"},
    ("tax.rd_super_deduction", "2023"): {"extra_deduction_ratio"},
    ("tax.rd_super_deduction", "2028"): {"extra_deduction_ratio"},
    ("finance.credit_risk_compensation", "2021"): {"compensation_ratio"},
    ("finance.credit_risk_compensation", "2025"): {"compensation_ratio"},
    ("finance.ip_pledge_compensation", "2023"): {"compensation_ratio", "compensable_principal"},
    ("finance.guarantee_fee", "2019"): {"max_fee_rate"},
    ("procurement.first_set_reward", "2021"): {"reward"},
    ("talent.gba_iit_subsidy", "2023"): {"subsidy"},
}

PROPOSALS = {
    "procurement.ai_product_listing",
    "talent.housing",
    "talent.hukou",
    "talent.medical",
    "talent.education",
    "subsidy.compute_voucher",
}


@pytest.fixture(scope="module")
def pack() -> Pack:
    return load_pack(RULES)


def test_pack_lints_clean() -> None:
    problems = lint_pack(RULES)
    assert not problems, "\n".join(str(p) for p in problems)


def test_every_example_passes(pack: Pack) -> None:
    failures = [
        f"{run.location}: {'; '.join(run.problems)}"
        for run in run_examples(pack.rules, pack.facts)
        if not run.passed
    ]
    assert not failures, "\n".join(failures)


def test_at_least_22_files_with_all_three_outcomes(pack: Pack) -> None:
    assert len(pack.rules) >= 22
    for rule in pack.rules:
        outcomes = {e.outcome for e in rule.examples}
        assert {"eligible", "ineligible", "undetermined"} <= outcomes, rule.path
        for example in rule.examples:
            if example.outcome == "undetermined":
                assert example.missing_facts, f"{rule.path}: {example.name} names no missing fact"


def test_published_measure_ids(pack: Pack) -> None:
    assert set(pack.measure_ids()) == PUBLISHED_MEASURES


def test_published_facts_and_types(pack: Pack) -> None:
    for entity, facts in PUBLISHED_FACTS.items():
        for name, kind in facts.items():
            spec = pack.facts.get(f"{entity}.{name}")
            assert spec is not None, f"{entity}.{name} missing"
            assert spec.type == kind, f"{entity}.{name} is {spec.type}, published as {kind}"
            assert not spec.derived
    for qualified, values in PUBLISHED_ENUMS.items():
        spec = pack.facts.get(qualified)
        assert spec is not None and spec.values == values, qualified
    for name in DERIVED_FACTS:
        spec = pack.facts.get(f"enterprise.{name}")
        assert spec is not None and spec.derived, name


def test_published_benefit_names(pack: Pack) -> None:
    by_version = {(r.id, r.version): r for r in pack.rules}
    for key, names in PUBLISHED_BENEFITS.items():
        assert names <= set(by_version[key].benefit), key


def test_workflows_units_and_auto_grant(pack: Pack) -> None:
    for rule in pack.rules:
        assert (WORKFLOWS / f"{rule.workflow}.yaml").is_file(), f"{rule.path}: no workflow {rule.workflow}"
        assert rule.lead_unit in pack.units, rule.path
        if rule.id == "finance.guarantee_fee":
            assert rule.workflow == "short_track"
        elif rule.id.startswith("finance."):
            assert rule.workflow == "bank_loan", rule.path
        else:
            assert rule.workflow == "municipal", rule.path
    assert any(rule.auto_grant for rule in pack.rules)
    assert not any(r.auto_grant for r in pack.rules if r.id == "tax.high_tech_enterprise")


def test_proposals_and_conflicts_are_marked(pack: Pack) -> None:
    for rule in pack.rules:
        assert rule.source.document and rule.source.article, rule.path
        assert rule.source.confidence is not None, rule.path
        if rule.id in PROPOSALS:
            assert rule.source.confidence == "proposal", rule.path
        if rule.source.confidence != "high" or rule.id in PROPOSALS:
            assert rule.source.note is not None and rule.source.note.zh and rule.source.note.en, rule.path
    by_version = {(r.id, r.version): r for r in pack.rules}
    credit_2021 = by_version["finance.credit_risk_compensation", "2021"]
    assert credit_2021.source.note is not None
    assert "2,000" in credit_2021.source.note.zh and "3,000" in credit_2021.source.note.zh


@pytest.mark.parametrize(
    ("measure", "on", "version"),
    [
        ("finance.credit_risk_compensation", date(2025, 9, 30), "2021"),
        ("finance.credit_risk_compensation", date(2025, 10, 1), "2025"),
        ("finance.credit_risk_compensation", date(2028, 9, 30), "2025"),
        ("finance.ip_pledge_compensation", date(2023, 7, 13), "2020"),
        ("finance.ip_pledge_compensation", date(2023, 7, 14), "2023"),
        ("tax.rd_super_deduction", date(2027, 12, 31), "2023"),
        ("tax.rd_super_deduction", date(2028, 1, 1), "2028"),
    ],
)
def test_version_windows_meet_without_overlap(pack: Pack, measure: str, on: date, version: str) -> None:
    chosen = pack.select(measure, on)
    assert chosen is not None and chosen.version == version


def test_windows_close_where_the_sources_end(pack: Pack) -> None:
    assert pack.select("finance.credit_risk_compensation", date(2028, 10, 1)) is None
    assert pack.select("finance.ip_pledge_compensation", date(2028, 1, 19)) is None
    assert pack.select("finance.ip_pledge_compensation", date(2020, 7, 7)) is None


def test_demo_enterprise_identity() -> None:
    enterprise = json.loads(DEMO.read_text(encoding="utf-8"))["enterprise"]
    assert uscc.is_valid(enterprise["uscc"])
    assert enterprise["uscc"][2:6] == "4401"


def test_demo_enterprise_gets_a_mix_of_outcomes(pack: Pack) -> None:
    facts = json.loads(DEMO.read_text(encoding="utf-8"))
    document = pack.check(facts, date(2026, 11, 27))
    results = {r["measure"]: r for r in document["results"]}  # type: ignore[attr-defined]
    outcomes = {measure: r["outcome"] for measure, r in results.items()}
    # The demo has no talent entity, so talent measures are skipped.
    assert not any(m.startswith("talent.") for m in outcomes)
    assert outcomes["tax.high_tech_enterprise"] == "eligible"
    assert outcomes["qualification.st_sme"] == "eligible"
    assert outcomes["tax.software_enterprise"] == "ineligible"
    assert outcomes["tax.ic_design_enterprise"] == "ineligible"
    assert outcomes["subsidy.model_filing"] == "undetermined"
    assert results["subsidy.model_filing"]["missing_facts"] == ["enterprise.model_filed"]
    assert results["finance.credit_risk_compensation"]["benefit"] == {"compensation_ratio": "0.50"}
    assert results["procurement.first_set_reward"]["benefit"]["reward"] == "2040000.00"
    assert results["subsidy.ai_scenario_demo"]["benefit"]["max_subsidy"] == "3600000.00"


def test_the_15_percent_rate_needs_the_high_tech_certificate(pack: Pack) -> None:
    """The rate is for a recognised high-tech enterprise (认定办法第四条): the demo firm, which meets
    every recognition condition, is eligible with its certificate and not without it; a firm that
    has not said is asked for it."""
    facts = json.loads(DEMO.read_text(encoding="utf-8"))
    on = date(2026, 11, 27)
    assert pack.evaluate("tax.high_tech_enterprise", pack.facts.parse(facts), on).outcome == "eligible"
    facts["enterprise"]["hightech_certified"] = False
    assert pack.evaluate("tax.high_tech_enterprise", pack.facts.parse(facts), on).outcome == "ineligible"
    del facts["enterprise"]["hightech_certified"]
    unsaid = pack.evaluate("tax.high_tech_enterprise", pack.facts.parse(facts), on)
    assert (unsaid.outcome, unsaid.missing_facts) == ("undetermined", ["enterprise.hightech_certified"])
