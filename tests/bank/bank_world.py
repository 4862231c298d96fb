"""The bank API tests' helpers: the world a test gets, enterprises and loan bodies.

A module, not a conftest, so that tests import it by name (`tests.bank.bank_world`).
"""

import dataclasses
from datetime import date
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from stdnum.cn import uscc as stdnum_uscc

from portal.db.tables import ApiKey, AuditEvent, BankAccessLog, BankConsent, Loan
from portal.services import enterprises
from portal.services.context import Portal
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


PASSWORD = "correct horse battery staple"


def make_uscc(n: int) -> str:
    """A valid Guangzhou (4401) code, distinct for each n."""
    first = f"914401{n:011d}"
    return first + stdnum_uscc.calc_check_digit(first)


@dataclasses.dataclass
class BankWorld:
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
        password=PASSWORD,
        display_name=f"Clerk {n}",
        verified=True,
    )
    actor = enterprises.actor_for_username(portal, f"firm{n}")
    row = enterprises.save_profile(portal, actor, {"enterprise": dict(facts or PROFILE)}, None)
    enterprises.confirm_profile(portal, actor, row.version)
    return uscc, actor


def loan(amount: object = "3000000", **facts: object) -> dict[str, object]:
    return {"amount": amount, "term_months": 24, "pledge_kind": "none", "uses_policy_tool": False, **facts}
