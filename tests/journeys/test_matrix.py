"""The journey matrix: every measure of every pack, along every path its workflow allows, over real HTTP.

Measures and paths are enumerated from the pack, so a measure added to a pack joins the matrix
with no new test code, and a pack added under tests/packs/ joins it too:

- a measure applied for online (its channel says so) is driven from registration to a terminal
  state once per journey family its workflow allows (approve, reject, withdraw, amend, objection
  upheld and dismissed, expert replaced); for one measure of each workflow, every stage where the
  family's event is offered is driven too. Whether a case is disbursed or closes at approval
  follows the measure's benefit (`when:` edges);
- at the end, each letter the case holds is fetched and read with pypdf (a PDF naming the
  enterprise and the measure, and no internal code), one letter per stage entered that declares
  `issues_letter`, and the audit chain is verified;
- a measure that is not applied for online cannot be started as a draft.
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
from tests.journeys.driver import Case, World
from tests.journeys.packs import PACKS, PackUnderTest
from tests.support.workflow_paths import Journey, journeys

# Internal codes a reader must never meet in a letter: snake_case names and dotted measure ids.
INTERNAL_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+\.[a-z][a-z0-9_]+\b")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass(frozen=True)
class Planned:
    pack: str
    measure_id: str
    journey: Journey

    @property
    def id(self) -> str:
        return f"{self.pack}-{self.measure_id}:{self.journey.id}"


def measure_journeys(pack: PackUnderTest, measure_id: str) -> list[Journey]:
    """The journeys of the measure's workflow, for a case built on its eligible example."""
    return journeys(pack.workflow_of(measure_id), pack.example(measure_id).holds)


def plan(pack: PackUnderTest, *, every_stage: bool = True) -> list[Planned]:
    """Each online measure × each journey family its workflow allows.

    With `every_stage`, one measure of each workflow also takes each family at every stage
    where it is offered (rejected in district review, in bureau review, ...). Without it, only
    that measure takes the families other than approval: the rest approve only.
    """
    planned: list[Planned] = []
    representative: dict[str, str] = {}
    for measure_id in pack.online:
        first = representative.setdefault(pack.workflow_of(measure_id).name, measure_id) == measure_id
        seen: set[str] = set()
        for journey in measure_journeys(pack, measure_id):
            if every_stage:
                wanted = first or journey.kind not in seen
            else:
                wanted = journey.kind not in seen and (first or journey.kind == "approve")
            if wanted:
                planned.append(Planned(pack.name, measure_id, journey))
                seen.add(journey.kind)
    return planned


def backend_plan() -> list[Any]:
    """SQLite drives the whole matrix. PostgreSQL approves every measure and takes every family
    once per workflow: the backends differ in storage, not in which stage a path leaves from."""
    params = []
    for pack in PACKS.values():
        params += [
            pytest.param(f"{pack.name}/sqlite", p, id=f"sqlite-{p.id}", marks=gaps(p)) for p in plan(pack)
        ]
        params += [
            pytest.param(
                f"{pack.name}/postgres", p, id=f"postgres-{p.id}", marks=[pytest.mark.postgres, *gaps(p)]
            )
            for p in plan(pack, every_stage=False)
        ]
    return params


def _serves(router: str) -> bool:
    return importlib.util.find_spec(f"portal.web.routers.{router}") is not None


def gaps(planned: Planned) -> list[pytest.MarkDecorator]:
    """Paths that cannot finish yet because a feature of issue 10 is missing, with its owner.

    Strict: the day the feature lands the condition turns false and the path runs as any other.
    """
    if planned.journey.kind.startswith("objection") and not _serves("notices"):
        reason = "issue 10 §4: no public /notices page to object on (engineer experts)"
        return [pytest.mark.xfail(strict=True, reason=reason)]
    if planned.journey.kind == "expert_replaced" and not _serves("panel"):
        reason = "issue 10 §3: no route to decline or replace an expert (engineer experts)"
        return [pytest.mark.xfail(strict=True, reason=reason)]
    return []


