"""The bank API world: one app per backend, a fresh migrated database per test, real keys.

The app is built once per backend (loading the pack is the slow part); each test points the
app's `Portal` at its own migrated database and a fresh rate limiter. "Today" is pinned to
2026-11-27, inside the 2025 credit-risk-compensation version's window.
"""

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal.services import banks, consents
from portal.settings import Settings
from portal.web.app import create_app
from portal.web.ratelimit import SlidingWindowLimiter
from tests.bank.bank_world import ALL_PRODUCTS, TODAY, BankWorld, new_enterprise


@pytest.fixture(scope="session")
def bank_apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    """Built lazily per backend; the settings' own database is never used (see `world`)."""
    return {}


@pytest.fixture
def world(
    bank_apps: dict[str, FastAPI],
    db_backend: str,
    migrated_engine: Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BankWorld]:
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
    app.state.engine = migrated_engine
    app.state.bank_limiter = SlidingWindowLimiter(1000, 60.0)
    banks.add_bank(portal, name="甲银行广州分行", code="alpha")
    banks.add_bank(portal, name="乙银行广州分行", code="beta")
    key = banks.issue_key(portal, "alpha").key
    read_key = banks.issue_key(portal, "alpha", ["eligibility:read"]).key
    other_key = banks.issue_key(portal, "beta").key
    uscc, actor = new_enterprise(portal, 1)
    consents.grant_consent(portal, actor, bank_code="alpha", products=ALL_PRODUCTS)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield BankWorld(client, portal, migrated_engine, key, read_key, other_key, uscc, actor)
