"""Demo data for `make run`: six enterprises, their staff counterparts and ~20 cases in every stage.

Everything is made through the services, exactly as people would make it through the pages,
so the demo database is a valid one: audit chain intact, versions counted, letters rendered.
Cases are played out on a moving clock (`Portal.today_override`) so deadlines, an overdue
stage and a closed public notice arise the way they would over three weeks.

Seeding is idempotent: if the demo admin account exists, nothing is done. The one password
below is for this demo only and is printed when the demo starts; a real deployment creates
its accounts with `create_staff_user` and never calls this module.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from portal.city import split_fact
from portal.services import (
    applications,
    assignment,
    banks,
    consents,
    enterprises,
    experts,
    listings,
    payee,
    registration,
    verification,
)
from portal.services.access import actor_of, get_application_for
from portal.services.amendments import return_for_amendment
from portal.services.catalogue import catalogue_for
from portal.services.context import Portal
from portal.services.errors import NotFound
from portal.services.grants import set_granted_amount
from portal.services.loan_eligibility import check_eligibility
from portal.services.loans import register_loan
from portal.services.self_checks import record_self_check
from portal.services.sla import sweep
from portal.workflows import Actor, StateSpec, Workflow

# Whether the reviewers have brought a case to where the demo leaves it.
Arrived = Callable[[Workflow, StateSpec], bool]

DEMO_PASSWORD = "demo-2026-gz"  # noqa: S105 - documented demo-only password, printed by `portal serve --demo`
ADMIN_USERNAME = "admin"
DEMO_BANK, DEMO_BANK_NAME, DEMO_BANK_NAME_EN = "demo-bank", "广州示范合作银行", "Guangzhou Demo Partner Bank"
# Haizhu firms apply to the Haizhu bureau's AI measures; the others to the city's S&T SME rating.
SCENARIO, MODEL, ST_SME = "subsidy.ai_scenario_demo", "subsidy.model_filing", "qualification.st_sme"
PAID_SCENARIO_PROJECT = "市政设施病害视觉巡检应用示范项目"
# The procurement catalogue (市财政局) and the first-set award register (市工信局).
LISTING, FIRST_SET = "procurement.ai_product_listing", "procurement.first_set_reward"
BUREAU_OF = {
    SCENARIO: "hz_bureau_reviewer",
    MODEL: "hz_bureau_reviewer",
    ST_SME: "bureau_reviewer",
    LISTING: "procurement_reviewer",
    FIRST_SET: "miit_reviewer",
}
_BASE_FACTS = json.loads((Path(__file__).with_name("enterprise.json")).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class DemoEnterprise:
    key: str
    name: str
    region: str  # the 6-digit administrative division code inside the USCC
    serial: str  # 9 characters: organisation code body
    district: str
    track: str
    revenue: str


ENTERPRISES = (
    DemoEnterprise(
        "zhizao", "广州智造云工业智能有限公司", "440106", "MA5CXK1L0", "tianhe", "zao", "86000000"
    ),
    DemoEnterprise(
        "zhitong", "广州智瞳城市视觉科技有限公司", "440105", "MA5D7K2Q6", "haizhu", "cheng", "126000000"
    ),
    DemoEnterprise("chelian", "广州车联智行科技有限公司", "440106", "MA9W3T8R2", "tianhe", "che", "54000000"),
    DemoEnterprise(
        "jiankang", "广州健康智算医疗科技有限公司", "440105", "MA7P4N6H1", "haizhu", "jian", "41000000"
    ),
    DemoEnterprise(
        "huangpu", "广州黄埔机器人技术有限公司", "440112", "MA4B8D2F5", "huangpu", "zao", "73000000"
    ),
    DemoEnterprise(
        "nansha", "广州南沙港智能驾驶有限公司", "440115", "MA2G6J9K3", "nansha", "che", "38000000"
    ),
)


def demo_email(username: str) -> str:
    """A demo account's address, under the reserved `.invalid` domain: no real relay delivers it."""
    return f"{username}@demo.invalid"


