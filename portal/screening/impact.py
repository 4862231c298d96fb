"""Impact of a rule change: replay the same facts under two rule versions and diff the outcomes.

A REF is a rule file (that one version, whatever its effective window, because the question is
"what does this text change") or a git revision of the pack's `rules/` (every measure, each in
the version in force on the evaluation date). Both sides run through the same SQL compiler as
screening, so the impact report agrees with what screening would publish.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection

from portal.rules.batch.compiler import OUTCOME, ROW_KEY, compile_rule
from portal.rules.facts import FactDictionary
from portal.rules.model import Rule
from portal.rules.pack import FACTS_FILE, Pack, load_pack
from portal.screening.engines import load_facts, run_rule
from portal.screening.inputs import ROW_ID, ScreeningInput

RULES_DIR = "rules"


class RefError(ValueError):
    """A REF that is neither a readable rule file nor a git revision holding rules/."""


@dataclass(frozen=True)
class RuleSet:
    """What one REF stands for: the rules to replay, and the fact dictionary they are bound to."""

    ref: str
    facts: FactDictionary
    rules: dict[str, Rule]
    """measure id → rule: a file's one version, or each measure's version in force on `--on`."""
    pack: Pack | None = None
    """A git REF's whole revision, so a replay at another date takes the version then in force."""
    only: tuple[str, ...] = ()
    """A git REF's `--measure` choice; empty for every measure of the revision."""

    def measure_ids(self) -> set[str]:
        """The measures this REF speaks about, whatever the date."""
        if self.pack is None:
            return set(self.rules)
        return set(self.only or self.pack.measure_ids())

    def rule_for(self, measure: str, on: date) -> Rule | None:
        """The version to replay for `measure` on `on`: a file's version always, a revision's if in force."""
        if self.pack is None:
            return self.rules.get(measure)
        return self.pack.select(measure, on) if measure in self.measure_ids() else None


@dataclass(frozen=True)
class Flip:
    """One row whose outcome differs between the two rule versions, with its benefits under each."""

    key: str
    uscc: str | None
    measure: str
    old: str
    new: str
    old_benefit: dict[str, Decimal]
    new_benefit: dict[str, Decimal]


@dataclass
class ImpactReport:
    """What changed over one input: the flips, their count per direction and the money totals."""

    rows: int
    measures: list[str]
    flips: list[Flip] = field(default_factory=list)
    directions: Counter[tuple[str, str]] = field(default_factory=Counter)
    benefit_totals: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """money benefit name → (total under OLD, total under NEW), over eligible rows."""

    def to_json(self) -> dict[str, object]:
        """The document `portal rules impact --format json` prints for an INPUT."""
        return {
            "rows": self.rows,
            "measures": self.measures,
            "flips": {f"{old}->{new}": n for (old, new), n in sorted(self.directions.items())},
            "benefit_change": {
                name: {"old": str(old), "new": str(new), "change": str(new - old)}
                for name, (old, new) in sorted(self.benefit_totals.items())
            },
            "affected": [
                {
                    "key": f.key, "uscc": f.uscc, "measure": f.measure, "old": f.old, "new": f.new,
                    "old_benefit": {k: str(v) for k, v in f.old_benefit.items()},
                    "new_benefit": {k: str(v) for k, v in f.new_benefit.items()},
                }
                for f in self.flips
            ],
        }  # fmt: skip


def resolve_ref(ref: str, repo: Path, on: date, measures: Sequence[str] = ()) -> RuleSet:
    """Load what REF names; a path that exists is a rule file, anything else a git revision."""
    path = Path(ref)
    if path.is_file():
        return _from_file(ref, path)
    pack = _from_git(ref, repo)
    rules: dict[str, Rule] = {}
    for measure in measures or pack.measure_ids():
        rule = pack.select(measure, on)
        if rule is not None:
            rules[measure] = rule
    return RuleSet(ref, pack.facts, rules, pack, tuple(measures))


def same_measure(old: RuleSet, new: RuleSet) -> None:
    """Two rule files must be versions of one measure; comparing unrelated measures means nothing."""
    if set(old.rules) != set(new.rules) and len(old.rules) == len(new.rules) == 1:
        raise RefError(
            f"{old.ref} and {new.ref} are different measures: {', '.join([*old.rules, *new.rules])}"
        )


