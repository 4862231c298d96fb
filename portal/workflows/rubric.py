"""Expert scoring: a weighted rubric from YAML, each expert's total, and the panel's consensus.

All arithmetic is Decimal so a score shown to an applicant is exactly the score the pass
mark was compared with.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from portal.rules.errors import RuleFileError
from portal.rules.yaml_loader import load_yaml
from portal.workflows.errors import RubricScoreError, WorkflowFileError
from portal.workflows.spec import Label

_CENT = Decimal("0.01")
_SCORE_MIN = Decimal(0)
_SCORE_MAX = Decimal(100)


@dataclass(frozen=True)
class Criterion:
    """One scored aspect with its weight (weights need not sum to 100; the mean is normalised)."""

    id: str
    label: Label
    weight: Decimal
    guidance: Label | None


@dataclass(frozen=True)
class Band:
    """A named part of the 0–100 scale (e.g. 90 and above reads 优秀), shown to experts as guidance."""

    min: Decimal
    label: Label


@dataclass(frozen=True)
class Consensus:
    """The panel result. `passed` is None when too few scores count, which blocks the case."""

    outcome: Literal["passed", "failed", "not_enough_scores"]
    mean: Decimal | None
    counted_expert_ids: tuple[int, ...]
    excluded_expert_ids: tuple[int, ...]
    required: int

    @property
    def passed(self) -> bool | None:
        """What `CaseContext.scores_passed` should hold."""
        return None if self.outcome == "not_enough_scores" else self.outcome == "passed"


def consensus(
    totals: Mapping[int, Decimal],
    excluded_expert_ids: Iterable[int] = (),
    *,
    pass_mark: Decimal = Decimal(70),
    min_scores: int = 3,
) -> Consensus:
    """Mean of the experts' totals after dropping conflicted experts; needs `min_scores` of them.

    `totals` maps expert id → that expert's rubric total; the mean is rounded half-up to
    cents before it is compared with `pass_mark`.
    """
    excluded = set(excluded_expert_ids)
    counted = tuple(sorted(expert for expert in totals if expert not in excluded))
    dropped = tuple(sorted(expert for expert in totals if expert in excluded))
    if len(counted) < min_scores:
        return Consensus("not_enough_scores", None, counted, dropped, min_scores)
    mean = (sum((totals[e] for e in counted), Decimal(0)) / len(counted)).quantize(_CENT, ROUND_HALF_UP)
    outcome: Literal["passed", "failed"] = "passed" if mean >= pass_mark else "failed"
    return Consensus(outcome, mean, counted, dropped, min_scores)


@dataclass(frozen=True)
class Rubric:
    """A weighted score sheet with its pass mark and the minimum number of experts."""

    id: str
    title: Label
    pass_mark: Decimal
    min_scores: int
    criteria: tuple[Criterion, ...]
    # The scale's named bands, highest first; empty when the pack names none.
    bands: tuple[Band, ...] = ()
    # Working days an assigned expert has to declare and score before the lead unit may replace them.
    response_working_days: int = 5
    scale_max: Decimal = _SCORE_MAX

    def total(self, scores: Mapping[str, Decimal | int]) -> Decimal:
        """The weighted mean of one expert's criterion scores (0–100), rounded half-up to cents."""
        expected = {criterion.id for criterion in self.criteria}
        missing, unknown = expected - set(scores), set(scores) - expected
        if missing or unknown:
            raise RubricScoreError(
                f"scores must cover exactly {sorted(expected)}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        weighted = Decimal(0)
        for criterion in self.criteria:
            value = scores[criterion.id]
            if isinstance(value, bool) or not isinstance(value, Decimal | int):
                raise RubricScoreError(f"{criterion.id}: {value!r} must be a Decimal or an integer")
            score = Decimal(value)
            if not (_SCORE_MIN <= score <= _SCORE_MAX):
                raise RubricScoreError(f"{criterion.id}: {score} is outside 0–100")
            weighted += score * criterion.weight
        weight_sum = sum((criterion.weight for criterion in self.criteria), Decimal(0))
        return (weighted / weight_sum).quantize(_CENT, ROUND_HALF_UP)

    def consensus(self, totals: Mapping[int, Decimal], excluded_expert_ids: Iterable[int] = ()) -> Consensus:
        """The panel result under this rubric's pass mark and minimum number of scores."""
        return consensus(totals, excluded_expert_ids, pass_mark=self.pass_mark, min_scores=self.min_scores)


def load_rubrics(directory: Path) -> dict[str, Rubric]:
    """Every `*.yaml` directly in `directory`, keyed by its `id`, which must be the file's stem so
    that a rule's `rubric:` names a file a reader can open."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise WorkflowFileError(directory, "no rubric files (*.yaml) found")
    rubrics = {}
    for path in paths:
        rubric = load_rubric(path)
        if rubric.id != path.stem:
            raise WorkflowFileError(path, f"id: {rubric.id!r} must be the file's name, {path.stem!r}")
        rubrics[rubric.id] = rubric
    return rubrics


def load_rubric(path: Path) -> Rubric:
    """Read a rubric file; raises WorkflowFileError naming the file and the bad field."""
    try:
        raw = load_yaml(path)
    except RuleFileError as exc:
        raise WorkflowFileError(path, f"cannot read YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise WorkflowFileError(path, "top level: must be a mapping")
    unknown = set(raw) - {
        "id",
        "title",
        "pass_mark",
        "min_scores",
        "criteria",
        "bands",
        "response_working_days",
    }
    if unknown:
        raise WorkflowFileError(path, f"top level: unknown key(s) {sorted(unknown)}")
    if not isinstance(raw.get("id"), str):
        raise WorkflowFileError(path, "id: must be a text")
    pass_mark = _number(path, "pass_mark", raw.get("pass_mark"))
    if not (_SCORE_MIN <= pass_mark <= _SCORE_MAX):
        raise WorkflowFileError(path, f"pass_mark: {pass_mark} is outside 0–100")
    min_scores = raw.get("min_scores", 3)
    if isinstance(min_scores, bool) or not isinstance(min_scores, int) or min_scores < 1:
        raise WorkflowFileError(path, "min_scores: must be a whole number of at least 1")
    items = raw.get("criteria")
    if not isinstance(items, list) or not items:
        raise WorkflowFileError(path, "criteria: must be a non-empty list")
    criteria = tuple(_criterion(path, f"criteria[{i}]", item) for i, item in enumerate(items))
    ids = [criterion.id for criterion in criteria]
    if len(set(ids)) != len(ids):
        raise WorkflowFileError(path, f"criteria: duplicate ids in {ids}")
    response_days = raw.get("response_working_days", 5)
    if isinstance(response_days, bool) or not isinstance(response_days, int) or response_days < 1:
        raise WorkflowFileError(path, "response_working_days: must be a whole number of at least 1")
    return Rubric(
        id=raw["id"],
        title=_label(path, "title", raw.get("title")),
        pass_mark=pass_mark,
        min_scores=min_scores,
        criteria=criteria,
        bands=_bands(path, raw.get("bands", []), pass_mark),
        response_working_days=response_days,
    )


def _bands(path: Path, items: object, pass_mark: Decimal) -> tuple[Band, ...]:
    """The named bands, highest first; one begins at the lowest whole score that reaches the pass
    mark, so that no band reads as meeting the bar across the line where a sheet fails."""
    if not isinstance(items, list):
        raise WorkflowFileError(path, "bands: must be a list")
    bands = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"min", "label"}:
            raise WorkflowFileError(path, f"bands[{i}]: needs exactly `min` and `label`")
        low = _number(path, f"bands[{i}].min", item["min"])
        if not (_SCORE_MIN <= low <= _SCORE_MAX):
            raise WorkflowFileError(path, f"bands[{i}].min: {low} is outside 0–100")
        bands.append(Band(low, _label(path, f"bands[{i}].label", item["label"])))
    if [b.min for b in bands] != sorted((b.min for b in bands), reverse=True):
        raise WorkflowFileError(path, "bands: list them from the highest `min` down")
    line = pass_mark.to_integral_value(rounding=ROUND_CEILING)
    if bands and line not in {b.min for b in bands}:
        raise WorkflowFileError(
            path,
            f"bands: no band begins at {line}, the lowest whole score reaching the pass mark {pass_mark}",
        )
    return tuple(bands)


def _number(path: Path, where: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise WorkflowFileError(path, f"{where}: {value!r} must be a number")
    return Decimal(value)


def _label(path: Path, where: str, value: object) -> Label:
    zh = value.get("zh") if isinstance(value, dict) else None
    en = value.get("en") if isinstance(value, dict) else None
    if not (isinstance(zh, str) and zh and isinstance(en, str) and en):
        raise WorkflowFileError(path, f"{where}: needs non-empty `zh` and `en` texts")
    return Label(zh=zh, en=en)


def _criterion(path: Path, where: str, item: Any) -> Criterion:
    if not isinstance(item, dict):
        raise WorkflowFileError(path, f"{where}: must be a mapping")
    unknown = set(item) - {"id", "label", "weight", "guidance"}
    if unknown:
        raise WorkflowFileError(path, f"{where}: unknown key(s) {sorted(unknown)}")
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise WorkflowFileError(path, f"{where}.id: must be a text")
    weight = _number(path, f"{where}.weight", item.get("weight"))
    if weight <= 0:
        raise WorkflowFileError(path, f"{where}.weight: must be positive")
    guidance = _label(path, f"{where}.guidance", item["guidance"]) if "guidance" in item else None
    return Criterion(
        id=item["id"],
        label=_label(path, f"{where}.label", item.get("label")),
        weight=weight,
        guidance=guidance,
    )