def demo_uscc(item: DemoEnterprise) -> str:
    body = f"91{item.region}{item.serial}"
    return body + str(stdnum_uscc.calc_check_digit(body))


@dataclass
class SeedReport:
    """What the demo contains; `created` is False when the database was already seeded."""

    created: bool
    logins: list[tuple[str, str]] = field(default_factory=list)
    applications: int = 0
    bank_key: str | None = None  # the demo bank's API key: shown once, when it is made


def _pdf(name: str) -> bytes:
    """A minimal PDF: enough for the content check, and it opens in a viewer. Its name is in
    its bytes, since uploads are kept once per content: two documents of one firm with the same
    bytes would be one file filed twice."""
    return (
        b"%PDF-1.4\n%" + name.encode() + b"\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n%%EOF\n"
    )


def _xlsx(name: str) -> bytes:
    """A minimal workbook, its name in its bytes as `_pdf`'s."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.comment = name.encode()
    return buffer.getvalue()


class _Demo:
    """The seeding session: the portal, its clock and the actors made so far."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.start = portal.today() - dt.timedelta(days=21)
        self.companies: dict[str, Actor] = {}
        self.uscc: dict[str, str] = {}
        self.staff: dict[str, Actor] = {}
        self.facts: dict[str, dict[str, Any]] = {}
        self.measure_of: dict[int, str] = {}
        self.checked: set[str] = set()
        self.count = 0

    def on(self, day: int) -> None:
        """Set the services' clock to `day` days after the demo's start."""
        self.portal.today_override = self.start + dt.timedelta(days=day)

    def people(self) -> None:
        self.on(0)
        for item in ENTERPRISES:
            username = item.key
            enterprises.register_enterprise(
                self.portal,
                uscc=demo_uscc(item),
                name=item.name,
                district=item.district,
                username=username,
                password=DEMO_PASSWORD,
                display_name=f"{item.name[2:4]}申报专员",
                ai_track=item.track,
                verified=True,
                email=demo_email(username),
            )
            actor = enterprises.actor_for_username(self.portal, username)
            self.companies[item.key], self.uscc[item.key] = actor, demo_uscc(item)
            facts: dict[str, dict[str, Any]] = json.loads(json.dumps(_BASE_FACTS))
            facts["enterprise"].update(
                uscc=demo_uscc(item),
                name=item.name,
                district=item.district,
                ai_track=item.track,
                revenue=item.revenue,
                model_filed=item.district == "haizhu",
            )
            facts.pop("loan", None)
            self.facts[item.key] = facts
            row = enterprises.save_profile(self.portal, actor, facts, None)
            enterprises.confirm_profile(self.portal, actor, row.version)
            # A fictional account (bank code 6217, the USCC's digits): approved grants are paid here.
            number = "6217" + "".join(ch for ch in demo_uscc(item) if ch.isdigit())[:12]
            payee.set_account(self.portal, actor, f"中国银行广州{item.name[2:4]}支行", number)
        staff = (
            ("tianhe_reviewer", "reviewer", "tianhe", None, None, "天河区初审员"),
            ("tianhe_head", "reviewer", "tianhe", None, None, "天河区审核科负责人"),
            ("haizhu_reviewer", "reviewer", "haizhu", None, None, "海珠区初审员"),
            # Every demo enterprise's district has a reviewer, so no demo case waits for nobody.
            ("huangpu_reviewer", "reviewer", "huangpu", None, None, "黄埔区初审员"),
            ("nansha_reviewer", "reviewer", "nansha", None, None, "南沙区初审员"),
            ("bureau_reviewer", "reviewer", None, "gzsti", None, "市科技局复核员"),
            ("hz_bureau_reviewer", "reviewer", None, "hzkgxj", None, "海珠区科工商信局复核员"),
            ("procurement_reviewer", "reviewer", None, "gzczj", None, "市财政局复核员（政府采购目录）"),
            ("miit_reviewer", "reviewer", None, "gzmiit", None, "市工信局复核员（首台套）"),
            ("expert_li", "expert", None, None, None, "李专家"),
            ("expert_wang", "expert", None, None, None, "王专家"),
            # Employed by 健康智算 (her declared employer, data): the conflict-of-interest check
            # refuses her on its cases.
            ("expert_chen", "expert", None, None, self.uscc["jiankang"], "陈专家"),
            # On no demo panel: with one expert conflicted and one late, the bureau still has someone.
            ("expert_zhao", "expert", None, None, None, "赵专家"),
            ("expert_zhou", "expert", None, None, None, "周专家"),
            ("supervisor", "supervisor", None, None, None, "市监管评估人员"),
            ("tianhe_supervisor", "supervisor", "tianhe", None, None, "天河区监管评估人员"),
            (ADMIN_USERNAME, "admin", None, None, None, "平台管理员"),
        )
        for username, role, district, bureau, employer, label in staff:
            enterprises.create_staff_user(
                self.portal,
                None,
                username=username,
                password=DEMO_PASSWORD,
                display_name=label,
                role=role,
                district=district,
                bureau=bureau,
                employer=employer,
                email=demo_email(username),
            )
            self.staff[username] = enterprises.actor_for_username(self.portal, username)
        head = self.staff["tianhe_head"]
        assignment.set_unit_head(self.portal, self.staff[ADMIN_USERNAME], head.user_id, True)

    # -- one case, step by step -------------------------------------------------------------

    def draft(
        self,
        company: str,
        measure: str,
        day: int,
        product: dict[str, Any] | None = None,
        project: str | None = None,
    ) -> int:
        self.on(day)
        actor = self.companies[company]
        if company not in self.checked:  # each firm ran the policy calculator before its first case
            self.checked.add(company)
            record_self_check(self.portal, actor, catalogue_for(self.portal, actor, "zh").check)
        application = applications.create_draft(self.portal, actor, measure)
        assert application.id is not None
        self.count += 1
        self.measure_of[application.id] = measure
        version = application.version
        for slot, data, kind, name in self._files(measure):
            stored = applications.store_attachment(
                self.portal, actor, data, content_type=kind, original_name=name
            )
            assert stored.id is not None
            version = applications.attach(
                self.portal, actor, application.id, slot, stored.id, version
            ).version
        answers = self._answers(company, measure, product, project)
        applications.save_draft(self.portal, actor, application.id, answers, version)
        return application.id

    def _files(self, measure: str) -> list[tuple[str, bytes, str, str]]:
        """(slot, bytes, content type, file name) of each document the clerk uploads."""
        named = {
            SCENARIO: [("investment_evidence", "投资合同.pdf"), ("budget_sheet", "投资明细表.xlsx")],
            MODEL: [("filing_notice", "备案通知.pdf")],
            LISTING: [
                ("product_brochure", "产品白皮书.pdf"),
                ("patent_certificate", "发明专利证书.pdf"),
                ("sales_evidence", "销售合同.pdf"),
            ],
            FIRST_SET: [("sales_contract", "首台套销售合同.pdf"), ("invoice", "销售发票.pdf")],
        }.get(measure, [("financial_statements", "2025年度财务报表.xlsx")])
        xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return [
            (slot, _xlsx(name), xlsx, name)
            if name.endswith(".xlsx")
            else (slot, _pdf(name), "application/pdf", name)
            for slot, name in named
        ]

    def _answers(
        self, company: str, measure: str, product: dict[str, Any] | None = None, project: str | None = None
    ) -> dict[str, Any]:
        """What the clerk would type: the form's profile prefill plus the measure's own answers;
        `project` names a scenario project other than the firm's usual one."""
        item = next(e for e in ENTERPRISES if e.key == company)
        answers = {
            **self.portal.forms[measure].prefill(self.facts[company]),
            "contact_person": "张敏",
            "contact_phone": "13800138000",
            **(product or {}),
        }
        if measure in (LISTING, FIRST_SET):
            return answers
        if measure == SCENARIO:
            answers.update(
                project_name=project or f"{item.name[2:6]}人工智能应用示范",
                track=item.track,
                start_on="2025-03-01",
                end_on="2026-02-28",
                requested_amount="3000000.00",
                summary="本项目在广州市内落地人工智能应用场景，覆盖数据采集、模型训练与部署运维，"
                "已在多个区级单位试点运行，示范效果良好，具备在全市推广的条件。",
            )
        elif measure == MODEL:
            answers.update(
                model_name=f"{item.name[2:4]}大模型",
                filing_number=f"Guangdong-{item.key}-2025",
                filed_on="2025-06-30",
                service_kind="multimodal",
                users=12000,
            )
        else:
            answers.update(not_restricted=True)
        return answers

    def submit(self, company: str, application_id: int, day: int) -> None:
        self.on(day)
        actor = self.companies[company]
        applications.submit(self.portal, actor, application_id, self._current(application_id, actor))

    def _current(self, application_id: int, actor: Actor) -> int:
        return get_application_for(self.portal, actor, application_id).version

    def act(self, who: str, application_id: int, event: str, day: int, comment: str | None = None) -> None:
        self.on(day)
        actor = self.staff[who]
        version = self._current(application_id, actor)
        if event == "return_for_amendment":
            return_for_amendment(
                self.portal,
                actor,
                application_id,
                sections=["budget"] if comment and "预算" in comment else [],
                comment=comment,
                expected_version=version,
            )
        else:
            applications.transition(self.portal, actor, application_id, event, comment, version)

    def resubmit(self, company: str, application_id: int, day: int, changes: dict[str, Any]) -> None:
        self.on(day)
        actor = self.companies[company]
        answers = {**self._answers(company, self._measure(application_id, actor)), **changes}
        version = applications.save_draft(
            self.portal, actor, application_id, answers, self._current(application_id, actor)
        ).version
        applications.submit(self.portal, actor, application_id, version)

    def _measure(self, application_id: int, actor: Actor) -> str:
        return get_application_for(self.portal, actor, application_id).measure_id

    def grant(self, application_id: int, amount: Decimal, reason: str) -> None:
        actor = self.staff[self.bureau(application_id)]
        version = self._current(application_id, actor)
        set_granted_amount(self.portal, actor, application_id, amount, reason, version)

    def bureau(self, application_id: int) -> str:
        return BUREAU_OF[self.measure_of[application_id]]

    def forward(self, application_id: int, district: str, day: int, until: Arrived, step: int = 2) -> None:
        """The reviewers pass the case on, a move every `step` days from `day`, until `until` holds.

        Each move is the reviewers' primary edge out of the stage, read off the workflow, so a
        stage added to the pack is walked through here with no edit. `district` reviews where
        the edge's jurisdiction is the district; the measure's lead unit everywhere else.
        """
        bureau = self.staff[self.bureau(application_id)]
        while True:
            application = get_application_for(self.portal, bureau, application_id)
            workflow = self.portal.workflows[application.workflow]
            stage = workflow.state(application.state)
            if until(workflow, stage):
                return
            edge = next(
                edge
                for edge in workflow.transitions_from(stage.name)
                if edge.style == "primary" and "reviewer" in edge.roles and edge.target != edge.source
            )
            who = district if edge.jurisdiction == "district" else self.bureau(application_id)
            comment = PASSED.get(stage.responsible or "") if stage.kind == "review" else None
            self.act(who, application_id, edge.event, day, comment)
            day += step

    def panel(self, application_id: int, day: int, names: list[str], scores: list[int]) -> None:
        """Assign `names` as experts; the first len(scores) of them declare and score."""
        self.on(day)
        bureau = self.staff[self.bureau(application_id)]
        rubric = self.portal.rubric_for(self.measure_of[application_id])
        for name in names:
            expert = self.staff[name]
            experts.assign_expert(
                self.portal, bureau, application_id, expert.user_id, self._current(application_id, bureau)
            )
        for name, total in zip(names, scores, strict=False):
            expert = self.staff[name]
            experts.declare(
                self.portal,
                expert,
                application_id,
                "本人与申报单位不存在利益冲突。",
                self._current(application_id, expert),
            )
            marks = {c.id: Decimal(total) for c in rubric.criteria}
            experts.score(self.portal, expert, application_id, marks, self._current(application_id, expert))


