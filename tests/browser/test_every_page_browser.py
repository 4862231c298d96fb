"""Every page of every role, in zh and en, at 1280 and 390 px in Chromium (issue 11 §7 items 1-2).

Each role's pages are found by following links from its start pages on the demo data (with the
pages only a form's button reaches: check-your-answers, the confirmation, and the page that asks
before an irreversible action), one page
per route template (with a query string or without) and, for case pages, one per stage, so one
case stands for every case in its stage; then the 404 page. A server error on any link fails.
The crawl and the text checks are shared with the HTTP crawl of tests/web/test_no_codes_in_pages.py.
On each page and at each width nothing scrolls sideways; axe-core (at one width per language)
finds nothing serious or critical; the text a reader sees holds no code of the pack and, in
English, no Chinese but names, numbers and quoted titles. With SWEEP_SCREENSHOTS=1
(`make screenshots`), JPEG screenshots go to artifacts/screenshots/pages/<role>/<lang>/. Banks use
the API only: they have no pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Error, Page

from portal.demo.seed import DEMO_PASSWORD
from tests.browser.conftest import SWEEP_SCREENSHOTS, axe_violations, screenshot, serving
from tests.support.page_checks import ROLES, Reader, crawl, demo_app, route_shape, starts_of

pytestmark = pytest.mark.slow

WIDTHS = (1280, 390)
AXE_WIDTH = {"zh": 390, "en": 1280}
MAX_PAGES = 50  # per role and language; the demo's roles reach 17 to 42 (templates, case stages)
MISSING = "/no-such-page"  # the 404 page, with the role's navigation
CASE_PAGE = re.compile(r"^/(applications|review)/\d+$")
DANGER_BUTTON = (
    'form[action$="/withdraw"] button.button-danger, form[action$="/transition"] button.button-danger'
)
CASE_STAGE = re.compile(r'<dd><span class="stage[^"]*">([^<]*)<')  # a case page: one per stage


def _stage(html: str) -> str:
    found = CASE_STAGE.search(html)
    return found.group(1) if found else ""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_seed: Path) -> Iterator[tuple[str, FastAPI]]:
    app = demo_app(demo_seed, tmp_path_factory.mktemp("every-page"), "every-page-browser-secret")
    with TestClient(app), serving(app) as base:
        yield base, app
    app.state.engine.dispose()


def _slug(path: str) -> str:
    return re.sub(r"[^\w.-]+", "_", path.strip("/")) or "home"


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#field-username", username)
    page.fill("#field-password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


# The body's text as read, without <kbd>: what a reader must type as shown (a screening file's
# column names and values) is the code itself, as in page_checks' own reading of the HTML.
_READ_TEXT = """() => {
  const typed = [...document.querySelectorAll("kbd")];
  typed.forEach((k) => { k.style.display = "none"; });
  const text = document.body.innerText;
  typed.forEach((k) => { k.style.display = ""; });
  return text;
}"""


def _check(page: Page, reader: Reader, lang: str, name: str) -> list[str]:
    """What is wrong with the page now open, at each width; a screenshot at each.

    axe runs once per page, at the phone width in zh and the desktop width in en: its rules
    (names, roles, contrast) do not change with the width, and the sweep stays within CI's budget.
    """
    wrong = reader.problems(page.evaluate(_READ_TEXT), lang)
    axe_width = AXE_WIDTH[lang]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > page.evaluate("innerWidth"):
            wrong.append(f"{width} px: {wide} px wide")
        if SWEEP_SCREENSHOTS:
            screenshot(page, f"{name}-{width}", jpeg=True)
        if width == axe_width:
            wrong += [f"{width} px: axe {v['id']} {v['nodes']}" for v in axe_violations(page)]
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    return wrong


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("username", list(ROLES), ids=lambda u: u or "visitor")
def test_every_page_fits_a_phone_passes_axe_and_shows_no_code(
    browser: Browser, server: tuple[str, FastAPI], username: str | None, lang: str
) -> None:
    base, app = server
    reader = Reader.of(app.state.portal)
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    context.add_cookies([{"name": "lang", "value": lang, "url": base}])
    page = context.new_page()
    if username is not None:
        _sign_in(page, base, username)
    folder = f"pages/{username or 'visitor'}/{lang}"
    wrong: dict[str, list[str]] = {}  # path: what is wrong there

    def fetch(path: str) -> str | None:
        try:
            response = page.goto(f"{base}{path}")
        except Error as error:  # a link to a file, without a telltale suffix
            if "Download is starting" in error.message:
                return None
            raise
        if response is not None and response.status >= 500:
            wrong[path] = [f"HTTP {response.status}"]
        if response is None or response.status != 200:
            return None
        if not response.headers.get("content-type", "").startswith("text/html"):
            return None
        return page.content()

    visited = 0
    case_pages: list[str] = []  # where an irreversible action's button is
    shape = route_shape(app)
    for path, _ in crawl(
        fetch,
        starts_of(app.state.portal, username),
        per_shape=1,
        max_pages=MAX_PAGES,
        shape_of=shape,
        variant=_stage,
    ):
        visited += 1
        if CASE_PAGE.match(path):
            case_pages.append(path)
        if found := _check(page, reader, lang, f"{folder}/{_slug(path)}"):
            wrong[path] = found
    # The confirmation page an irreversible action answers first (POST only: no link leads there).
    for path in case_pages:
        page.goto(f"{base}{path}")
        button = page.locator(DANGER_BUTTON).first
        if button.count():
            button.click()
            page.wait_for_load_state()
            if found := _check(page, reader, lang, f"{folder}/confirm-{_slug(path)}"):
                wrong[f"{path} (confirm)"] = found
            visited += 1
            break
    response = page.goto(f"{base}{MISSING}")
    assert response is not None and response.status == 404
    if found := _check(page, reader, lang, f"{folder}/404"):
        wrong[MISSING] = found
    context.close()
    print(f"{username or 'visitor'} {lang}: {visited} pages")
    assert visited >= len(ROLES[username]) - 1
    assert not wrong, wrong
