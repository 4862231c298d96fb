"""The cast of a services test and a driver that takes a case to any stage through the services.

A cast is one pack's people and one measure of it: two enterprises in two districts, a reviewer
for each district and unit, five experts (one conflicted) and an admin. The Guangzhou cast runs
the tests of Guangzhou's policy; the fictional Lakeside pack (tests/packs/lakeside) has a cast
too, so a test of engine behaviour runs over both packs (`@pytest.mark.parametrize("cast",
CASTS, indirect=True)`) and asks the world for its reviewers by their part, never by name.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from portal.db.tables import Application, AuditEvent, ExpertConflict, Transition
from portal.services import applications, enterprises, experts
from portal.services.access import actor_of
from portal.services.context import Portal
from portal.workflows import Actor, StateSpec
from portal.workflows.rubric import Rubric
from tests.support.workflow_paths import Target, find_path, is_unfavourable, kind

PASSWORD = "correct horse battery"
USCC_A = "91350100M000100Y43"
MEASURE = "subsidy.compute_voucher"  # municipal workflow, lead unit gzdev, applied for online
# What the clerk types into the compute-voucher form beyond the profile's prefill.
VOUCHER_ANSWERS = {
    "contact_person": "张工",
    "contact_phone": "13800138000",
    "platform_name": "广州人工智能公共算力中心",
    "contract_number": "GZAI-2025-001",
}
PDF = b"%PDF-1.4\n%%EOF\n"
ELIGIBLE_FACTS = {
    "enterprise": {
        "district": "tianhe",
        "ai_rd_expense": "30000000",
        "ai_revenue": "50000000",
        "certified_ai_staff": 80,
        "compute_purchase": "10000000",
        "is_small_micro": True,
    },
    "loan": {"amount": "3000000", "government_guarantee": True},
}
GOOD_SCORES = {"technology": 80, "application": 80, "team": 80, "benefit": 80, "feasibility": 80}
LOW_SCORES = {"technology": 50, "application": 50, "team": 50, "benefit": 50, "feasibility": 50}


@dataclass(frozen=True)
class Cast:
    """What a pack's services tests need: one measure, two districts, the units, eligible facts.

    `units[0]` is the measure's lead unit; the others are units with no say in its cases.
    `facts` are eligible facts without the district, which `build_world` sets per enterprise.
    """

    key: str
    pack_dir: Path | None
    measure: str
    districts: tuple[str, str]
    units: tuple[str, ...]
    names: tuple[str, str]
    facts: dict[str, dict[str, object]]
    answers: dict[str, str]

    def reviewer(self, scope: str) -> str:
        """The username of the reviewer of a district or unit."""
        return f"rev_{scope}"


GUANGZHOU = Cast(
    key="guangzhou",
    pack_dir=None,
    measure=MEASURE,
    districts=("tianhe", "haizhu"),
    units=("gzdev", "gzfin", "gzsti"),
    names=("广州智算科技有限公司", "海珠模型科技有限公司"),
    facts={
        "enterprise": {k: v for k, v in ELIGIBLE_FACTS["enterprise"].items() if k != "district"},
        "loan": ELIGIBLE_FACTS["loan"],
    },
    answers=VOUCHER_ANSWERS,
)
LAKESIDE = Cast(
    key="lakeside",
    pack_dir=Path(__file__).parents[1] / "packs" / "lakeside",
    measure="grant.green_upgrade",
    districts=("north_shore", "south_shore"),
    units=("lkedb", "lkfin"),
    names=("湖滨绿色科技有限公司", "南岸数字服务有限公司"),
    facts={
        "enterprise": {
            "sector": "green",
            "headcount": 40,
            "small_firm": True,
            "upgrade_spend": "1000000",
            "energy_saving": "0.2",
        }
    },
    answers={"contact_person": "李四"},
)
CASTS = [GUANGZHOU, LAKESIDE]


def rubric_scores(rubric: Rubric, mark: int) -> dict[str, Decimal]:
    """The same mark on every criterion of a rubric."""
    return {criterion.id: Decimal(mark) for criterion in rubric.criteria}


def valid_uscc_b() -> str:
    """A second valid USCC: compute the check character of a fixed 17-character body."""
    from stdnum.cn import uscc

    body = "91440101MA5CXXXX0"
    return body + uscc.calc_check_digit(body)


@dataclass
class World:
    cast: Cast = GUANGZHOU
    actors: dict[str, Actor] = field(default_factory=dict)
    enterprise_ids: dict[str, int] = field(default_factory=dict)

    @property
    def home_reviewer(self) -> str:
        """The reviewer of enterprise a's district."""
        return self.cast.reviewer(self.cast.districts[0])

    @property
    def away_reviewer(self) -> str:
        """The reviewer of the other district, who has no say in enterprise a's cases."""
        return self.cast.reviewer(self.cast.districts[1])

    @property
    def bureau(self) -> str:
        """The reviewer of the measure's lead unit."""
        return self.cast.reviewer(self.cast.units[0])

    @property
    def other_bureau(self) -> str:
        """The reviewer of a unit that does not lead the measure."""
        return self.cast.reviewer(self.cast.units[-1])

    def district_reviewer(self, owner: str) -> str:
        return self.home_reviewer if owner == "ent_a" else self.away_reviewer