# What a reviewer writes on passing a case on, by who is responsible for the stage.
PASSED = {"district": "材料齐全，符合申报条件。", "bureau": "复核通过，提交专家评审。"}


def _in_review(workflow: Workflow, stage: StateSpec) -> bool:
    return stage.kind == "review"


def _in_bureau_review(workflow: Workflow, stage: StateSpec) -> bool:
    """The bureau's last review: the stage that passes the case to the experts."""
    onward = (workflow.state(edge.target).kind for edge in workflow.transitions_from(stage.name))
    return stage.kind == "review" and stage.responsible == "bureau" and "expert" in onward


def _with_experts(workflow: Workflow, stage: StateSpec) -> bool:
    return stage.kind == "expert"


def _play_cases(demo: _Demo) -> None:
    """Twenty cases; each line is one case's life so far (days count from three weeks ago)."""
    district = {"tianhe": "tianhe_reviewer", "haizhu": "haizhu_reviewer"}
    home = {e.key: e.district for e in ENTERPRISES}
    panel = ["expert_li", "expert_wang", "expert_chen"]

    def to_district_review(company: str, measure: str, day: int, project: str | None = None) -> int:
        case = demo.draft(company, measure, day, project=project)
        demo.submit(company, case, day)
        demo.forward(case, district[home[company]], day + 1, _in_review)
        return case

    def to_bureau(company: str, measure: str, day: int, project: str | None = None) -> int:
        case = to_district_review(company, measure, day, project)
        demo.forward(case, district[home[company]], day + 3, _in_bureau_review)
        return case

    def to_experts(company: str, measure: str, day: int, project: str | None = None) -> int:
        case = to_bureau(company, measure, day, project)
        demo.forward(case, district[home[company]], day + 5, _with_experts)
        return case

    def to_notice(
        company: str,
        measure: str,
        day: int,
        grant: tuple[Decimal, str] | None = None,
        project: str | None = None,
    ) -> int:
        case = to_experts(company, measure, day, project)
        if grant is not None:  # set during review: the notice shows it and it stands from then on
            demo.grant(case, *grant)
        # The third passing score moves the case to public notice by itself.
        demo.panel(case, day + 6, panel, [82, 78, 75])
        return case

    demo.draft("huangpu", ST_SME, 18)
    demo.draft("zhitong", MODEL, 19)
    demo.submit("huangpu", demo.draft("huangpu", ST_SME, 20), 20)
    demo.submit("nansha", demo.draft("nansha", ST_SME, 21), 21)
    demo.submit("zhizao", demo.draft("zhizao", ST_SME, 20), 20)
    to_district_review("zhitong", SCENARIO, 17)
    # Accepted three weeks ago and never reviewed since: the overdue case.
    to_district_review("chelian", ST_SME, 0)
    case = to_district_review("jiankang", SCENARIO, 10)
    demo.act(
        "haizhu_reviewer",
        case,
        "return_for_amendment",
        13,
        "预算部分：请补充投资明细表中设备采购的合同编号。",
    )
    _amended(demo, to_district_review("zhitong", MODEL, 4))
    to_bureau("zhizao", ST_SME, 12)
    case = to_bureau("jiankang", MODEL, 9)
    demo.act(demo.bureau(case), case, "return_for_amendment", 14, "请补充备案公告截图的清晰版本。")
    demo.panel(to_experts("chelian", ST_SME, 8), 14, panel, [80])
    # 陈专家 works for 健康智算, so this panel has two experts and one of them has scored.
    demo.panel(to_experts("jiankang", SCENARIO, 1), 8, panel[:2], [76])
    # The rule's 100万 is a cap: the bureau grants less, with its reason, before the notice.
    case = to_notice("zhitong", MODEL, 0, (Decimal("800000.00"), "按备案奖励年度预算及同批次申报数量核定。"))
    _approved(demo, case)
    # 智瞳's earlier, paid project: another project than the one on notice now, so the public
    # lists do not read as a second grant for the same project.
    case = _approved(demo, to_notice("zhitong", SCENARIO, 1, project=PAID_SCENARIO_PROJECT))
    demo.act(demo.bureau(case), case, "disburse", 20, "资金已拨付。")
    # Opened after the two above (day 15), so it takes the next notice number, as it would live.
    to_notice("zhitong", SCENARIO, 9)
    case = to_district_review("chelian", ST_SME, 5)
    demo.act("tianhe_reviewer", case, "reject", 8, "科技人员占比不足，不符合评价条件。")
    case = to_bureau("zhitong", MODEL, 3)
    demo.act(demo.bureau(case), case, "reject", 9, "该模型已获同类奖励，不得重复申报。")
    _withdrawn(demo, "jiankang", to_district_review("jiankang", MODEL, 11), 12)
    _withdrawn(demo, "nansha", demo.draft("nansha", ST_SME, 6), 7)


