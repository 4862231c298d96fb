"""One journey per role in Chromium: each role does its part through the pages, the rest goes over HTTP.

The measure is the first one applied for online whose approval path needs every party (the
enterprise, the district, the bureau, the experts and the public notice), so the same test runs
over another pack. Screenshots go to artifacts/screenshots/journey-role-*.png.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.city import split_fact
from portal.services.verified import verify_enterprise
from tests.browser.conftest import screenshot
from tests.journeys.driver import (
    PASSWORD,
    PDF_BYTES,
    Applicant,
    Case,
    User,
    World,
    form_answers,
)
from tests.journeys.packs import PACKS
from tests.journeys.test_matrix import Planned, gaps, measure_journeys
from tests.support.rubrics import case_rubric
from tests.support.workflow_paths import Journey, Step, is_notice_stage

pytestmark = pytest.mark.browser


PACK = PACKS["main"]
WORLD = "main/sqlite"


def _approval(measure_id: str) -> Journey:
    return next(j for j in measure_journeys(PACK, measure_id) if j.kind == "approve")


def _full_path_measure() -> str:
    for measure_id in PACK.online:
        journey = _approval(measure_id)
        parties = {step.party for step in journey.steps}
        workflow = PACK.workflow_of(measure_id)
        noticed = any(is_notice_stage(workflow.state(state)) for state in journey.states())
        if (
            {"enterprise", "district", "bureau"} <= parties
            and noticed
            and not gaps(Planned(PACK.name, measure_id, journey))
        ):
            return measure_id
    raise AssertionError("no online measure goes through every party and a public notice")


MEASURE = _full_path_measure()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#field-username", username)
    page.fill("#field-password", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


class BrowserCase(Case):
    """A case where one party acts in Chromium; the others act over HTTP as in the matrix."""

    page: Page
    party: str

    def staff_fires(self, step: Step) -> None:
        if step.party != self.party:
            super().staff_fires(step)
            return
        self.page.goto(f"{self.world.base_url}/review/{self.id}")
        form = self.page.locator("form.action-form").filter(
            has=self.page.locator(f'input[name="event"][value="{step.event}"]')
        )
        form.locator("textarea").fill("经审核，符合要求。")
        screenshot(self.page, f"journey-role-{self.party}-{step.source}")
        form.locator("button").click()
        self.page.wait_for_load_state()
        self.read()
        expect(self.page.locator(".stage")).to_have_text(self.workflow.state(self.state).label.zh)

    def expert_scores(self, expert: object) -> None:
        if self.party != "expert" or expert is not self.world.expert(1)[0]:
            super().expert_scores(expert)  # type: ignore[arg-type]
            return
        page = self.page
        page.goto(f"{self.world.base_url}/expert/{self.id}")
        page.check("#declare-confirm")
        page.locator("form[action$='/declare'] button").click()
        page.wait_for_load_state()
        for criterion in case_rubric(self.world.portal, self.id).criteria:
            page.fill(f"#score-{criterion.id}", "86")
            comment = page.locator(f"#comment-{criterion.id}")
            if comment.count():
                comment.fill("论证充分。")
        screenshot(page, "journey-role-expert-scoring")
        page.locator("form[action$='/score'] button[type=submit]").click()
        page.wait_for_load_state()
        expect(page.locator("[aria-invalid=true]")).to_have_count(0)


def _browser_case(world: World, page: Page, party: str, applicant: Applicant) -> BrowserCase:
    case = BrowserCase(world, MEASURE, PACK.workflow_of(MEASURE), applicant)
    case.page = page
    case.party = party
    return case


def _applicant(world: World) -> Applicant:
    return world.applicant(MEASURE, PACK.example(MEASURE).facts)


@pytest.mark.parametrize("world", [WORLD], indirect=True)
@pytest.mark.parametrize("party", ["district", "bureau", "expert"])
def test_staff_role_in_the_browser(world: World, browser: Browser, party: str) -> None:
    """The district reviewer, the bureau or the first expert does their part of an approval in Chromium."""
    page = browser.new_page()
    case = _browser_case(world, page, party, _applicant(world))
    if party == "expert":
        world.expert(1)
        username = "j_expert_1"
    elif party == "district":
        world.district_reviewer(case.applicant.district)
        username = f"j_district_{case.applicant.district}"
    else:
        world.bureau_reviewer(str(PACK.in_force[MEASURE].lead_unit))
        username = f"j_bureau_{PACK.in_force[MEASURE].lead_unit}"
    sign_in(page, world.base_url, username)
    case.start()
    case.run(_approval(MEASURE))
    assert case.workflow.state(case.state).final
    page.close()


@pytest.mark.parametrize("world", [WORLD], indirect=True)
def test_enterprise_in_the_browser(world: World, browser: Browser, tmp_path: Path) -> None:
    """Registers, fills its profile, applies from the catalogue with uploads, and downloads its letter."""
    from tests.web.portal_helpers import new_uscc

    rule = PACK.in_force[MEASURE]
    facts = PACK.example(MEASURE).facts
    entity, fact = split_fact(PACK.city.jurisdictions.fact)
    district = str(facts.get(entity, {}).get(fact) or world.district)
    code, name = new_uscc(), "广州浏览器旅程智能科技有限公司"
    page = browser.new_page()
    base = world.base_url
    page.goto(f"{base}/register")
    page.fill("#field-uscc", code)
    page.fill("#field-name", name)
    page.select_option("#field-district", district)
    if world.ai_track:
        page.select_option("#field-ai_track", world.ai_track)
    page.fill("#field-username", "browser_clerk")
    page.fill("#field-display_name", "王会计")
    page.fill("#field-email", "clerk@example.cn")
    page.fill("#field-password", PASSWORD)
    page.fill("#field-password2", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/register/done"))
    verify_enterprise(world.portal, code)  # verification by papers has a browser journey of its own
    page.goto(f"{base}/login")
    page.fill("#field-username", "browser_clerk")
    page.fill("#field-password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.goto(f"{base}/profile")
    for entity, values in facts.items():
        for fact, value in values.items():
            field = page.locator(f"#f-{entity}-{fact}")
            if (entity == "enterprise" and fact in ("name", "uscc", "district")) or not field.count():
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(text)
            else:
                field.fill(text)
    screenshot(page, "journey-role-enterprise-profile")
    page.locator("form.fact-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()

    page.goto(f"{base}/catalogue")
    card = page.locator("li.result").filter(has_text=rule.title.zh)
    screenshot(page, "journey-role-enterprise-catalogue")
    card.locator("form[action='/applications'] button").click()
    page.wait_for_url(re.compile(r"/applications/\d+/edit"))
    application_id = int(re.search(r"/applications/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    form = world.portal.forms[MEASURE]
    applicant = Applicant(User(base), name, code, district, facts)
    identity = applicant.facts_with_identity(PACK.city)
    for field_name, value in form_answers(form, identity).items():
        spec = form.fields[field_name]
        if spec.widget == "radio":
            page.locator(f'input[name="{field_name}"][value="{value}"]').check()
            continue
        field = page.locator(f"#field-{field_name}")
        if not field.is_editable():
            continue  # identity fields come from the verified profile
        if spec.widget == "checkbox":
            field.set_checked(value == "true")
        elif spec.widget == "select":
            field.select_option(value)
        else:
            field.fill(value)
    for slot in form.attachments.values():
        path = tmp_path / f"{slot.id}.pdf"
        path.write_bytes(PDF_BYTES)
        page.set_input_files(f"#attachment-{slot.id}", str(path))
    screenshot(page, "journey-role-enterprise-form")
    page.locator('button[name="action"][value="check"]').click()
    page.locator(f'form[action="/applications/{application_id}/submit"] button[type=submit]').click()
    page.wait_for_url(re.compile(rf"/applications/{application_id}/submitted$"))
    workflow = PACK.workflow_of(MEASURE)
    first = _approval(MEASURE).steps[0]
    expect(page.locator(".stage")).to_have_text(workflow.state(first.target).label.zh)

    # The reviewers take it to the end over HTTP; the enterprise then downloads its letter.
    twin = applicant.user  # the same signed-in session, for the JSON reads the driver makes
    for cookie in page.context.cookies():
        twin.http.cookies.set(cookie["name"], cookie["value"])
    case = Case(world, MEASURE, workflow, applicant, id=application_id)
    case.read()
    case.run(Journey("approve", _approval(MEASURE).steps[1:]))
    page.goto(f"{base}/applications/{application_id}")
    expect(page.locator(".stage")).to_have_text(workflow.state(case.state).label.zh)
    screenshot(page, "journey-role-enterprise-decided")
    link = page.locator(f'a[href^="/applications/{application_id}/letters/"]').first
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".pdf")
    page.close()
    twin.close()


@pytest.mark.parametrize("world", [WORLD], indirect=True)
@pytest.mark.xfail(
    not importlib.util.find_spec("portal.web.routers.notices"),
    strict=True,
    reason="issue 10 §4: no public /notices page (engineer experts)",
)
def test_public_objects_on_the_notices_page(world: World, browser: Browser) -> None:
    """A member of the public finds the case on /notices and lodges an objection; a reviewer decides it."""
    workflow = PACK.workflow_of(MEASURE)
    journey = next(j for j in measure_journeys(PACK, MEASURE) if j.kind == "objection_dismissed")
    case = Case(world, MEASURE, workflow, _applicant(world))
    case.start()
    to_notice = list(journey.steps)
    cut = next(i for i, s in enumerate(to_notice) if is_notice_stage(workflow.state(s.target)))
    case.run(Journey("to_notice", tuple(to_notice[: cut + 1])))
    page = browser.new_page()
    page.goto(f"{world.base_url}/notices")
    entry = page.locator(f'a[href="/notices/{case.id}"]')
    expect(entry).to_have_text(case.applicant.name)
    screenshot(page, "journey-role-public-notices")
    entry.click()
    page.fill("#objection-name", "李市民")
    page.fill("#objection-contact", "13900139000")
    page.fill("#objection-email", "citizen@example.cn")
    page.fill("#objection-reasons", "该企业申报的项目投资额与实际不符，请核查。")
    screenshot(page, "journey-role-public-objection")
    page.locator(
        "#objection form button[type=submit], form[action$='/objection'] button[type=submit]"
    ).first.click()
    page.wait_for_load_state()
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)
    page.close()
    # A reviewer dismisses it over HTTP, and the case goes on to its end.
    rest = to_notice[cut + 1 :]
    objection_step = next(s for s in rest if "objection_pending" in s.edge.guards)
    case.staff_fires(objection_step)
    case.run(Journey("rest", tuple(rest[rest.index(objection_step) + 1 :])))
    assert workflow.state(case.state).final