def build_world(portal: Portal, cast: Cast = GUANGZHOU) -> World:
    """Two enterprises in two districts, reviewers for each scope, four experts (one conflicted), an admin."""
    world = World(cast=cast)
    district_fact = portal.city.jurisdictions.fact.partition(".")[2]
    for key, uscc, district, name in (
        ("a", USCC_A, cast.districts[0], cast.names[0]),
        ("b", valid_uscc_b(), cast.districts[1], cast.names[1]),
    ):
        enterprise, user = enterprises.register_enterprise(
            portal,
            uscc=uscc,
            name=name,
            district=district,
            username=f"ent_{key}",
            password=PASSWORD,
            display_name=f"企业{key}",
            email=f"ent_{key}@example.test",
            verified=True,
        )
        actor = actor_of(user)
        world.actors[f"ent_{key}"] = actor
        world.enterprise_ids[key] = int(enterprise.id or 0)
        facts = {**cast.facts, "enterprise": {**cast.facts["enterprise"], district_fact: district}}
        profile = enterprises.save_profile(portal, actor, facts, None)
        enterprises.confirm_profile(portal, actor, profile.version)
    lead, *others = cast.units
    staff = [
        *((cast.reviewer(d), "reviewer", {"district": d}) for d in cast.districts),
        (cast.reviewer(lead), "reviewer", {"bureau": lead, "email": f"{lead}@example.test"}),
        *((cast.reviewer(unit), "reviewer", {"bureau": unit}) for unit in others),
        ("expert1", "expert", {}),
        ("expert2", "expert", {}),
        ("expert3", "expert", {}),
        ("expert4", "expert", {}),
        ("expert5", "expert", {}),
        ("expert_same_employer", "expert", {"employer": USCC_A}),
        ("admin", "admin", {"email": "admin@example.test"}),
    ]
    for username, role, extra in staff:
        user = enterprises.create_staff_user(
            portal, None, username=username, password=PASSWORD, display_name=username, role=role, **extra
        )
        world.actors[username] = actor_of(user)
    with portal.transaction() as session:
        session.add(
            ExpertConflict(
                expert_id=world.actors["expert4"].user_id,
                enterprise_id=world.enterprise_ids["a"],
                note="前雇主",
            )
        )
    return world


def state_of(portal: Portal, application_id: int) -> tuple[str, int]:
    with portal.reading() as session:
        row = session.get(Application, application_id)
        assert row is not None
        return row.state, row.version


def counts(portal: Portal, application_id: int) -> tuple[str, int, int, int]:
    """(state, version, audit rows, transition rows): what must not move when something is refused."""
    with portal.reading() as session:
        row = session.get(Application, application_id)
        assert row is not None
        audits = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        transitions = session.execute(
            select(func.count()).select_from(Transition).where(Transition.application_id == application_id)
        ).scalar_one()
        return row.state, row.version, int(audits), int(transitions)


