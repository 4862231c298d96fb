"""Weighted rubric totals, panel consensus and conflict-of-interest predicates."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from portal.workflows import WorkflowFileError
from portal.workflows.conflicts import ApplicantParties, ExpertAffiliation, conflict_reasons, has_conflict
from portal.workflows.errors import RubricScoreError
from portal.workflows.rubric import Rubric, consensus, load_rubric

D = Decimal


def sheet(technology: int, application: int, team: int, benefit: int, feasibility: int) -> dict[str, Decimal]:
    return {
        "technology": D(technology),
        "application": D(application),
        "team": D(team),
        "benefit": D(benefit),
        "feasibility": D(feasibility),
    }


def test_default_rubric_is_the_declared_one(rubric: Rubric) -> None:
    assert [(c.label.zh, c.weight) for c in rubric.criteria] == [
        ("技术先进性", D(30)),
        ("应用场景与示范效应", D(25)),
        ("团队与研发能力", D(20)),
        ("经济与社会效益", D(15)),
        ("实施方案可行性", D(10)),
    ]
    assert (rubric.pass_mark, rubric.min_scores) == (D(70), 3)


def test_total_is_the_weighted_mean(rubric: Rubric) -> None:
    # (80·30 + 70·25 + 60·20 + 90·15 + 50·10) / 100 = 72.00
    assert rubric.total(sheet(80, 70, 60, 90, 50)) == D("72.00")
    assert rubric.total(sheet(100, 100, 100, 100, 100)) == D("100.00")
    # (33.3·30 + 0.05·10) / 100 = 9.995 exactly in Decimal, rounded half-up to 10.00.
    tie = {**sheet(0, 0, 0, 0, 0), "technology": D("33.3"), "feasibility": D("0.05")}
    assert rubric.total(tie) == D("10.00")
    assert isinstance(rubric.total(tie), Decimal)


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({"technology": D(80)}, "missing"),
        ({**sheet(1, 1, 1, 1, 1), "novelty": D(5)}, "unknown"),
        ({**sheet(1, 1, 1, 1, 1), "team": D("100.01")}, "outside 0–100"),
        ({**sheet(1, 1, 1, 1, 1), "team": D(-1)}, "outside 0–100"),
        ({**sheet(1, 1, 1, 1, 1), "team": 7.5}, "Decimal or an integer"),
    ],
)
def test_bad_score_sheets(rubric: Rubric, scores: dict[str, object], message: str) -> None:
    with pytest.raises(RubricScoreError, match=message):
        rubric.total(scores)  # type: ignore[arg-type]


def test_consensus_is_the_mean_of_at_least_three(rubric: Rubric) -> None:
    result = rubric.consensus({1: D("72.00"), 2: D("68.00"), 3: D("71.00")})
    assert (result.outcome, result.mean, result.passed) == ("passed", D("70.33"), True)
    assert result.counted_expert_ids == (1, 2, 3)


def test_pass_mark_boundary() -> None:
    assert consensus({1: D(70), 2: D(70), 3: D(70)}).outcome == "passed"
    assert consensus({1: D("69.99"), 2: D(70), 3: D(70)}).outcome == "passed"  # mean 69.997 → 70.00
    assert consensus({1: D("69.98"), 2: D(70), 3: D(70)}).outcome == "failed"  # mean 69.993 → 69.99
    assert consensus({1: D(90), 2: D(90), 3: D(90)}, pass_mark=D(95)).passed is False


def test_conflicted_expert_is_excluded() -> None:
    totals = {1: D(95), 2: D(60), 3: D(62), 4: D(64)}
    with_all = consensus(totals)
    without_1 = consensus(totals, excluded_expert_ids={1})
    assert with_all.passed is True and with_all.mean == D("70.25")
    assert without_1.passed is False and without_1.mean == D("62.00")
    assert without_1.excluded_expert_ids == (1,)


def test_not_enough_scores() -> None:
    result = consensus({1: D(90), 2: D(90), 3: D(90)}, excluded_expert_ids=[3])
    assert result.outcome == "not_enough_scores"
    assert result.mean is None and result.passed is None and result.required == 3
    assert consensus({}).outcome == "not_enough_scores"


HEAD = "id: x\ntitle: {zh: 表, en: Sheet}\n"
CRITERION_A = "{id: a, label: {zh: 甲, en: A}, weight: 1}"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (f"{HEAD}pass_mark: 170\ncriteria: [{CRITERION_A}]", "pass_mark"),
        (
            f"{HEAD}pass_mark: 70\ncriteria: [{{id: a, label: {{zh: 甲, en: A}}, weight: 0}}]",
            "criteria[0].weight",
        ),
        (f"{HEAD}pass_mark: 70\ncriteria: [{{id: a, label: {{zh: 甲}}, weight: 1}}]", "criteria[0].label"),
        (f"{HEAD}pass_mark: 70\ncriteria: []", "criteria"),
        (f"{HEAD}pass_mark: 70\nweights: 1\ncriteria: []", "unknown key"),
        (f"{HEAD}pass_mark: 70\ncriteria: [{CRITERION_A}, {CRITERION_A}]", "duplicate"),
        (f"{HEAD}pass_mark: .nan\ncriteria: [{CRITERION_A}]", "not a finite number"),
        (f"{HEAD}pass_mark: 70\ncriteria: [{{id: a, label: {{zh: 甲, en: A}}, weight: .inf}}]", "finite"),
        # A band of 60–74 under a pass mark of 70 calls 65 "meets the bar" on a sheet that fails it.
        (
            f"{HEAD}pass_mark: 70\ncriteria: [{CRITERION_A}]\n"
            "bands: [{min: 60, label: {zh: 一般, en: Fair}}, {min: 0, label: {zh: 差, en: Poor}}]",
            "bands: no band begins at 70",
        ),
        (
            f"{HEAD}pass_mark: 70.01\ncriteria: [{CRITERION_A}]\n"
            "bands: [{min: 70, label: {zh: 一般, en: Fair}}, {min: 0, label: {zh: 差, en: Poor}}]",
            "bands: no band begins at 71",
        ),
    ],
)
def test_bad_rubric_files(tmp_path: Path, body: str, where: str) -> None:
    path = tmp_path / "rubric.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(WorkflowFileError, match=re.escape(where)):
        load_rubric(path)


def test_decimal_weights_are_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "rubric.yaml"
    path.write_text(
        "id: x\ntitle: {zh: 表, en: Sheet}\npass_mark: 60.5\n"
        "criteria: [{id: a, label: {zh: 甲, en: A}, weight: 0.1}, {id: b, label: {zh: 乙, en: B}, "
        "weight: 0.2}]",
        encoding="utf-8",
    )
    loaded = load_rubric(path)
    assert loaded.pass_mark == D("60.5") and loaded.criteria[0].weight == D("0.1")
    assert loaded.total({"a": D(30), "b": D(60)}) == D("50.00")


APPLICANT = ApplicantParties(
    enterprise_id=501, uscc="91440101MA5XXXXX1A", team_employer_usccs=frozenset({"12440000455415345D"})
)


@pytest.mark.parametrize(
    ("expert", "reasons"),
    [
        (ExpertAffiliation(expert_id=1), ()),
        (ExpertAffiliation(expert_id=1, enterprise_id=501), ("same_enterprise",)),
        (ExpertAffiliation(expert_id=1, employer_uscc=" 91440101ma5xxxxx1a "), ("same_enterprise",)),
        (
            ExpertAffiliation(expert_id=1, declared_enterprise_ids=frozenset({501})),
            ("declared_relationship",),
        ),
        (ExpertAffiliation(expert_id=1, employer_uscc="12440000455415345D"), ("same_employer",)),
        (
            ExpertAffiliation(
                expert_id=1,
                enterprise_id=777,
                employer_uscc="914401017777777777",
                declared_enterprise_ids=frozenset({502}),
            ),
            (),
        ),
        (
            ExpertAffiliation(
                expert_id=1,
                enterprise_id=501,
                declared_enterprise_ids=frozenset({501}),
                employer_uscc="12440000455415345D",
            ),
            ("same_enterprise", "declared_relationship", "same_employer"),
        ),
    ],
)
def test_conflict_of_interest(expert: ExpertAffiliation, reasons: tuple[str, ...]) -> None:
    assert conflict_reasons(expert, APPLICANT) == reasons
    assert has_conflict(expert, APPLICANT) is bool(reasons)


def test_a_rubric_that_is_not_utf8_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "rubric.yaml"
    path.write_bytes(b"\xff\xfe" + HEAD.encode("utf-16-le"))
    with pytest.raises(WorkflowFileError, match="utf-8"):
        load_rubric(path)
