"""Driving a procurement-catalogue application to approval through the real services."""

from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from portal.db.tables import Application
from portal.services import applications, enterprises, experts, sla
from portal.services.access import actor_of
from portal.services.context import Portal
from portal.workflows import Actor
from tests.support.workflow_paths import find_path, is_unfavourable, is_withdrawal, kind

PASSWORD = "correct horse battery"
USCC_A = "91350100M000100Y43"

LISTING_MEASURE = "procurement.ai_product_listing"
FIRST_SET_MEASURE = "procurement.first_set_reward"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LISTING_ANSWERS: dict[str, Any] = {
    "enterprise_name": "广州智算科技有限公司",
    "uscc": USCC_A,
    "contact_person": "陈工",
    "contact_phone": "13800138000",
    "product_name": "穗智城市视觉巡检平台",
    "product_kind": "platform",
    "track": "cheng",
    "model_number": "SZ-V3",
    "summary": "面向城市道路与桥梁的视觉巡检平台，自动识别病害并生成工单。",
    "specifications": "识别准确率 ≥ 98%\n单路视频延迟 ≤ 200 毫秒",
    "is_ai_product": True,
    "manufacturer_in_guangzhou": True,
    "mass_produced": True,
    "invention_patent": True,
    "patent_number": "ZL202110000001.X",
    "self_reliance_rate": Decimal("0.80"),
}
GOOD = {"technology": 80, "application": 80, "team": 80, "benefit": 80, "feasibility": 80}


class HasActors(Protocol):
    actors: dict[str, Actor]


def add_bureau_reviewers(portal: Portal, world: HasActors) -> None:
    """Reviewers of the procurement measures' lead units, once per database (the world is shared)."""
    from sqlmodel import select

    from portal.db.tables import User

    for username, bureau in (("rev_gzczj", "gzczj"), ("rev_gzmiit", "gzmiit")):
        with portal.reading() as session:
            found = session.exec(select(User).where(User.username == username)).first()
        if found is not None:
            world.actors[username] = actor_of(found)
            continue
        user = enterprises.create_staff_user(
            portal,
            None,
            username=username,
            password=PASSWORD,
            display_name=username,
            role="reviewer",
            bureau=bureau,
        )
        world.actors[username] = actor_of(user)


def version(portal: Portal, app_id: int) -> int:
    from portal.db.tables import Application

    with portal.reading() as session:
        row = session.get(Application, app_id)
        assert row is not None
        return row.version


def fill_and_submit(
    portal: Portal, owner: Actor, app_id: int, answers: dict[str, Any], measure: str = LISTING_MEASURE
) -> None:
    applications.save_draft(portal, owner, app_id, answers, version(portal, app_id))
    form = portal.forms.get(measure)
    slots = [slot.id for slot in form.attachments.values() if slot.required] if form else []
    for slot in slots:
        stored = applications.store_attachment(
            portal, owner, PDF + slot.encode(), content_type="application/pdf", original_name=f"{slot}.pdf"
        )
        applications.attach(portal, owner, app_id, slot, int(stored.id or 0), version(portal, app_id))
    applications.submit(portal, owner, app_id, version(portal, app_id))


def approve(
    portal: Portal, world: HasActors, app_id: int, bureau: str = "rev_gzczj", district: str = "rev_tianhe"
) -> None:
    """District and bureau review, a passing panel, then the notice period runs out."""
    # The reviews' events come from the workflow: the favourable path to the expert stage.
    with portal.reading() as session:
        case = session.get(Application, app_id)
        assert case is not None
    workflow = portal.workflows[case.workflow]
    who = {"district": district, "bureau": bureau}
    avoid = lambda edge: is_unfavourable(workflow, edge) or is_withdrawal(workflow, edge)  # noqa: E731
    for step in find_path(workflow, case.state, kind("expert"), avoid=avoid):
        applications.transition(
            portal, world.actors[who[step.party]], app_id, step.event, "同意", version(portal, app_id)
        )
    panel = ("expert1", "expert2", "expert3")
    for name in panel:
        experts.assign_expert(
            portal, world.actors[bureau], app_id, world.actors[name].user_id, version(portal, app_id)
        )
    for name in panel:
        experts.declare(
            portal, world.actors[name], app_id, "本人与申报单位无利益冲突。", version(portal, app_id)
        )
        experts.score(
            portal,
            world.actors[name],
            app_id,
            {k: Decimal(v) for k, v in GOOD.items()},
            version(portal, app_id),
        )
    before = portal.today_override
    assert before is not None
    portal.today_override = before + timedelta(days=7)
    sla.sweep(portal)
    portal.today_override = before


def list_product(portal: Portal, world: HasActors, answers: dict[str, Any] | None = None) -> int:
    """A new catalogue application by ent_a, approved; returns the application id."""
    add_bureau_reviewers(portal, world)
    owner = world.actors["ent_a"]
    app_id = int(applications.create_draft(portal, owner, LISTING_MEASURE).id or 0)
    fill_and_submit(portal, owner, app_id, {**LISTING_ANSWERS, **(answers or {})})
    approve(portal, world, app_id)
    return app_id


FIRST_SET_ANSWERS: dict[str, Any] = {
    "enterprise_name": LISTING_ANSWERS["enterprise_name"],
    "uscc": USCC_A,
    "contact_person": "陈工",
    "contact_phone": "13800138000",
    "product_name": LISTING_ANSWERS["product_name"],
    "kind": "complete_set",
    "unit_price": Decimal("8000000"),
    "invention_patent": True,
    "buyer_name": "广州市某区城市管理局",
    "buyer_uscc": "91440101MA5CXXXX08",
    "contract_on": "2026-03-01",
}


def award_first_set(portal: Portal, world: HasActors, answers: dict[str, Any] | None = None) -> int:
    """An approved first-set reward for ent_a's product; returns the application id."""
    add_bureau_reviewers(portal, world)
    owner = world.actors["ent_a"]
    app_id = int(applications.create_draft(portal, owner, FIRST_SET_MEASURE).id or 0)
    fill_and_submit(portal, owner, app_id, {**FIRST_SET_ANSWERS, **(answers or {})}, FIRST_SET_MEASURE)
    approve(portal, world, app_id, bureau="rev_gzmiit")
    return app_id
