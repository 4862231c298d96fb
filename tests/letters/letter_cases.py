"""A decided case on each backend, reached through the real services: the letters tests' helpers.

A module, not a conftest, so that tests import it by name (`tests.letters.letter_cases`).
"""

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select
from stdnum.cn import uscc as stdnum_uscc

from portal.db.tables import Application, Decision, Letter
from portal.services.cases import advance
from portal.services.context import Portal
from portal.services.enterprises import register_enterprise
from portal.workflows import Actor
from portal.workflows.context import SYSTEM_ACTOR

MEASURE = "subsidy.compute_voucher"
DECIDED_ON = date(2026, 6, 1)
PASSWORD = "Verify-Letters-2026!"
# 200万 of compute bought: a 60万 voucher, 30% (the measure's own example).
FACTS = {
    "enterprise": {
        "district": "nansha",
        "ai_rd_expense": 9000000,
        "ai_revenue": 4000000,
        "certified_ai_staff": 10,
        "compute_purchase": 2000000,
    }
}
_serial = itertools.count(1)


@dataclass(frozen=True)
class DecidedCase:
    """One approved application, its enterprise user and its stored approval letter."""

    application_id: int
    decision_id: int
    letter: Letter
    enterprise_name: str
    owner: Actor
    owner_username: str


@dataclass
class LettersWorld:
    """One backend's database, the services' view of it, and the web app serving it."""

    portal: Portal
    app: FastAPI
    database_url: str
    reviewer: Actor
    case: DecidedCase


def _uscc(serial: int) -> str:
    body = f"91440115MA{serial:07d}"
    return body + str(stdnum_uscc.calc_check_digit(body))


def decide_case(portal: Portal, name: str) -> DecidedCase:
    """Register an enterprise, put its case at the end of public notice and let the notice close.

    The case row is written directly in `public_notice` (the earlier stages belong to the
    workflow's own tests); the approval then runs exactly as the SLA sweep runs it.
    """
    serial = next(_serial)
    username = f"letters-ent-{serial}"
    enterprise, user = register_enterprise(
        portal,
        uscc=_uscc(serial),
        name=name,
        district="nansha",
        username=username,
        password=PASSWORD,
        display_name="申报联系人",
        verified=True,
    )
    rule = portal.pack.select(MEASURE, portal.today())
    assert rule is not None and rule.lead_unit is not None
    result = rule.evaluate(portal.pack.facts.parse(FACTS), portal.today(), True)
    with portal.transaction() as session:
        application = Application(
            enterprise_id=cast(int, enterprise.id),
            measure_id=rule.id,
            rule_version=rule.version,
            workflow=rule.workflow,
            state="public_notice",
            lead_unit=rule.lead_unit,
            district="nansha",
            stage_entered_at=portal.now() - timedelta(days=10),
            eligibility_outcome=result.outcome.value,
            eligibility_trace={**result.to_json("zh"), "evaluated_on": portal.today().isoformat()},
            rule_hash=result.rule_hash,
            submitted_at=portal.now() - timedelta(days=40),
        )
        session.add(application)
        session.flush()
        moved = advance(
            session,
            portal,
            application,
            SYSTEM_ACTOR,
            "close_notice",
            comment=None,
            expected_version=application.version,
        )
    assert moved.to_state == "approved" and moved.letter_id is not None
    with portal.reading() as session:
        letter = session.get(Letter, moved.letter_id)
        decision = session.exec(select(Decision).where(Decision.application_id == moved.application_id)).one()
    assert letter is not None
    owner = Actor(user_id=cast(int, user.id), role="enterprise", enterprise_id=enterprise.id)
    return DecidedCase(
        application_id=moved.application_id,
        decision_id=cast(int, decision.id),
        letter=letter,
        enterprise_name=name,
        owner=owner,
        owner_username=username,
    )


def sign_in(client: TestClient, username: str) -> None:
    """Sign in through the login form, as a browser does."""
    page = client.get("/login")
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    token = page.text[start : page.text.index('"', start)]
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
