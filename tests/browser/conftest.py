"""Browser tests: the real app served by uvicorn on a free loopback port, driven by Debian's Chromium.

Never run `playwright install` (it downloads browsers and fails offline); the launch arguments
below point pytest-playwright at /usr/bin/chromium instead. Screenshots land in
artifacts/screenshots/ (git-ignored) for review; the every-page sweep's (two per page, role and
language) only with SWEEP_SCREENSHOTS=1 (`make screenshots`), as they were a third of its time.
"""

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page
from starlette.types import ASGIApp

from portal.db import migrations
from portal.settings import Settings
from portal.web.app import create_app

REPO = Path(__file__).parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SWEEP_SCREENSHOTS = os.environ.get("SWEEP_SCREENSHOTS") == "1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free loopback port; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the app under uvicorn in a thread, on an SQLite file of its own."""
    db = tmp_path_factory.mktemp("browser") / "portal.db"
    migrations.upgrade(f"sqlite:///{db}")
    with serving(
        create_app(Settings(database_url=f"sqlite:///{db}", secret_key="browser-test-secret"))
    ) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright's base_url: relative page.goto("/…") calls go to the live server."""
    return live_server


def screenshot(page: Page, name: str, *, jpeg: bool = False) -> Path:
    """A full-page screenshot; JPEG for sweeps of many pages, where PNG encoding dominates."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.{'jpg' if jpeg else 'png'}"
    if jpeg:
        page.screenshot(path=str(path), full_page=True, type="jpeg", quality=70)
    else:
        page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(
    page: Page, impacts: frozenset[str] = frozenset({"serious", "critical"})
) -> list[dict[str, Any]]:
    """axe-core's violations of the given impacts on the current page.

    The script is evaluated through the DevTools protocol rather than added as a <script> tag,
    because the page's CSP (rightly) blocks inline script and axe is not one of our static files.
    """
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` in the repository", pytrace=False)
    if not page.evaluate("typeof axe !== 'undefined'"):  # once per document
        page.evaluate(AXE.read_text(encoding="utf-8"))
    # resultTypes: only violations get their nodes collected (axe's own advice for speed).
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result
        if v["impact"] in impacts
    ]
