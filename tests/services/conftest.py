"""A Portal on a throwaway migrated database (SQLite and PostgreSQL) with a small cast of users.

The pack, forms, workflows, calendar and rubric are the repository's own (the Guangzhou cast),
or the fictional Lakeside pack's where a test asks for it with
`@pytest.mark.parametrize("cast", CASTS, indirect=True)`; each is loaded once per session.
The cast is registered once per backend through the real services (argon2 hashing
is deliberately slow) into a template database, and each test gets a copy of it plus its
own data directory. The clock is pinned to a Monday in 2026 so deadlines are predictable.
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from services_helpers import GUANGZHOU, Cast, World, build_world
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from portal.db.engine import make_engine
from portal.services.context import Portal
from portal.settings import Settings, default_pack_dir
from portal.workflows import Actor

TODAY = date(2026, 6, 1)


@dataclass(frozen=True)
class Loaded:
    """The pack parts a Portal holds, loaded once for the whole test session."""

    template: Portal
    cast: Cast


_loaded: dict[str, Loaded] = {}


@pytest.fixture
def cast(request: pytest.FixtureRequest) -> Cast:
    """The Guangzhou cast, unless the test is parametrized (indirectly) with another."""
    return getattr(request, "param", GUANGZHOU)


@pytest.fixture
def loaded(cast: Cast, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    if cast.key not in _loaded:
        url = f"sqlite:///{tmp_path_factory.mktemp('unused') / 'unused.sqlite'}"
        settings = Settings(database_url=url, pack_dir=cast.pack_dir or default_pack_dir())
        _loaded[cast.key] = Loaded(Portal.from_settings(settings, engine=make_engine(url)), cast)
    return _loaded[cast.key]


def _portal_on(loaded: Loaded, url: str, data_dir: Path) -> Portal:
    engine: Engine = make_engine(url)
    return replace(
        loaded.template, engine=engine, data_dir=data_dir, clock=loaded.template.clock.pinned_to(TODAY)
    )


_templates: dict[tuple[str, str], tuple[str, World]] = {}


def _world_template(loaded: Loaded, databases, backend: str, tmp: Path) -> tuple[str, World]:  # type: ignore[no-untyped-def]
    key = (loaded.cast.key, backend)
    if key not in _templates:
        url = databases.migrated(backend)
        portal = _portal_on(loaded, url, tmp)
        try:
            world = build_world(portal, loaded.cast)
        finally:
            portal.engine.dispose()
        _templates[key] = (url, world)
    return _templates[key]


@pytest.fixture
def world_url(
    loaded: Loaded, databases, db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, World]]:  # type: ignore[no-untyped-def]
    """A copy of the backend's world template: (database URL, the cast)."""
    template_url, world = _world_template(loaded, databases, db_backend, tmp_path_factory.mktemp("tpl"))
    if db_backend == "postgres":
        name = databases._create_postgres(template=make_url(template_url).database)
        url = databases._postgres_url(name)
    else:
        target = tmp_path_factory.mktemp("db") / "world.sqlite"
        shutil.copyfile(str(make_url(template_url).database), target)
        url = f"sqlite:///{target}"
    yield url, world
    databases.drop(url)


@pytest.fixture
def portal(loaded: Loaded, world_url: tuple[str, World], tmp_path: Path) -> Iterator[Portal]:
    portal = _portal_on(loaded, world_url[0], tmp_path / "data")
    yield portal
    portal.engine.dispose()


@pytest.fixture
def world(world_url: tuple[str, World]) -> World:
    return world_url[1]


@pytest.fixture
def ent_a(world: World) -> Actor:
    return world.actors["ent_a"]