# The procurement catalogue's products: (company, name, kind, track, summary, specifications).
_PRODUCTS = {
    "vision": ("zhitong", "智瞳城市视觉巡检平台", "platform", "cheng",
               "面向城市道路、桥梁与市政设施的视觉巡检平台，自动识别病害并派发工单。",
               "病害识别准确率 ≥ 98%\n单路视频分析延迟 ≤ 200 毫秒\n支持 2,000 路视频并发"),
    "traffic": ("zhitong", "智瞳交通违法行为智能识别系统", "product", "cheng",
                "路口视频中的闯红灯、不礼让行人等交通违法行为自动识别与取证系统。",
                "识别准确率 ≥ 96%\n取证图片符合 GA/T 832 要求"),
    "inspection": ("zhizao", "智造云AI视觉质检成套装备", "product", "zao",
                   "用于电子元器件产线的AI视觉质检成套装备，替代人工目检。",
                   "检测速度 ≥ 1,200 件/分钟\n漏检率 ≤ 0.05%"),
    "maintenance": ("zhizao", "智造云设备预测性维护平台", "technology", "zao",
                    "基于振动与电流信号的工业设备故障预测与健康管理技术。",
                    "故障提前预警 ≥ 72 小时\n支持 Modbus、OPC UA 接入"),
    "v2x": ("chelian", "车联智行车路协同云控平台", "platform", "che",
            "面向智能网联汽车测试区的车路协同云控平台，汇聚路侧感知并下发协同信息。",
            "端到端时延 ≤ 100 毫秒\n支持 C-V2X PC5 与 Uu 接口"),
}  # fmt: skip


