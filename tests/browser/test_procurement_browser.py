"""The public procurement catalogue in Chromium: 1280 and 390 px, zh and en, axe-clean, no sideways
scroll on a phone; search and a filter used as a purchasing clerk would. Screenshots go to
artifacts/screenshots/procurement-*.png for review.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page

from portal.db import migrations
from portal.services import applications, enterprises, listings
from portal.services.access import actor_of
from portal.settings import Settings
from portal.web.app import create_app
from portal.workflows import Actor
from tests.browser.conftest import axe_violations, screenshot
from tests.services.listing_helpers import (
    LISTING_ANSWERS,
    LISTING_MEASURE,
    PASSWORD,
    USCC_A,
    approve,
    fill_and_submit,
)

FACTS = json.loads((Path(__file__).parents[2] / "portal" / "demo" / "enterprise.json").read_text("utf-8"))


class Cast:
    """The people of the seeded catalogue, by the names the listing helpers use."""

    def __init__(self) -> None:
        self.actors: dict[str, Actor] = {}


def _seed(app: FastAPI) -> None:
    """Three products through the real services: one listed, one suspended, one revoked."""
    portal = app.state.portal
    pinned, portal.today_override = portal.today_override, date(2026, 6, 1)
    cast = Cast()
    enterprise, user = enterprises.register_enterprise(
        portal,
        uscc=USCC_A,
        name="广州智算科技有限公司",
        district="tianhe",
        username="ent",
        password=PASSWORD,
        display_name="申报专员",
        email=None,
        verified=True,
    )
    owner = actor_of(user)
    facts = {
        **FACTS,
        "enterprise": {**FACTS["enterprise"], "uscc": USCC_A, "name": enterprise.name, "district": "tianhe"},
    }
    profile = enterprises.save_profile(portal, owner, facts, None)
    enterprises.confirm_profile(portal, owner, profile.version)
    cast.actors["ent_a"] = owner
    for username, role, extra in (
        ("rev_tianhe", "reviewer", {"district": "tianhe"}),
        ("rev_gzczj", "reviewer", {"bureau": "gzczj"}),
        ("expert1", "expert", {}),
        ("expert2", "expert", {}),
        ("expert3", "expert", {}),
    ):
        staff = enterprises.create_staff_user(
            portal, None, username=username, password=PASSWORD, display_name=username, role=role, **extra
        )
        cast.actors[username] = actor_of(staff)
    products = [
        {},
        {"product_name": "穗智工厂质检算法服务", "product_kind": "technology", "track": "zao",
         "specifications": "缺陷检出率 ≥ 99.5%\n单件检测时间 ≤ 80 毫秒",
         "summary": "面向电子元器件产线的缺陷检测算法服务，按调用量计费，支持私有化部署。"},
        {"product_name": "穗智智慧病房护理机器人项目", "product_kind": "project", "track": "jian",
         "summary": "病房巡视与护理辅助机器人项目，已在三家三甲医院部署运行。"},
    ]  # fmt: skip
    ids = []
    for changes in products:
        app_id = int(applications.create_draft(portal, owner, LISTING_MEASURE).id or 0)
        fill_and_submit(portal, owner, app_id, {**LISTING_ANSWERS, **changes})
        approve(portal, cast, app_id)
        ids.append(listings.entry_of_application(portal, app_id))
    bureau = cast.actors["rev_gzczj"]
    reasons = "抽查发现检测指标与申报不符，限期整改。"
    listings.act_on(portal, bureau, int(ids[1].id or 0), "suspend", reasons, ids[1].version)
    listings.act_on(portal, bureau, int(ids[2].id or 0), "revoke", "企业申请退出目录。", ids[2].version)
    portal.today_override = pinned


@pytest.fixture(scope="module")
def catalogue_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("procurement")
    url = f"sqlite:///{root / 'portal.db'}"
    migrations.upgrade(url)
    app = create_app(Settings(database_url=url, data_dir=root / "data", secret_key="procurement-secret"))
    _seed(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_catalogue_pages(browser: Browser, catalogue_server: str, lang: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=catalogue_server)
    context.add_cookies([{"name": "lang", "value": lang, "url": catalogue_server}])
    page = context.new_page()
    try:
        page.goto("/procurement")
        cards = page.locator(".listing")
        assert cards.count() == 2  # listed and suspended; the revoked one is in the archive
        assert page.locator(".listing-suspended .badge").inner_text() == (
            "暂停" if lang == "zh" else "Suspended"
        )
        _no_sideways_scroll(page)
        assert axe_violations(page) == []
        screenshot(page, f"procurement-catalogue-{lang}-{width}")

        # A clerk narrows the list by kind, then searches by words.
        page.select_option("#filter-kind", "technology")
        page.locator(".listing-filters button[type=submit]").click()
        page.wait_for_url("**/procurement?*kind=technology*")
        assert page.locator(".listing").count() == 1
        page.fill("#q", "巡检")
        page.select_option("#filter-kind", "")
        page.locator(".listing-filters button[type=submit]").click()
        page.wait_for_url("**q=*")
        assert page.locator(".listing h2").all_inner_texts() == [LISTING_ANSWERS["product_name"]]

        page.locator(".listing h2 a").first.click()
        page.wait_for_url("**/procurement/*")
        assert page.locator("[data-event=listed]").count() == 1
        _no_sideways_scroll(page)
        assert axe_violations(page) == []
        screenshot(page, f"procurement-entry-{lang}-{width}")

        page.goto("/procurement/archive")
        assert page.locator(".listing-revoked").count() == 1
        _no_sideways_scroll(page)
        assert axe_violations(page) == []
        screenshot(page, f"procurement-archive-{lang}-{width}")

        page.goto("/procurement/awards")
        _no_sideways_scroll(page)
        assert axe_violations(page) == []
    finally:
        context.close()