PATHS_PER_MEASURE = {pack.name: Counter(p.measure_id for p in plan(pack)) for pack in PACKS.values()}


@pytest.mark.parametrize("pack", PACKS.values(), ids=lambda p: p.name)
def test_the_matrix_covers_every_online_measure(pack: PackUnderTest) -> None:
    """The count of paths per measure, printed for the record (`pytest -s`)."""
    counted = PATHS_PER_MEASURE[pack.name]
    assert set(counted) == set(pack.online)
    for measure_id, count in sorted(counted.items()):
        print(f"{pack.name} {measure_id}: {count} paths")


@pytest.mark.parametrize(("world", "planned"), backend_plan(), indirect=["world"])
def test_journey(world: World, planned: Planned) -> None:
    pack = world.pack
    rule = pack.in_force[planned.measure_id]
    workflow = pack.workflow_of(planned.measure_id)
    applicant = world.applicant(planned.measure_id, pack.example(planned.measure_id).facts)
    case = Case(world, planned.measure_id, workflow, applicant)
    case.start()
    case.run(planned.journey)
    assert workflow.state(case.state).final
    issued = [
        s for s in planned.journey.steps if s.source != s.target and workflow.state(s.target).issues_letter
    ]
    for text in letters_of(case, expected=len(issued)):
        flat = re.sub(r"\s+", "", text)
        assert applicant.name in flat, text[:500]
        assert re.sub(r"\s+", "", rule.title.zh) in flat, text[:500]
    check_audit(case, planned.journey)


@pytest.mark.parametrize("world", [f"{name}/sqlite" for name in PACKS], indirect=True)
@pytest.mark.xfail(
    not _serves("case_outcomes"),
    strict=True,
    reason="issue 10 §7: letters print fact names and measure ids (engineer experts)",
)
def test_letters_print_no_internal_code(world: World) -> None:
    """An approval and a rejection of every online measure, read for internal codes."""
    pack = world.pack
    printed: list[str] = []
    for measure_id in pack.online:
        applicant = world.applicant(measure_id, pack.example(measure_id).facts)
        wanted = {"approve", "reject"}
        for journey in measure_journeys(pack, measure_id):
            if journey.kind in wanted:
                wanted.discard(journey.kind)
                case = Case(world, measure_id, pack.workflow_of(measure_id), applicant)
                case.start()
                case.run(journey)
                printed += letters_of(case)
    codes = {code for text in printed for code in INTERNAL_CODE.findall(text)}
    assert not codes, f"letters print internal codes {sorted(codes)}"


def letters_of(case: Case, *, expected: int | None = None) -> list[str]:
    """The text of each letter the enterprise can download from its case page, checked to be a PDF."""
    html = case.enterprise.page(f"/applications/{case.id}")
    links = re.findall(rf'href="(/applications/{case.id}/letters/\d+\.pdf)"', html)
    assert expected is None or len(links) == expected, links
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
    ("world", "measure_id"),
    [
        pytest.param(f"{pack.name}/sqlite", m, id=f"sqlite-{pack.name}-{m}")
        for pack in PACKS.values()
        for m in pack.offline
    ]
    + [
        pytest.param(f"{pack.name}/postgres", m, id=f"postgres-{pack.name}-{m}", marks=pytest.mark.postgres)
        for pack in PACKS.values()
        for m in pack.offline
    ],
    indirect=["world"],
)
def test_no_draft_for_a_measure_not_applied_for_online(world: World, measure_id: str) -> None:
    applicant = world.applicant("(offline)", {})  # any enterprise, with an empty profile
    status = applicant.user.api_status("POST", "/applications", {"measure_id": measure_id})
    assert 400 <= status < 500
    listed = applicant.user.api("GET", "/applications")["applications"]
    assert [a for a in listed if a["measure_id"] == measure_id] == []
