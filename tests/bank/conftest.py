"""The bank API world: one app per backend, a fresh migrated database per test, real keys.

The app is built once per backend (loading the pack is the slow part); each test points the
app's `Portal` at its own migrated database and a fresh rate limiter. "Today" is pinned to
2026-11-27, inside the 2025 credit-risk-compensation version's window.
"""

import dataclasses
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from stdnum.cn import uscc as stdnum_uscc

from portal.db.tables import ApiKey, AuditEvent, BankAccessLog, BankConsent, Loan
from portal.services import banks, consents, enterprises
from portal.services.context import Portal
from portal.settings import Settings
from portal.web.app import create_app
from portal.web.ratelimit import SlidingWindowLimiter
from portal.workflows import Actor

TODAY = date(2026, 11, 27)
ALL_PRODUCTS = ["credit_risk_compensation", "ip_pledge_compensation", "guarantee_fee"]  # pack.yaml
# Facts every product reads, plus one (revenue) none of them reads: it must never reach a bank.
PROFILE: dict[str, object] = {
    "district": "tianhe",
    "registered_on": "2018-03-01",
    "independent_legal_person": True,
    "is_sme": True,
    "is_small_micro": True,
    "bad_credit_record_3y": False,
    "on_key_support_list": False,
    "revenue": "40000000",
}


def make_uscc(n: int) -> str:
    """A valid Guangzhou (4401) code, distinct for each n."""
    first = f"914401{n:011d}"
    return first + stdnum_uscc.calc_check_digit(first)


@pytest.fixture(scope="session")
def bank_apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    """Built lazily per backend; the settings' own database is never used (see `world`)."""
    return {}


@dataclasses.dataclass
class World:
    client: TestClient
    portal: Portal
    engine: Engine
    key: str  # bank "alpha", both scopes
    read_key: str  # bank "alpha", eligibility:read only
    other_key: str  # bank "beta", both scopes
    uscc: str  # consented to alpha for every product
    enterprise: Actor

    def check(self, body: Any, key: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.post("/api/v1/bank/eligibility", json=body, headers=self.auth(key), **kwargs)

    def register(self, body: Any, key: str | None = None) -> httpx.Response:
        return self.client.post("/api/v1/bank/loans", json=body, headers=self.auth(key))

    def auth(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            return {
                table.__name__: session.exec(select(func.count()).select_from(table)).one()
                for table in (AuditEvent, BankAccessLog, BankConsent, Loan, ApiKey)
            }

    def log(self) -> list[BankAccessLog]:
        with Session(self.engine) as session:
            return list(session.exec(select(BankAccessLog).order_by(BankAccessLog.seq)).all())


def new_enterprise(portal: Portal, n: int, facts: dict[str, object] | None = None) -> tuple[str, Actor]:
    """A registered enterprise with a confirmed profile; returns its USCC and its user."""
    uscc = make_uscc(n)
    enterprises.register_enterprise(
        portal,
        uscc=uscc,
        name=f"广州测试{n}号科技有限公司",
        district="tianhe",
        username=f"firm{n}",
        password="correct horse battery staple",
        display_name=f"Clerk {n}",
    )
    actor = enterprises.actor_for_username(portal, f"firm{n}")
    row = enterprises.save_profile(portal, actor, {"enterprise": dict(facts or PROFILE)}, None)
    enterprises.confirm_profile(portal, actor, row.version)
    return uscc, actor


def loan(amount: object = "3000000", **facts: object) -> dict[str, object]:
    return {"amount": amount, "term_months": 24, "pledge_kind": "none", "uses_policy_tool": False, **facts}


@pytest.fixture
def world(
    bank_apps: dict[str, FastAPI],
    db_backend: str,
    migrated_engine: Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    app = bank_apps.get(db_backend)
    if app is None:
        db = tmp_path_factory.mktemp("bank_app") / "unused.db"
        app = bank_apps[db_backend] = create_app(
            Settings(database_url=f"sqlite:///{db}", secret_key="bank-tests")
        )
    portal = dataclasses.replace(
        app.state.portal, engine=migrated_engine, clock=app.state.portal.clock.pinned_to(TODAY)
    )
    app.state.portal = portal
    app.state.bank_limiter = SlidingWindowLimiter(1000, 60.0)
    banks.add_bank(portal, name="甲银行广州分行", code="alpha")
    banks.add_bank(portal, name="乙银行广州分行", code="beta")
    key = banks.issue_key(portal, "alpha").key
    read_key = banks.issue_key(portal, "alpha", ["eligibility:read"]).key
    other_key = banks.issue_key(portal, "beta").key
    uscc, actor = new_enterprise(portal, 1)
    consents.grant_consent(portal, actor, bank_code="alpha", products=ALL_PRODUCTS)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield World(client, portal, migrated_engine, key, read_key, other_key, uscc, actor)