def _from_file(ref: str, path: Path) -> RuleSet:
    root = next((d for d in path.resolve().parents if (d / FACTS_FILE).is_file()), None)
    if root is None:
        raise RefError(f"{ref}: no facts.yaml in any folder above this rule file")
    pack = load_pack(root)
    rule = next((r for r in pack.rules if r.path.resolve() == path.resolve()), None)
    if rule is None:
        raise RefError(f"{ref}: not a rule file of the pack at {root}")
    return RuleSet(ref, pack.facts, {rule.id: rule})


def _from_git(ref: str, repo: Path) -> Pack:
    """`git archive REV rules/` into a temporary folder; the pack is fully loaded before it is removed."""
    if ref.startswith("-"):
        # git would read it as an option (e.g. --output=FILE writes anywhere), not as a revision.
        raise RefError(f"{ref}: neither a rule file nor a git revision (a revision cannot start with -)")
    try:
        archive = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", str(repo), "archive", "--format=tar", ref, RULES_DIR],  # noqa: S607
            capture_output=True, check=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = (
            exc.stderr.decode(errors="replace").strip()
            if isinstance(exc, subprocess.CalledProcessError)
            else exc
        )
        raise RefError(
            f"{ref}: neither a rule file nor a git revision with {RULES_DIR}/ in {repo} ({detail})"
        ) from None
    with tempfile.TemporaryDirectory(prefix="portal-impact-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        return load_pack(Path(tmp) / RULES_DIR)


def compare(conn: Connection, data: ScreeningInput, old: RuleSet, new: RuleSet, on: date) -> ImpactReport:
    """Run both rule sets over `data` in SQL and collect every changed outcome."""
    same_measure(old, new)
    measures = sorted(set(old.rules) & set(new.rules))
    old_runs = [compile_rule(old.rules[m], old.facts, on) for m in measures]
    new_runs = [compile_rule(new.rules[m], new.facts, on) for m in measures]
    needed = {c for run in [*old_runs, *new_runs] for c in run.fact_columns}
    load_facts(conn, data.facts.select([ROW_KEY, *(n for n in data.facts.column_names if n in needed)]))
    keys = _keys(data)
    has_uscc = "enterprise__uscc" in data.facts.column_names
    usccs = data.facts.column("enterprise__uscc").to_pylist() if has_uscc else [None] * data.facts.num_rows
    report = ImpactReport(rows=data.facts.num_rows, measures=measures)
    for measure, old_run, new_run in zip(measures, old_runs, new_runs, strict=True):
        before, after = run_rule(conn, old_run), run_rule(conn, new_run)
        old_out, new_out = before.column(OUTCOME).to_pylist(), after.column(OUTCOME).to_pylist()
        old_benefits, new_benefits = _benefits(before, old_run.benefits), _benefits(after, new_run.benefits)
        # Only amounts of money add up; a total of compensation ratios would mean nothing.
        for name, values in old_benefits.items():
            if old.rules[measure].benefit[name].type == "money":
                _add(report, name, values, 0)
        for name, values in new_benefits.items():
            if new.rules[measure].benefit[name].type == "money":
                _add(report, name, values, 1)
        for i, (was, now) in enumerate(zip(old_out, new_out, strict=True)):
            if was == now:
                continue
            report.directions[(was, now)] += 1
            report.flips.append(Flip(
                keys[i], usccs[i], measure, was, now,
                {k: v[i] for k, v in old_benefits.items() if v[i] is not None},  # type: ignore[misc]
                {k: v[i] for k, v in new_benefits.items() if v[i] is not None},  # type: ignore[misc]
            ))  # fmt: skip
    return report


def _keys(data: ScreeningInput) -> list[str]:
    column = ROW_ID if data.has_row_id else ROW_KEY
    return [str(v) for v in data.facts.column(column).to_pylist()]


def _benefits(results: pa.Table, labels: tuple[tuple[str, str], ...]) -> dict[str, list[Decimal | None]]:
    return {
        name: [None if v is None else Decimal(v) for v in results.column(label).to_pylist()]
        for name, label in labels
    }


def _add(report: ImpactReport, name: str, values: list[Decimal | None], side: int) -> None:
    total = sum((v for v in values if v is not None), Decimal(0))
    old, new = report.benefit_totals.get(name, (Decimal(0), Decimal(0)))
    report.benefit_totals[name] = (old + total, new) if side == 0 else (old, new + total)
