"""The real app over the real pack, served through the ASGI transport (no network, no mocks).

`make_client` builds an app with settings overrides (e.g. a tiny rate limit); the default
`client` is shared by the module because loading the pack is the slow part.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.db import migrations
from portal.settings import Settings
from portal.web.app import create_app

ClientFactory = Callable[..., TestClient]


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    db = tmp_path_factory.mktemp("web") / "portal.db"
    url = f"sqlite:///{db}"
    migrations.upgrade(url)  # sessions live in the database, even an anonymous visitor's lookups
    return Settings(database_url=url, secret_key="test-secret-key-for-sessions")


@pytest.fixture(scope="session")
def app(web_settings: Settings) -> FastAPI:
    return create_app(web_settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # A fresh client per test: cookies (session, lang) must not leak between tests.
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_client(web_settings: Settings) -> Iterator[ClientFactory]:
    made: list[TestClient] = []

    def factory(app: FastAPI | None = None, **overrides: Any) -> TestClient:
        target = app or create_app(web_settings.model_copy(update=overrides))
        c = TestClient(target, raise_server_exceptions=False)
        c.__enter__()
        made.append(c)
        return c

    yield factory
    for c in made:
        c.__exit__(None, None, None)


# A plausible Tianhe AI firm: enough facts to make some measures eligible and leave others open.
ENTERPRISE: dict[str, object] = {
    "district": "tianhe",
    "registered_on": "2018-03-01",
    "employees": 120,
    "st_staff": 40,
    "rd_staff": 35,
    "bachelor_staff": 90,
    "revenue": "40000000",
    "total_assets": "60000000",
    "rd_expense": "3000000",
    "is_sme": True,
    "bad_credit_record_3y": False,
}


def csrf_from(html: str) -> str:
    """The CSRF token a page embedded in its form, as a browser would submit it."""
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
