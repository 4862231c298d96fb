"""The journey matrix's live servers: one real uvicorn per pack and backend, on a loopback port.

A test names its server by `indirect` parametrization of `world` with "<pack>/<backend>" (see
`tests/journeys/packs.py` for the packs). The clock is pinned to PINNED, so every rule is judged
on the same day whatever the date of the run. Staff accounts are made through the services
(registration of staff is not what these tests are about); enterprises register through the pages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from portal.settings import Settings
from portal.web.app import create_app
from tests.journeys.driver import User, World, select_options
from tests.journeys.packs import PACKS, PINNED


@pytest.fixture(scope="session")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The live server of one pack on one backend: `request.param` is "<pack>/<sqlite|postgres>"."""
    pack_name, backend = str(request.param).split("/")
    pack = PACKS[pack_name]
    databases: Any = request.getfixturevalue("databases")
    url = databases.migrated(backend)
    root = tmp_path_factory.mktemp(f"journeys-{pack_name}-{backend}")
    # Every objection and sign-in comes from 127.0.0.1: lift the per-address limits.
    settings = Settings(
        database_url=url,
        data_dir=root / "data",
        pack_dir=pack.directory,
        secret_key="journey-matrix-secret",
        today=PINNED,
        objection_rate_limit_per_hour=1_000_000,
        login_ip_rate_limit_per_minute=1_000_000,
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    anonymous = User(base)
    register_page = anonymous.page("/register")
    anonymous.close()
    tracks = select_options(register_page, "ai_track")
    built = World(
        base_url=base,
        portal=app.state.portal,
        pack=pack,
        district=select_options(register_page, "district")[0],
        ai_track=tracks[0] if tracks else None,
    )
    yield built
    built.close()
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()
    databases.drop(url)
