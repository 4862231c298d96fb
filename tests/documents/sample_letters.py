"""Realistic letters for the document tests and bench/pdf_bench.py.

The values follow the pack: a Haizhu scenario-demonstration award (CRITERIA-SOURCES §12)
with a typical eight-line trace.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from portal.documents import BenefitLine, LetterData, TraceLine
from portal.documents.wording import load_remedies

# The pack's own right-of-appeal clause, so the samples print what a real refusal prints.
REMEDIES = load_remedies(Path(__file__).resolve().parents[2] / "workflows" / "letters" / "remedy.yaml")

SOURCE = "海科工商信规字〔2024〕1号 第五条"

TRACE = [
    TraceLine(
        "registered_in_haizhu", "注册地及税务关系在海珠区", "Registered and taxed in Haizhu", "pass", SOURCE
    ),
    TraceLine("independent_legal_person", "具有独立法人资格", "An independent legal person", "pass", SOURCE),
    TraceLine(
        "ai_rd_spend",
        "上年度人工智能研发投入超过500万元",
        "AI R&D spend above 5 million yuan",
        "pass",
        SOURCE,
    ),
    TraceLine(
        "scenario_in_operation",
        "示范场景已建成并投入运营",
        "The scenario is built and in operation",
        "pass",
        SOURCE,
    ),
    TraceLine(
        "investment_audited",
        "项目投资经第三方审计确认",
        "Investment confirmed by a third-party audit",
        "pass",
        SOURCE,
    ),
    TraceLine(
        "no_bad_credit", "近三年无严重失信记录", "No serious breach of trust in three years", "pass", SOURCE
    ),
    TraceLine(
        "no_duplicate_funding",
        "同一项目未获市级同类资金支持",
        "No other city funding for the project",
        "pass",
        SOURCE,
    ),
    TraceLine(
        "award_cap",
        "奖励不超过投资额30%且不超过500万元",
        "Award within 30% of investment and 5 million",
        "pass",
        SOURCE,
    ),
]

APPROVAL = LetterData(
    kind="approval",
    lang="zh",
    doc_number="穗科〔2026〕12号",
    issuing_unit_zh="广州市科学技术局",
    issuing_unit_en="Guangzhou Municipal Science and Technology Bureau",
    issued_on=date(2026, 11, 27),
    enterprise_name="广州智算未来科技有限公司",
    enterprise_uscc="91350100M000100Y43",
    measure_id="subsidy.haizhu_ai_scenario",
    measure_title_zh="人工智能场景示范项目奖励",
    measure_title_en="AI scenario demonstration award",
    measure_source="《海珠区促进人工智能产业发展若干措施》（海科工商信规字〔2024〕1号）第五条",
    outcome="eligible",
    reasons=["申报材料齐全，经区初审、局审核、专家评审及公示，无异议。"],
    benefits=[
        BenefitLine("reward", "场景示范奖励", "Scenario demonstration award", Decimal("1000000.00"), "money"),
        BenefitLine("first_tranche", "首期拨付", "First tranche", Decimal("16409.02"), "money"),
        BenefitLine("city_share", "市级分担比例", "City share", Decimal("0.50"), "ratio"),
    ],
    trace=TRACE,
    rule_hash="3f5a9c0d2e7b41f6a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5",
    verification_code="7KQ3H-9XW2M-C0V4D-RT8NB",
    verify_url="https://zcdx.gz.example/verify/7KQ3H-9XW2M-C0V4D-RT8NB",
    zone=ZoneInfo("Asia/Shanghai"),
)

REJECTION = replace(
    APPROVAL,
    kind="rejection",
    doc_number="穗科〔2026〕13号",
    outcome="ineligible",
    benefits=[],
    reasons="上年度人工智能研发投入为320万元，未达到500万元的申报条件。\n请于条件满足后重新申报。",
    trace=[
        *TRACE[:2],
        TraceLine(
            "ai_rd_spend",
            "上年度人工智能研发投入超过500万元",
            "AI R&D spend above 5 million yuan",
            "fail",
            SOURCE,
        ),
    ],
    remedy=REMEDIES.default["zh"],
    verification_code="M2D8Q-X4J7N-0C5VR-T9K3W",
    verify_url="https://zcdx.gz.example/verify/M2D8Q-X4J7N-0C5VR-T9K3W",
)

DISBURSEMENT = replace(
    APPROVAL,
    kind="disbursement",
    doc_number="穗科〔2026〕14号",
    outcome="eligible",
    benefits=[
        BenefitLine("reward", "场景示范奖励", "Scenario demonstration award", Decimal("1409.50"), "money")
    ],
    reasons=["资金由市、区按1:1比例分担，拨付至企业基本存款账户。"],
    verification_code="P6T1B-8YH4F-Z3Q0S-5W7EA",
    verify_url="https://zcdx.gz.example/verify/P6T1B-8YH4F-Z3Q0S-5W7EA",
)

# A notice that corrects an earlier one, which it names by number, day and code, and says why.
CORRECTED_NOTICE = replace(
    DISBURSEMENT,
    supersedes_code="7KQ3H-9XW2M-C0V4D-RT8NB",
    supersedes_doc_number="穗科〔2026〕12号",
    supersedes_issued_on=date(2026, 11, 20),
    correction_reason="原通知所列资金分担比例有误。",
)
