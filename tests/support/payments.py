"""Approved cases that hold a payment account, made through the real services, for payment-batch tests.

The account comes the way it does in production: a screening hit on a 免申即享 measure opens a
case, the enterprise confirms it with its bank account, and the case is taken along the
workflow's favourable path (read off the workflow, as the journey tests do) to its approving
stage, each step by its own party.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pyarrow as pa
from sqlmodel import col, func, select
from stdnum.cn import uscc as uscc_check

from portal.db.tables import Application, AuditEvent, Decision, Letter, PaymentReturn, Transition
from portal.services import auto_grant, enterprises, experts, sla
from portal.services.applications import transition
from portal.services.context import Portal
from portal.services.errors import NotFound
from portal.services.screening import notify_eligible
from portal.workflows import Actor
from tests.support.workflow_paths import find_path, is_unfavourable

AUTO_MEASURE = "subsidy.algorithm_filing"  # auto_grant, Haizhu firms with a filed algorithm
DISTRICT = "haizhu"
PASSWORD = "correct-horse-battery"
SCORES = {"technology": 80, "application": 80, "team": 80, "benefit": 80, "feasibility": 80}
FACTS = {
    "district": DISTRICT,
    "algorithm_filed": True,
    "ai_rd_expense": "8000000",
    "ai_revenue": "3000000",
    "certified_ai_staff": 4,
}
_serial = itertools.count(1)


def new_uscc() -> str:
    body = f"91440105MA{next(_serial):07d}"
    return body + str(uscc_check.calc_check_digit(body))


def staff_actor(portal: Portal, username: str, role: str, **scope: str) -> Actor:
    """The staff user of that name, made on first use."""
    try:
        return enterprises.actor_for_username(portal, username)
    except NotFound:
        enterprises.create_staff_user(
            portal, None, username=username, password=PASSWORD, display_name=username, role=role, **scope
        )
        return enterprises.actor_for_username(portal, username)


def bureau_of_measure(portal: Portal) -> str:
    rule = portal.pack.select(AUTO_MEASURE, portal.today())
    assert rule is not None and rule.lead_unit is not None
    return rule.lead_unit


def payer(portal: Portal) -> Actor:
    """A reviewer of the unit that leads (and pays) the measure."""
    return staff_actor(portal, "pay_bureau", "reviewer", bureau=bureau_of_measure(portal))


def _state(portal: Portal, case_id: int) -> tuple[str, int]:
    with portal.reading() as session:
        row = session.get(Application, case_id)
        assert row is not None
        return row.state, row.version


def _to_approved(portal: Portal, case_id: int) -> None:
    district = staff_actor(portal, "pay_district", "reviewer", district=DISTRICT)
    bureau = payer(portal)
    panel = [staff_actor(portal, f"pay_expert{i}", "expert") for i in (1, 2, 3)]
    with portal.reading() as session:
        row = session.get(Application, case_id)
        assert row is not None
        workflow = portal.workflows[row.workflow]
    state, _ = _state(portal, case_id)
    path = find_path(
        workflow, state, lambda s: s.decides == "approved", avoid=lambda e: is_unfavourable(workflow, e)
    )
    for step in path:
        if workflow.state(step.source).kind == "expert":
            for expert in panel:
                experts.assign_expert(portal, bureau, case_id, expert.user_id, _state(portal, case_id)[1])
            for expert in panel:
                experts.declare(
                    portal, expert, case_id, "本人与申报单位无利益冲突。", _state(portal, case_id)[1]
                )
                scores = {k: Decimal(v) for k, v in SCORES.items()}
                experts.score(portal, expert, case_id, scores, _state(portal, case_id)[1])
        elif step.party == "system":
            before = portal.today_override
            portal.today_override = portal.today() + timedelta(days=7)
            sla.sweep(portal)
            portal.today_override = before
        else:
            who = district if step.party == "district" else bureau
            transition(
                portal,
                who,
                case_id,
                step.event,
                "同意" if step.comment_required else None,
                _state(portal, case_id)[1],
            )
    assert workflow.state(_state(portal, case_id)[0]).decides == "approved"


def approved_case(
    portal: Portal,
    name: str,
    *,
    account: str = "6217857000001234567",
    bank: str = "中国银行广州海珠支行",
    email: str | None = None,
) -> int:
    """A new Haizhu enterprise's approved 免申即享 case, confirmed with `account`; its user has
    `email`, if given."""
    code = new_uscc()
    enterprise, user = enterprises.register_enterprise(
        portal, uscc=code, name=name, district=DISTRICT, username=f"pay{code[-8:].lower()}",
        password=PASSWORD, display_name="财务", email=email, verified=True,
    )  # fmt: skip
    owner = enterprises.actor_for_username(portal, user.username)
    profile = enterprises.save_profile(portal, owner, {"enterprise": FACTS}, None)
    enterprises.confirm_profile(portal, owner, profile.version)
    rule = portal.pack.select(AUTO_MEASURE, portal.today())
    assert rule is not None
    hits = pa.table({"row_id": [str(enterprise.id)], "measure": [AUTO_MEASURE], "outcome": ["eligible"]})
    assert notify_eligible(portal, hits, [rule]) == 1
    with portal.reading() as session:
        case_id = int(
            session.exec(select(Application.id).where(col(Application.enterprise_id) == enterprise.id)).one()
            or 0
        )
    auto_grant.confirm(
        portal,
        owner,
        case_id,
        bank_name=bank,
        account_number=account,
        expected_version=_state(portal, case_id)[1],
    )
    _to_approved(portal, case_id)
    return case_id


def state_of(portal: Portal, case_id: int) -> str:
    with portal.reading() as session:
        row = session.get(Application, case_id)
        assert row is not None
        return row.state


def letter_kinds(portal: Portal, case_id: int) -> list[str]:
    """The kinds of the case's letters, oldest first."""
    with portal.reading() as session:
        return list(
            session.exec(
                select(Letter.kind)
                .join(Decision, col(Decision.id) == Letter.decision_id)
                .where(col(Decision.application_id) == case_id)
                .order_by(col(Letter.id))
            ).all()
        )


def footprint(portal: Portal) -> tuple[int, int, int]:
    """(audit rows, transitions, imported return files): what a no-op import must leave as it was."""
    with portal.reading() as session:
        return (
            session.exec(select(func.count()).select_from(AuditEvent)).one(),
            session.exec(select(func.count()).select_from(Transition)).one(),
            session.exec(select(func.count()).select_from(PaymentReturn)).one(),
        )