def _product(key: str) -> tuple[str, dict[str, Any]]:
    company, name, kind, track, summary, specs = _PRODUCTS[key]
    answers = {
        "product_name": name,
        "product_kind": kind,
        "track": track,
        "summary": summary,
        "specifications": specs,
        "is_ai_product": True,
        "manufacturer_in_guangzhou": True,
        "mass_produced": True,
        "invention_patent": True,
        "patent_number": "ZL202110345678.9",
        "self_reliance_rate": Decimal("0.82"),
    }
    return company, answers


def _play_listings(demo: _Demo) -> None:
    """The procurement catalogue in every status, and a first-set award of a listed product.

    Played before the other cases, from the oldest: listings approved three years ago expire
    or come up for renewal by today, which the final sweep turns into an expiry and a reminder.
    """
    district = {"tianhe": "tianhe_reviewer", "haizhu": "haizhu_reviewer"}
    home = {e.key: e.district for e in ENTERPRISES}
    panel = ["expert_li", "expert_wang", "expert_chen"]
    today = demo.start + dt.timedelta(days=21)

    def approved(company: str, measure: str, product: dict[str, Any], on: dt.date) -> int:
        """Drafted on `on` and approved when the notice closes thirteen days later."""
        day = (on - demo.start).days
        case = demo.draft(company, measure, day, product)
        demo.submit(company, case, day)
        demo.forward(case, district[home[company]], day + 1, _with_experts, step=1)
        demo.panel(case, day + 5, panel, [84, 80, 78])
        return _approved(demo, case)

    three_years = dt.timedelta(days=3 * 365)
    # Expired 20 days ago; due for renewal in 45 days (the enterprise is reminded at 60).
    company, product = _product("maintenance")
    approved(company, LISTING, product, today - three_years - dt.timedelta(days=33))
    company, product = _product("traffic")
    approved(company, LISTING, product, today - three_years + dt.timedelta(days=32))
    company, product = _product("inspection")
    approved(company, LISTING, product, dt.date(2025, 2, 10))
    # The same equipment won the first-set award this year; the reward was paid.
    first_set = {
        "product_name": product["product_name"],
        "kind": "complete_set",
        "unit_price": Decimal("6800000"),
        "invention_patent": True,
        "buyer_name": "广州市某电子制造有限公司",
        "buyer_uscc": demo.uscc["huangpu"],
        "contract_on": "2025-09-18",
    }
    case = approved(company, FIRST_SET, first_set, today - dt.timedelta(days=60))
    demo.act("miit_reviewer", case, "disburse", -20, "奖励资金已拨付。")
    company, product = _product("v2x")
    case = approved(company, LISTING, product, dt.date(2025, 5, 12))
    entry = listings.entry_of_application(demo.portal, case)
    demo.on(15)
    listings.act_on(
        demo.portal,
        demo.staff["procurement_reviewer"],
        int(entry.id or 0),
        "suspend",
        "用户投诉路侧感知数据延迟超过承诺指标，经抽查属实，责令限期整改。",
        entry.version,
    )
    company, product = _product("vision")
    approved(company, LISTING, product, demo.start)