class Driver:
    """Moves one application along the default workflow through the real services."""

    def __init__(
        self,
        portal: Portal,
        world: World,
        measure: str | None = None,
        owner: str = "ent_a",
        bureau: str | None = None,
    ) -> None:
        self.portal = portal
        self.world = world
        self.owner = owner
        self.bureau = bureau or world.bureau
        chosen = measure or world.cast.measure
        self.app_id = int(applications.create_draft(portal, world.actors[owner], chosen).id or 0)
        self.fill_in()

    def fill_in(self) -> None:
        """Save the form's answers (prefilled from the profile) and a PDF in every required slot."""
        actor = self.actor(self.owner)
        measure = self.measure
        form = self.portal.forms[measure]
        profile = enterprises.latest_profile(self.portal, actor)
        assert profile is not None
        facts = {**profile.facts, "enterprise": {**profile.facts.get("enterprise", {}), **self.identity()}}
        answers = {
            **form.prefill(facts),
            **(self.world.cast.answers if measure == self.world.cast.measure else {}),
        }
        for slot in form.attachments.values():
            if slot.required:
                stored = applications.store_attachment(
                    self.portal,
                    actor,
                    PDF + slot.id.encode(),
                    content_type="application/pdf",
                    original_name=f"{slot.id}.pdf",
                )
                applications.attach(
                    self.portal, actor, self.app_id, slot.id, int(stored.id or 0), self.version
                )
        applications.save_draft(self.portal, actor, self.app_id, answers, self.version)

    def answers(self, **changes: object) -> dict[str, object]:
        """The latest stored answers with `changes` applied, as an amendment would post them."""
        latest = applications.answer_versions(self.portal, self.actor(self.owner), self.app_id)[-1]
        return {**latest.answers, **changes}

    @property
    def measure(self) -> str:
        with self.portal.reading() as session:
            row = session.get(Application, self.app_id)
            assert row is not None
            return row.measure_id

    @property
    def rubric(self) -> Rubric:
        """The rubric the case's experts score on: its measure's."""
        return self.portal.rubric_for(self.measure)

    def identity(self) -> dict[str, str]:
        """The registered name and code, which the form's locked fields must carry."""
        from portal.db.tables import Enterprise

        with self.portal.reading() as session:
            row = session.get(Enterprise, self.world.enterprise_ids[self.owner.removeprefix("ent_")])
            assert row is not None
            return {"name": row.name, "uscc": row.uscc, "district": row.district}

    def actor(self, name: str) -> Actor:
        return self.world.actors[name]

    @property
    def version(self) -> int:
        return state_of(self.portal, self.app_id)[1]

    @property
    def state(self) -> str:
        return state_of(self.portal, self.app_id)[0]

    def submit(self) -> None:
        applications.submit(self.portal, self.actor(self.owner), self.app_id, self.version)

    def fire(self, who: str, event: str, comment: str | None = None) -> None:
        applications.transition(self.portal, self.actor(who), self.app_id, event, comment, self.version)

    @property
    def district_reviewer(self) -> str:
        return self.world.district_reviewer(self.owner)

    def advance_to(self, goal: Target) -> "Driver":
        """Take the case along the workflow's favourable path to `goal`, each step by its party.

        The events come from the workflow definition (tests/support/workflow_paths.py), so a
        stage added to the pack joins every test that uses the driver with no edit here.
        """
        from portal.services import sla

        with self.portal.reading() as session:
            row = session.get(Application, self.app_id)
            assert row is not None
            workflow = self.portal.workflows[row.workflow]
        path = find_path(workflow, self.state, goal, avoid=lambda edge: is_unfavourable(workflow, edge))
        for step in path:
            if workflow.state(step.source).kind == "expert":
                self.panel()  # the passing score moves the case on by itself (pass_mark_reached)
            elif step.party == "system":
                before = self.portal.today_override
                assert before is not None
                self.portal.today_override = before + timedelta(days=7)
                sla.sweep(self.portal)
                self.portal.today_override = before
            elif step.party == "enterprise":
                self.submit()
            else:
                who = self.district_reviewer if step.party == "district" else self.bureau
                self.fire(who, step.event, "同意" if step.comment_required else None)
            if self.state != step.target:
                # A routed edge (`when:`) chose its sibling: a status-only case closes at approval.
                assert step.edge.when is not None, (step, self.state)
                break
        return self

    def to_district_review(self) -> "Driver":
        return self.advance_to(_first_review)

    def to_bureau_review(self) -> "Driver":
        return self.advance_to(_bureau_review)

    def to_expert_review(self) -> "Driver":
        return self.advance_to(kind("expert"))

    def panel(
        self,
        scores: dict[str, int] | None = None,
        experts_: tuple[str, ...] | None = None,
    ) -> None:
        """The experts are assigned, declare and score (80 on every criterion unless `scores`).

        By default the rubric's minimum of experts sit, so the last score decides the panel.
        """
        if experts_ is None:
            experts_ = ("expert1", "expert2", "expert3", "expert5")[: self.rubric.min_scores]
        marks = (
            rubric_scores(self.rubric, 80) if scores is None else {k: Decimal(v) for k, v in scores.items()}
        )
        for name in experts_:
            experts.assign_expert(
                self.portal, self.actor(self.bureau), self.app_id, self.actor(name).user_id, self.version
            )
        for name in experts_:
            experts.declare(
                self.portal, self.actor(name), self.app_id, "本人与申报单位无利益冲突。", self.version
            )
            experts.score(
                self.portal,
                self.actor(name),
                self.app_id,
                marks,
                self.version,
            )

    def to_public_notice(self) -> "Driver":
        """The third passing score moves the case to public notice by itself."""
        return self.advance_to(kind("notice"))

    def to_approved(self) -> "Driver":
        """Through the notice (the sweep closes it after its window) to the approving state."""
        return self.advance_to(_approving)

    def to_returned(self) -> "Driver":
        self.to_district_review()
        self.fire(self.district_reviewer, "return_for_amendment", "请补充算力采购合同")
        return self


def _first_review(state: StateSpec) -> bool:
    return state.kind == "review"


def _bureau_review(state: StateSpec) -> bool:
    return state.kind == "review" and state.responsible == "bureau"


def _approving(state: StateSpec) -> bool:
    return state.decides == "approved"


def day(offset: int, start: date = date(2026, 6, 1)) -> date:
    return start + timedelta(days=offset)
