"""Driving a case through review over HTTP: the reviewers, the expert panel, the public notice."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html import unescape

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

try:  # as the web tests import it (tests/web on sys.path) …
    from portal_helpers import case_form, client_of, enterprise_with_case, fire, login, staff
except ModuleNotFoundError:  # … or as tests.web.review_helpers, from the browser tests
    from tests.web.portal_helpers import case_form, client_of, enterprise_with_case, fire, login, staff

from portal.db.tables import Application
from portal.services import sla
from portal.services.context import Portal
from portal.services.enterprises import actor_for_username
from portal.workflows import Actor, Workflow
from portal.workflows.rubric import Rubric
from portal.workflows.spec import TransitionSpec
from tests.support.rubrics import case_rubric
from tests.support.workflow_paths import find_path, is_unfavourable, is_withdrawal, kind

BUREAU = "hzkgxj"  # the lead unit of subsidy.ai_scenario_demo, the measure the helpers apply for


@dataclass
class ReviewedCase:
    """One submitted case with the enterprise's and the bureau's signed-in clients."""

    app: FastAPI
    application_id: int
    enterprise: TestClient
    bureau: TestClient
    bureau_name: str
    district: TestClient | None = None

    @property
    def portal(self) -> Portal:
        portal: Portal = self.app.state.portal
        return portal

    @property
    def rubric(self) -> Rubric:
        """The rubric the case's experts score on."""
        return case_rubric(self.portal, self.application_id)

    @property
    def bureau_actor(self) -> Actor:
        return actor_for_username(self.portal, self.bureau_name)


def favourable_only(workflow: Workflow) -> Callable[[TransitionSpec], bool]:
    """Avoid the edges a reviewer takes against a case, and the applicant's withdrawal."""
    return lambda edge: is_unfavourable(workflow, edge) or is_withdrawal(workflow, edge)


def to_expert_review(
    app: FastAPI, *, name: str | None = None, profile: dict[str, str] | None = None, **answers: str
) -> ReviewedCase:
    portal = app.state.portal
    enterprise, application_id = enterprise_with_case(app, name=name, profile=profile, **answers)
    district = client_of(app)
    login(district, staff(portal, "reviewer", district="haizhu"))
    bureau = client_of(app)
    bureau_name = staff(portal, "reviewer", bureau=BUREAU)
    login(bureau, bureau_name)
    pass_to_experts(portal, application_id, {"district": district, "bureau": bureau})
    return ReviewedCase(app, application_id, enterprise, bureau, bureau_name, district)


def pass_to_experts(
    portal: Portal, application_id: int, clients: dict[str, TestClient], comment: str = "同意"
) -> None:
    """The reviewers pass a submitted case on until it reaches the expert stage, over HTTP.

    The events come from the workflow (the favourable path), each fired by the party's client
    (`district` or `bureau`), so a stage added to the pack is walked through with no edit.
    """
    with portal.reading() as session:
        application = session.get(Application, application_id)
        assert application is not None
        state, workflow = application.state, portal.workflows[application.workflow]
    for step in find_path(workflow, state, kind("expert"), avoid=favourable_only(workflow)):
        assert fire(clients[step.party], application_id, step.event, comment) == 303, step


def assign(case: ReviewedCase) -> tuple[str, int]:
    """A new expert put on the panel through the case page; returns (username, user id)."""
    name = staff(case.portal, "expert")
    expert_id = actor_for_username(case.portal, name).user_id
    version, token = case_form(case.bureau, f"/review/{case.application_id}")
    response = case.bureau.post(
        f"/review/{case.application_id}/experts",
        data={"csrf_token": token, "expert_id": str(expert_id), "expected_version": str(version)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[-2000:]
    return name, expert_id


def expert_client(case: ReviewedCase, name: str) -> TestClient:
    client = client_of(case.app)
    login(client, name)
    return client


def declare(client: TestClient, application_id: int) -> None:
    version, token = case_form(client, f"/expert/{application_id}")
    response = client.post(
        f"/expert/{application_id}/declare",
        data={"csrf_token": token, "expected_version": str(version), "confirm": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[-2000:]


def score_form(case: ReviewedCase, value: str, comment: str = "") -> dict[str, str]:
    form = {f"score:{c.id}": value for c in case.rubric.criteria}
    form.update({f"comment:{c.id}": comment for c in case.rubric.criteria})
    return form


def score(client: TestClient, case: ReviewedCase, value: str = "85", comment: str = "论证充分") -> Response:
    version, token = case_form(client, f"/expert/{case.application_id}")
    return client.post(
        f"/expert/{case.application_id}/score",
        data={"csrf_token": token, "expected_version": str(version), **score_form(case, value, comment)},
        follow_redirects=False,
    )


def to_public_notice(app: FastAPI, *, name: str | None = None, **answers: str) -> ReviewedCase:
    """A case in expert review whose panel then scores it into the public notice."""
    case = to_expert_review(app, name=name, **answers)
    score_panel(case)
    return case


def score_panel(case: ReviewedCase) -> None:
    """Three experts declare and score 85: the third score publishes the notice by itself."""
    for _ in range(case.rubric.min_scores):
        expert, _ = assign(case)
        client = expert_client(case, expert)
        declare(client, case.application_id)
        assert score(client, case).status_code == 303


def sweep_after(portal: Portal, days: int) -> None:
    """Run the SLA sweep `days` calendar days from today, as cron would then."""
    saved = portal.today_override
    portal.today_override = portal.today() + timedelta(days=days)
    try:
        sla.sweep(portal)
    finally:
        portal.today_override = saved


def field_errors(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="field-error"[^>]*>([^<]+)<', html)]
