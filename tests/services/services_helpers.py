"""The cast of a services test and a driver that takes a case to any stage through the services."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.db.tables import Application, AuditEvent, ExpertConflict, Transition
from portal.services import applications, enterprises, experts
from portal.services.access import actor_of
from portal.services.context import Portal
from portal.workflows import Actor, StateSpec
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


def valid_uscc_b() -> str:
    """A second valid USCC: compute the check character of a fixed 17-character body."""
    from stdnum.cn import uscc

    body = "91440101MA5CXXXX0"
    return body + uscc.calc_check_digit(body)


@dataclass
class World:
    actors: dict[str, Actor] = field(default_factory=dict)
    enterprise_ids: dict[str, int] = field(default_factory=dict)


def build_world(portal: Portal) -> World:
    """Two enterprises in two districts, reviewers for each scope, four experts (one conflicted), an admin."""
    world = World()
    for key, uscc, district, name in (
        ("a", USCC_A, "tianhe", "广州智算科技有限公司"),
        ("b", valid_uscc_b(), "haizhu", "海珠模型科技有限公司"),
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
        facts = {**ELIGIBLE_FACTS, "enterprise": {**ELIGIBLE_FACTS["enterprise"], "district": district}}
        profile = enterprises.save_profile(portal, actor, facts, None)
        enterprises.confirm_profile(portal, actor, profile.version)
    staff = [
        ("rev_tianhe", "reviewer", {"district": "tianhe"}),
        ("rev_haizhu", "reviewer", {"district": "haizhu"}),
        ("rev_gzdev", "reviewer", {"bureau": "gzdev", "email": "gzdev@example.test"}),
        ("rev_gzfin", "reviewer", {"bureau": "gzfin"}),
        ("rev_gzsti", "reviewer", {"bureau": "gzsti"}),
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
        measure: str = MEASURE,
        owner: str = "ent_a",
        bureau: str = "rev_gzdev",
    ) -> None:
        self.portal = portal
        self.world = world
        self.owner = owner
        self.bureau = bureau
        self.app_id = int(applications.create_draft(portal, world.actors[owner], measure).id or 0)
        self.fill_in()

    def fill_in(self) -> None:
        """Save the form's answers (prefilled from the profile) and a PDF in every required slot."""
        actor = self.actor(self.owner)
        measure = self.measure
        form = self.portal.forms[measure]
        profile = enterprises.latest_profile(self.portal, actor)
        assert profile is not None
        facts = {**profile.facts, "enterprise": {**profile.facts.get("enterprise", {}), **self.identity()}}
        answers = {**form.prefill(facts), **(VOUCHER_ANSWERS if measure == MEASURE else {})}
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
        return {"ent_a": "rev_tianhe", "ent_b": "rev_haizhu"}[self.owner]

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
        scores: dict[str, int] = GOOD_SCORES,
        experts_: tuple[str, ...] = ("expert1", "expert2", "expert3"),
    ) -> None:
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
                {k: Decimal(v) for k, v in scores.items()},
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
