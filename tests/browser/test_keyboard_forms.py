"""The forms work with the keyboard alone (issue 11 §6): Tab, typing, arrow keys and Enter, no mouse.

The skip link is the first stop, every stop shows where the focus is, and sign-in, the
self-check and a step of an application form are each filled in and sent from the keyboard.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from portal.db import migrations
from portal.services import applications, enterprises
from portal.settings import Settings
from portal.web.app import create_app
from tests.browser.conftest import serving
from tests.web.portal_helpers import new_uscc

USERNAME, PASSWORD = "keyboard_clerk", "Kb-only-2026-gz"
MEASURE = "subsidy.ai_scenario_demo"  # a Haizhu measure whose form opens with text fields
MAX_TABS = 60  # bounds every walk through a page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A served portal with one verified enterprise and its draft; yields (base URL, draft id)."""
    folder: Path = tmp_path_factory.mktemp("keyboard")
    url = f"sqlite:///{folder / 'portal.db'}"
    migrations.upgrade(url)
    settings = Settings(
        database_url=url, data_dir=folder, secret_key="keyboard-test-secret", today="2026-06-01"
    )
    app = create_app(settings)
    portal = app.state.portal
    enterprises.register_enterprise(
        portal,
        uscc=new_uscc("440105"),
        name="广州键盘测试科技有限公司",
        district="haizhu",
        username=USERNAME,
        password=PASSWORD,
        display_name="键盘用户",
        verified=True,
    )
    draft = applications.create_draft(portal, enterprises.actor_for_username(portal, USERNAME), MEASURE)
    with serving(app) as base:
        yield base, int(draft.id or 0)
    app.state.engine.dispose()


def _focus(page: Page) -> dict[str, str]:
    """What has the focus, and whether the page shows it (an outline or a ring)."""
    return page.evaluate(
        """() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return {id: e.id, tag: e.tagName, cls: e.className, name: e.getAttribute('name') || '',
                    own: e.matches(':focus') ? 'yes' : '',
                    outline: s.outlineStyle === 'none' ? '' : s.outlineWidth,
                    ring: s.boxShadow === 'none' ? '' : s.boxShadow};
        }"""
    )


def _tab_to(page: Page, element_id: str) -> list[dict[str, str]]:
    """Press Tab until `element_id` has the focus; every stop on the way must show its focus.

    A date field's calendar button is a stop inside the browser's own control, which draws its
    focus itself (the field then does not match :focus): such a stop is not the page's to style.
    """
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        here = _focus(page)
        stops.append(here)
        assert here["outline"] or here["ring"] or not here["own"], f"no visible focus on {here}"
        if here["id"] == element_id:
            return stops
    raise AssertionError(f"#{element_id} is not reached with Tab: {[s['id'] or s['tag'] for s in stops]}")


def test_sign_in_self_check_and_a_form_step_by_keyboard(page: Page, site: tuple[str, int]) -> None:
    base, draft = site
    page.goto(f"{base}/login")
    page.keyboard.press("Tab")
    first = _focus(page)
    assert "skip-link" in first["cls"] and (first["outline"] or first["ring"])
    _tab_to(page, "field-username")
    page.keyboard.type(USERNAME)
    page.keyboard.press("Tab")
    assert _focus(page)["id"] == "field-password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url

    # The self-check: a select chosen with the arrow keys, numbers typed, sent with Enter.
    page.goto(f"{base}/self-check")
    _tab_to(page, "f-enterprise-district")
    page.keyboard.press("ArrowDown")
    _tab_to(page, "f-enterprise-employees")
    page.keyboard.type("120")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#results-title")).to_be_visible()

    # A step of the application form: a field typed, the draft saved with Enter.
    page.goto(f"{base}/applications/{draft}/edit")
    _tab_to(page, "field-contact_person")
    page.keyboard.type("李四")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".alert-success, [role=status]").first).to_be_visible()
    page.goto(f"{base}/applications/{draft}/edit")
    expect(page.locator("#field-contact_person")).to_have_value("李四")
