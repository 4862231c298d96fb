"""Issue 10 §2: a qualification (status-only) measure closes at approval with its letter and is
never offered a disbursement it cannot complete; a money measure still waits to be disbursed."""

import pytest
from services_helpers import Driver, World
from sqlmodel import select

from portal.db.tables import Decision, Letter
from portal.services import applications
from portal.services.context import Portal
from portal.services.errors import Refused

STATUS_MEASURE = "qualification.st_sme"  # lead unit gzsti; grants a status, no money
ST_SME_ANSWERS = {
    "enterprise_name": "广州智算科技有限公司",
    "uscc": "91350100M000100Y43",
    "contact_person": "王工",
    "contact_phone": "13800000000",
    "employees": 120,
    "st_staff": 30,
    "revenue": 50000000,
    "total_assets": 80000000,
    "rd_expense": 4000000,
    "total_cost": 40000000,
    "ip_class1": 2,
    "ip_class2": 5,
    "not_restricted": True,
}


def st_sme_draft(portal: Portal, world: World) -> Driver:
    """An S&T SME evaluation drafted in full by ent_a, its financial statements attached."""
    case = Driver(portal, world, measure=STATUS_MEASURE, bureau="rev_gzsti")
    owner = world.actors["ent_a"]
    applications.save_draft(portal, owner, case.app_id, ST_SME_ANSWERS, case.version)
    upload = applications.store_attachment(
        portal, owner, b"%PDF-1.4 statements", content_type="application/pdf", original_name="fs.pdf"
    )
    applications.attach(portal, owner, case.app_id, "financial_statements", int(upload.id or 0), case.version)
    return case


def _letter_kinds(portal: Portal, app_id: int) -> list[str]:
    with portal.reading() as session:
        decision = session.exec(select(Decision).where(Decision.application_id == app_id)).one()
        return [
            letter.kind for letter in session.exec(select(Letter).where(Letter.decision_id == decision.id))
        ]


def test_a_status_only_case_closes_at_approval(portal: Portal, world: World) -> None:
    case = st_sme_draft(portal, world)
    case.to_approved()
    workflow = portal.workflows["municipal"]
    state = workflow.state(case.state)
    assert state.final and state.decides == "approved"
    assert _letter_kinds(portal, case.app_id) == ["approval"]
    assert applications.allowed_events(portal, world.actors["rev_gzsti"], case.app_id) == []
    with pytest.raises(Refused) as refused:
        case.fire("rev_gzsti", "disburse")
    assert refused.value.code == "not_allowed_in_state"


def test_a_money_case_waits_for_disbursement(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()
    assert portal.workflows["municipal"].state(case.state).kind == "decided"
    assert [e.name for e in applications.allowed_events(portal, world.actors["rev_gzdev"], case.app_id)] == [
        "disburse"
    ]