def _amended(demo: _Demo, case: int) -> int:
    """Returned once for amendment, corrected and resubmitted, then passed: two answer versions."""
    demo.act("haizhu_reviewer", case, "return_for_amendment", 6, "请更正联系电话并补充用户规模。")
    demo.resubmit("zhitong", case, 8, {"contact_phone": "020-38880000", "users": 56000})
    demo.forward(case, "haizhu_reviewer", 10, _in_bureau_review)
    return case


def _approved(demo: _Demo, case: int) -> int:
    """Close the public notice the way production does: the SLA sweep after seven calendar days."""
    entered = demo.portal.today()
    demo.portal.today_override = entered + dt.timedelta(days=8)
    sweep(demo.portal)
    return case


def _withdrawn(demo: _Demo, company: str, case: int, day: int) -> int:
    demo.on(day)
    actor = demo.companies[company]
    applications.withdraw(demo.portal, actor, case, demo._current(case, actor), "企业决定暂缓申报。")
    return case


NEWCOMER = DemoEnterprise(
    "newcomer", "广州新来智能科技有限公司", "440105", "MA5CXN7P2", "haizhu", "cheng", "0"
)


def _play_identity(demo: _Demo) -> None:
    """A newcomer whose papers wait for the Haizhu reviewer, and a second person's claim to 智瞳."""
    portal = demo.portal
    demo.on(20)
    _, user = enterprises.register_enterprise(
        portal,
        uscc=demo_uscc(NEWCOMER),
        name=NEWCOMER.name,
        district=NEWCOMER.district,
        ai_track=NEWCOMER.track,
        username=NEWCOMER.key,
        password=DEMO_PASSWORD,
        display_name="新来申报专员",
        email=demo_email(NEWCOMER.key),
    )
    papers = [
        verification.Upload(_pdf(name), "application/pdf", name) for name in ("营业执照.pdf", "授权书.pdf")
    ]
    verification.request_verification(portal, actor_of(user), *papers)
    registration.register(
        portal,
        registration.Registration(
            uscc=demo.uscc["zhitong"],
            name="广州智瞳城市视觉科技有限公司",
            district="haizhu",
            username="zhitong_second",
            display_name="智通新来的经办人",
            email=demo_email("zhitong_second"),
            password=DEMO_PASSWORD,
            password2=DEMO_PASSWORD,
        ),
    )


