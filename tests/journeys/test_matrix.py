"""The journey matrix: every measure of the pack, along every path its workflow allows, over real HTTP.

Measures and paths are enumerated from the pack, so a measure added to the pack joins the matrix
with no new test code:

- a measure applied for online (it has a form) is driven from registration to a terminal state
  once per journey family its workflow allows (approve, reject, withdraw, amend, objection upheld
  and dismissed, expert replaced); for one measure of each workflow, every stage where the
  family's event is offered is driven too;
- at the end, each letter the case holds is fetched and read with pypdf (a PDF naming the
  enterprise and the measure, and no internal code), and the audit chain is verified;
- a measure that is not applied for online cannot be started as a draft.

`PORTAL_PACK_DIR` selects the pack, as it does for the portal.
"""

from __future__ import annotations

import importlib.util
import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from pypdf import PdfReader

from portal.db.audit import verify_chain
from portal.rules import load_pack
from portal.settings import Settings
from portal.workflows import load_workflows
from tests.journeys.conftest import PINNED
from tests.journeys.driver import Case, World, eligible_facts
from tests.support.workflow_paths import Journey, journeys

SETTINGS = Settings()
PACK = load_pack(SETTINGS.rules_dir)
WORKFLOWS = load_workflows(SETTINGS.workflows_dir)
IN_FORCE = {m: rule for m in PACK.measure_ids() if (rule := PACK.select(m, PINNED)) is not None}
# Applied for through the portal's form (the rule's channel says so); every other measure is claimed
# elsewhere (the tax filing, a partner bank) and must not be startable as a draft.
ONLINE = sorted(m for m, rule in IN_FORCE.items() if rule.applied_through_form)
OFFLINE = sorted(m for m, rule in IN_FORCE.items() if not rule.applied_through_form)
# Internal codes a reader must never meet in a letter: snake_case names and dotted measure ids.
INTERNAL_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+\.[a-z][a-z0-9_]+\b")


@dataclass(frozen=True)
class Planned:
    measure_id: str
    journey: Journey

    @property
    def id(self) -> str:
        return f"{self.measure_id}:{self.journey.id}"


def plan(*, every_stage: bool = True) -> list[Planned]:
    """Each online measure × each journey family its workflow allows.

    With `every_stage`, one measure of each workflow also takes each family at every stage
    where it is offered (rejected in district review, in bureau review, ...). Without it, only
    that measure takes the families other than approval: the rest approve only.
    """
    planned: list[Planned] = []
    representative: dict[str, str] = {}
    for measure_id in ONLINE:
        workflow_name = IN_FORCE[measure_id].workflow
        first = representative.setdefault(workflow_name, measure_id) == measure_id
        seen: set[str] = set()
        for journey in journeys(WORKFLOWS[workflow_name]):
            if every_stage:
                wanted = first or journey.kind not in seen
            else:
                wanted = journey.kind not in seen and (first or journey.kind == "approve")
            if wanted:
                planned.append(Planned(measure_id, journey))
                seen.add(journey.kind)
    return planned


def backend_plan() -> list[Any]:
    """SQLite drives the whole matrix. PostgreSQL approves every measure and takes every family
    once per workflow: the backends differ in storage, not in which stage a path leaves from."""
    params = [pytest.param("sqlite", p, id=f"sqlite-{p.id}", marks=gaps(p)) for p in plan()]
    params += [
        pytest.param("postgres", p, id=f"postgres-{p.id}", marks=[pytest.mark.postgres, *gaps(p)])
        for p in plan(every_stage=False)
    ]
    return params


def _serves(router: str) -> bool:
    return importlib.util.find_spec(f"portal.web.routers.{router}") is not None


