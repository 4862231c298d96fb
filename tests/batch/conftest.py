"""Fixtures for batch screening: the fixture pack, the real pack, and one connection per engine.

SQLite and DuckDB run in memory; PostgreSQL runs in a throwaway database created for the
session by the shared `databases` registry and dropped at the end.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from portal.rules import Pack, load_pack
from portal.screening.engines import open_engine
from portal.settings import default_pack_dir

FIXTURE_PACK = Path(__file__).parent / "fixtures" / "pack"
ENGINE_PARAMS = [
    pytest.param("sqlite"),
    pytest.param("duckdb"),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def fixture_pack() -> Pack:
    return load_pack(FIXTURE_PACK / "rules")


@pytest.fixture(scope="session")
def real_pack() -> Pack:
    return load_pack(default_pack_dir() / "rules")


@pytest.fixture(scope="session")
def postgres_url(databases: object) -> Iterator[str]:
    url: str = databases.empty("postgres")  # type: ignore[attr-defined]
    yield url
    databases.drop(url)  # type: ignore[attr-defined]


@pytest.fixture(params=ENGINE_PARAMS)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connection(engine_name: str, request: pytest.FixtureRequest) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back, so temp tables never leak between tests."""
    url = request.getfixturevalue("postgres_url") if engine_name == "postgres" else None
    engine = open_engine(engine_name, url)  # type: ignore[arg-type]
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()
    engine.dispose()
