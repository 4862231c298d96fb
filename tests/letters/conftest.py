"""A decided case on each backend, reached through the real services, served by the real app.

Building a `Portal` (the pack) and an app costs seconds, so each backend gets one database,
one app and one approved case per test session. Tests that change things (corrections) decide
cases of their own with `decide_case`.
"""

import dataclasses
from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from portal.db.engine import make_engine
from portal.services.context import Portal
from portal.services.enterprises import create_staff_user
from portal.settings import Settings
from portal.web.app import create_app
from portal.workflows import Actor
from tests.letters.letter_cases import DECIDED_ON, PASSWORD, LettersWorld, decide_case


@pytest.fixture(scope="session")
def pack_portal() -> Portal:
    """The pack, workflows and forms loaded once; each backend gets a copy with its own engine."""
    settings = Settings(database_url="sqlite:///:memory:")
    portal = Portal.from_settings(settings)
    portal.engine.dispose()
    return portal


@pytest.fixture(
    scope="session",
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)],
)
def world(request: pytest.FixtureRequest, databases: Any, pack_portal: Portal) -> Iterator[LettersWorld]:
    url = databases.migrated(str(request.param))
    engine = make_engine(url)
    portal = dataclasses.replace(pack_portal, engine=engine, clock=pack_portal.clock.pinned_to(DECIDED_ON))
    reviewer = create_staff_user(
        portal,
        None,
        username="letters-reviewer",
        password=PASSWORD,
        display_name="市发改委审核员",
        role="reviewer",
        bureau="gzdev",
    )
    case = decide_case(portal, "广州智算未来科技有限公司")
    app = create_app(Settings(database_url=url, secret_key="letters-test-secret"))
    yield LettersWorld(
        portal=portal,
        app=app,
        database_url=url,
        reviewer=Actor(user_id=cast(int, reviewer.id), role="reviewer", bureau="gzdev"),
        case=case,
    )
    app.state.engine.dispose()
    engine.dispose()
    databases.release(url)


@pytest.fixture
def client(world: LettersWorld) -> Iterator[TestClient]:
    # A fresh client per test: session and language cookies must not leak between tests.
    with TestClient(world.app, raise_server_exceptions=False) as c:
        yield c