def _play_bank(demo: _Demo) -> str:
    """A partner bank (一链一行) with a key: 智瞳 consents, the bank checks it and books a loan.

    The bank's figures on the supervision dashboard then have records behind them, and the key
    (printed once, like any new key) lets a newcomer try the bank API against the demo.
    """
    portal = demo.portal
    demo.on(12)
    banks.add_bank(portal, name=DEMO_BANK_NAME, name_en=DEMO_BANK_NAME_EN, code=DEMO_BANK)
    issued = banks.issue_key(portal, DEMO_BANK)
    caller = banks.authenticate(portal, issued.key)
    if caller is None:
        raise RuntimeError("the demo bank's new key was refused")
    product = next(iter(portal.city.banking.products))
    company = next(e for e in ENTERPRISES if e.key == "zhitong")
    consents.grant_consent(portal, demo.companies[company.key], bank_code=DEMO_BANK, products=[product])
    entity, partner = split_fact(portal.city.banking.partner_fact)  # the portal supplies it
    terms = {k: v for k, v in _BASE_FACTS[entity].items() if k != partner}
    answer = check_eligibility(portal, caller, uscc=demo_uscc(company), product=product, loan=terms)
    if answer.outcome == "eligible":
        register_loan(
            portal,
            caller,
            uscc=demo_uscc(company),
            product=product,
            amount=Decimal(str(terms["amount"])),
            granted_on=portal.today(),
            term_months=int(terms["term_months"]),
            query_id=answer.query_id,
        )
    return issued.key


