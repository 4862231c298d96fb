"""/screening in Chromium on the demo data: a supervisor uploads a file and the page follows the run.

The run page's script (from /static, under the strict CSP) polls the run's JSON and reloads
once the run has ended; zh/en at 1280 and 390 px, no sideways scroll, no axe violations.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.services import screening_runs
from portal.services.enterprises import actor_for_username
from tests.browser.conftest import axe_violations, screenshot, serving
from tests.browser.test_queue_browser import no_sideways_scroll, signed_in
from tests.support.page_checks import demo_app

FACTS = json.loads(
    (Path(__file__).resolve().parents[2] / "portal" / "demo" / "enterprise.json").read_text("utf-8")
)
MEASURE_ZH = "科技型中小企业评价入库"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_seed: Path) -> Iterator[tuple[str, object]]:
    app = demo_app(demo_seed, tmp_path_factory.mktemp("screening"), "screening-browser")
    with serving(app) as base:
        yield base, app.state.portal
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six rows of the demo firm; row 4 holds a BEL character in the staff count."""
    path = tmp_path_factory.mktemp("upload") / "广州企业名录.csv"
    facts = {k: v for k, v in FACTS["enterprise"].items() if k != "name"}
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row_id", *facts])
        for n in range(1, 7):
            values = ["true" if v is True else "false" if v is False else str(v) for v in facts.values()]
            if n == 4:
                values[list(facts).index("employees")] = "18\x070"
            writer.writerow([f"GZ-{n:04d}", *values])
    return path


def _start(page: Page, upload: Path) -> None:
    page.goto("/screening")
    page.check("input[name=source][value=file]")
    page.set_input_files("#field-file", str(upload))
    page.check("input[name=measures][value='qualification.st_sme']")
    page.check("input[name=measures][value='tax.high_tech_enterprise']")
    page.locator("form[action='/screening'] button[type=submit]").click()


def test_a_supervisor_uploads_and_the_page_follows_the_run(
    browser: Browser, demo: tuple[str, object], upload: Path
) -> None:
    base, _ = demo
    page = signed_in(browser, base, "supervisor", 1280)
    _start(page, upload)
    page.wait_for_url("**/screening/*")
    # The script reloads the page when the run has ended: the results appear without a click.
    expect(page.get_by_role("heading", name="筛查结果")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("cell", name=MEASURE_ZH, exact=True)).to_be_visible()
    expect(page.get_by_text("职工总数：不是整数（18\\u00070）")).to_be_visible()
    assert "qualification.st_sme" not in page.content() and "employees" not in page.content()


def test_bad_input_is_named_in_the_summary(
    browser: Browser, demo: tuple[str, object], tmp_path: Path
) -> None:
    base, _ = demo
    page = signed_in(browser, base, "supervisor", 1280)
    bad = tmp_path / "colours.csv"
    bad.write_text("row_id,colour\nA,red\n", encoding="utf-8")
    page.goto("/screening")
    page.check("input[name=source][value=file]")
    page.set_input_files("#field-file", str(bad))
    page.check("input[name=notify]")
    page.locator("form[action='/screening'] button[type=submit]").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("文件中有无法识别的列：colour")
    expect(summary).to_contain_text("通知只适用于本平台企业库")
    screenshot(page, "screening-errors-zh-1280")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_screening_pages_read_at_both_widths_in_both_languages(
    browser: Browser, demo: tuple[str, object], upload: Path, lang: str, width: int
) -> None:
    base, portal = demo
    page = signed_in(browser, base, "supervisor", width)
    if lang == "en":
        page.goto("/lang/en?next=/screening")
    _start(page, upload)
    page.wait_for_url("**/screening/*")
    # The script marks the status succeeded and then reloads; wait for the reloaded page, which
    # the server renders without the poll attribute, or the checks below race the reload.
    expect(page.locator("#run-progress:not([data-poll]) .run-succeeded")).to_be_visible(timeout=30_000)
    no_sideways_scroll(page)
    screenshot(page, f"screening-run-{lang}-{width}")
    assert axe_violations(page) == []
    # A run nobody has picked up yet (never dispatched): the progress section as it is while waiting.
    waiting = screening_runs.start_run(
        portal,  # type: ignore[arg-type]
        actor_for_username(portal, "supervisor"),  # type: ignore[arg-type]
        upload=screening_runs.Upload("later.csv", upload.read_bytes()),
        measures=[],
        notify=False,
    )
    page.goto(f"/screening/{waiting.id}")
    expect(page.locator("progress")).to_be_visible()
    no_sideways_scroll(page)
    screenshot(page, f"screening-queued-{lang}-{width}")
    assert axe_violations(page) == []
    page.goto("/screening")
    no_sideways_scroll(page)
    screenshot(page, f"screening-list-{lang}-{width}")
    assert axe_violations(page) == []