def gaps(planned: Planned) -> list[pytest.MarkDecorator]:
    """Paths that cannot finish yet because a feature of issue 10 is missing, with its owner.

    Strict: the day the feature lands, the path passes and the mark must go.
    """
    if planned.journey.kind.startswith("objection") and not _serves("notices"):
        return [
            pytest.mark.xfail(
                strict=True, reason="issue 10 §4: no public /notices page to object on (engineer experts)"
            )
        ]
    if planned.journey.kind == "expert_replaced" and not _serves("panel"):
        return [
            pytest.mark.xfail(
                strict=True, reason="issue 10 §3: no route to decline or replace an expert (engineer experts)"
            )
        ]
    workflow = WORKFLOWS[IN_FORCE[planned.measure_id].workflow]
    disburses = any(
        workflow.state(step.source).kind == "decided" and workflow.state(step.target).final
        for step in planned.journey.steps
    )
    if disburses and not IN_FORCE[planned.measure_id].benefit:
        return [
            pytest.mark.xfail(
                strict=True,
                reason="issue 10 §2: a measure without a benefit (a status) still reaches disbursement, "
                "which fails (500); it should close at approval (engineer pack)",
            )
        ]
    return []


PLAN = plan()
PATHS_PER_MEASURE = Counter(p.measure_id for p in PLAN)


def test_the_matrix_covers_every_online_measure() -> None:
    """The count of paths per measure, printed for the record (`pytest -s`)."""
    assert set(PATHS_PER_MEASURE) == set(ONLINE)
    for measure_id, count in sorted(PATHS_PER_MEASURE.items()):
        print(f"{measure_id}: {count} paths")


@pytest.mark.parametrize(("world", "planned"), backend_plan(), indirect=["world"])
def test_journey(world: World, planned: Planned) -> None:
    rule = IN_FORCE[planned.measure_id]
    workflow = world.portal.workflows[rule.workflow]
    applicant = world.applicant(planned.measure_id, eligible_facts(world.portal.pack, rule, PINNED))
    case = Case(world, planned.measure_id, workflow, applicant)
    case.start()
    case.run(planned.journey)
    assert workflow.state(case.state).final
    for text in letters_of(case, expect_any=planned.journey.kind != "withdraw"):
        flat = re.sub(r"\s+", "", text)
        assert applicant.name in flat, text[:500]
        assert re.sub(r"\s+", "", rule.title.zh) in flat, text[:500]
    check_audit(case, planned.journey)


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
@pytest.mark.parametrize("measure_id", ONLINE)
@pytest.mark.xfail(
    strict=True, reason="issue 10 §7: letters print fact names and measure ids (engineer experts)"
)
def test_letters_print_no_internal_code(world: World, measure_id: str) -> None:
    rule = IN_FORCE[measure_id]
    workflow = world.portal.workflows[rule.workflow]
    applicant = world.applicant(measure_id, eligible_facts(world.portal.pack, rule, PINNED))
    printed: list[str] = []
    for journey in journeys(workflow):
        if journey.kind in ("approve", "reject") and not gaps(Planned(measure_id, journey)):
            case = Case(world, measure_id, workflow, applicant)
            case.start()
            case.run(journey)
            printed += letters_of(case, expect_any=True)
    codes = {code for text in printed for code in INTERNAL_CODE.findall(text)}
    assert not codes, f"letters print internal codes {sorted(codes)}"


def letters_of(case: Case, *, expect_any: bool) -> list[str]:
    """The text of each letter the enterprise can download from its case page, checked to be a PDF."""
    html = case.enterprise.page(f"/applications/{case.id}")
    links = re.findall(rf'href="(/applications/{case.id}/letters/\d+\.pdf)"', html)
    assert bool(links) == expect_any, links
    texts = []
    for link in links:
        response = case.enterprise.http.get(link)
        assert response.status_code == 200, link
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        texts.append(
            "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.content)).pages)
        )
    return texts


def check_audit(case: Case, journey: Journey) -> None:
    with case.world.portal.reading() as session:
        report = verify_chain(session)
    assert report.ok, report
    history = case.read()["history"]
    # States, not events: the panel's last score may move the case by itself instead of a reviewer.
    visited = [h["to"] for h in history if h["from"] != h["to"]]
    assert visited == [s.target for s in journey.steps if s.source != s.target], visited


@pytest.mark.parametrize(
    "world", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("measure_id", OFFLINE)
def test_no_draft_for_a_measure_not_applied_for_online(world: World, measure_id: str) -> None:
    applicant = world.applicant("(offline)", {})  # any enterprise, with an empty profile
    status = applicant.user.api_status("POST", "/applications", {"measure_id": measure_id})
    assert 400 <= status < 500
    listed = applicant.user.api("GET", "/applications")["applications"]
    assert [a for a in listed if a["measure_id"] == measure_id] == []