def seed_demo(portal: Portal) -> SeedReport:
    """Create the demo data unless it is there already; the clock is restored afterwards."""
    try:
        enterprises.actor_for_username(portal, ADMIN_USERNAME)
    except NotFound:
        pass
    else:
        return SeedReport(created=False, logins=demo_logins(portal))
    saved_clock = portal.today_override
    demo = _Demo(portal)
    try:
        demo.people()
        _play_listings(demo)
        _play_cases(demo)
        _play_identity(demo)
        bank_key = _play_bank(demo)
        # Today's sweep marks the forgotten case overdue and tells the bureau, as cron would.
        portal.today_override = saved_clock
        sweep(portal)
    finally:
        portal.today_override = saved_clock
    return SeedReport(created=True, logins=demo_logins(portal), applications=demo.count, bank_key=bank_key)


def demo_logins(portal: Portal) -> list[tuple[str, str]]:
    """Every demo account with a short description, in the order they are printed."""
    district = portal.city.jurisdictions.label
    people = [(e.key, f"企业 {e.name}（{district(e.district, 'zh')}）") for e in ENTERPRISES]
    people.append((NEWCOMER.key, f"企业 {NEWCOMER.name}（{district(NEWCOMER.district, 'zh')}，身份待核验）"))
    staff = [
        ("tianhe_reviewer", "天河区初审员"),
        ("tianhe_head", "天河区审核科负责人（可批量转交案件）"),
        ("haizhu_reviewer", "海珠区初审员"),
        ("huangpu_reviewer", "黄埔区初审员"),
        ("nansha_reviewer", "南沙区初审员"),
        ("bureau_reviewer", "市科技局复核员"),
        ("hz_bureau_reviewer", "海珠区科工商信局复核员"),
        ("procurement_reviewer", "市财政局复核员（政府采购目录）"),
        ("miit_reviewer", "市工信局复核员（首台套）"),
        ("expert_li", "李专家"),
        ("expert_wang", "王专家"),
        ("expert_chen", "陈专家（受雇于健康智算，回避其案件）"),
        ("expert_zhao", "赵专家（未参加任何评审组，可指派）"),
        ("expert_zhou", "周专家（未参加任何评审组，可指派）"),
        ("supervisor", "市监管评估人员（全市，只读）"),
        ("tianhe_supervisor", "天河区监管评估人员（只读）"),
        (ADMIN_USERNAME, "平台管理员"),
    ]
    return people + staff
