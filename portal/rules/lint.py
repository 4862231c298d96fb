"""`portal rules lint`: every problem in a pack, each as `file:line: message`.

Schema errors stop the reading of that file only; the other checks (names and types, effective
windows, decision tables, citations, bilingual text, examples, workflow and lead unit, and
whether the rule compiles to SQL for batch screening) run on every file that could be read, so
one run lists everything to fix.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from portal.rules.batch import compile_check
from portal.rules.criteria import BenefitSpec, Parameter, Table, leaves
from portal.rules.errors import FactError, RuleFileError
from portal.rules.facts import FactDictionary, load_facts
from portal.rules.model import CHANNELS, FORM_CHANNELS, Rule, read_rule_file
from portal.rules.pack import (
    FACTS_FILE,
    RUBRICS_DIR,
    UNITS_FILE,
    load_units,
    rule_files,
    shared_rubric,
    unit_gaps,
)
from portal.rules.text import Text
from portal.rules.typecheck import Scope, check_rule

REQUIRED_EXAMPLE_OUTCOMES = ("eligible", "ineligible", "undetermined")


@dataclass(frozen=True, order=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def find_pack_root(path: Path) -> Path | None:
    """The nearest directory, at or above `path`, that holds a facts.yaml."""
    current = path.resolve() if path.is_dir() else path.resolve().parent
    for candidate in (current, *current.parents):
        if (candidate / FACTS_FILE).is_file():
            return candidate
    return None


def lint_paths(paths: list[Path]) -> list[Problem]:
    """Lint the packs holding `paths`; only problems in the named files (or below named dirs) are kept."""
    problems: list[Problem] = []
    by_root: dict[Path, list[Path]] = defaultdict(list)
    for path in paths:
        if not path.exists():
            problems.append(Problem(path, 0, "no such file or directory"))
            continue
        root = find_pack_root(path)
        if root is None:
            problems.append(Problem(path, 0, f"no {FACTS_FILE} found here or in a parent directory"))
            continue
        by_root[root].append(path.resolve())
    for root, selected in by_root.items():
        for problem in lint_pack(root):
            target = problem.path.resolve()
            if any(target == s or (s.is_dir() and s in target.parents) for s in selected):
                problems.append(problem)
    return sorted(set(problems))


def lint_pack(root: Path) -> list[Problem]:
    try:
        facts = load_facts(root / FACTS_FILE)
    except RuleFileError as exc:
        return [_problem(exc)]
    problems = _lint_facts(facts)
    units: dict[str, dict[str, str]] | None
    try:
        units = load_units(root / UNITS_FILE) if (root / UNITS_FILE).is_file() else None
    except RuleFileError as exc:
        problems.append(_problem(exc))
        units = None
    if units is not None:
        problems += _lint_units(root / UNITS_FILE, units)
    rules: list[Rule] = []
    for path in rule_files(root):
        try:
            rule = read_rule_file(path)
        except RuleFileError as exc:
            problems.append(_problem(exc))
            continue
        rules.append(rule)
        named = check_rule(rule, facts)
        problems += [_problem(exc) for exc in named]
        problems += _lint_rule(rule, facts, units, root.parent / "workflows", typed=not named)
        problems += _lint_channel(rule, root.parent / "forms")
    problems += _lint_windows(rules)
    problems += _lint_rubrics(rules)
    return problems


def _problem(exc: RuleFileError) -> Problem:
    where = f"{exc.field}: " if exc.field else ""
    return Problem(exc.path, exc.line, f"{where}{exc.message}")


def _lint_facts(facts: FactDictionary) -> list[Problem]:
    return [
        Problem(facts.path, spec.line, f"{spec.qualified}.label: {msg}")
        for spec in facts.specs.values()
        for msg in _missing_text(spec.label)
    ]


def _lint_units(path: Path, units: dict[str, dict[str, str]]) -> list[Problem]:
    """Every unit needs both names and the 发文机关代字 its letters and notices are numbered with."""
    return [_problem(gap) for gap in unit_gaps(path, units)]


def _missing_text(text: Text | None) -> list[str]:
    if text is None:
        return ["missing zh/en text"]
    return [f"missing {lang} text" for lang, value in (("zh", text.zh), ("en", text.en)) if not value.strip()]


def _lint_rule(
    rule: Rule, facts: FactDictionary, units: dict[str, dict[str, str]] | None, workflows: Path, typed: bool
) -> list[Problem]:
    out: list[Problem] = []

    def add(line: int, message: str) -> None:
        out.append(Problem(rule.path, line, message))

    lines = rule.lines
    for msg in _missing_text(rule.title):
        add(lines.get("title", 1), f"title: {msg}")
    # The catalogue's page for the measure reads these to people who have not read the source.
    for msg in _missing_text(rule.summary):
        add(lines.get("summary", 1), f"summary: {msg} (the catalogue's plain-language summary)")
    if rule.who is not None:
        for msg in _missing_text(rule.who):
            add(lines.get("who", 1), f"who: {msg}")
    source_line = lines.get("source", 1)
    for part in ("document", "article"):
        if not getattr(rule.source, part):
            add(source_line, f"source.{part}: missing citation")
        elif not getattr(rule.source, f"{part}_en"):
            add(source_line, f"source.en.{part}: missing English citation (English pages cite it)")
    if rule.source.confidence in ("proposal", "unsourced", "medium") and rule.source.note is None:
        add(source_line, f"source.note: confidence {rule.source.confidence} needs a note explaining it")
    if rule.source.note is not None:
        for msg in _missing_text(rule.source.note):
            add(source_line, f"source.note: {msg}")
    for leaf in leaves(rule.criteria):
        if leaf.because is not None:
            for msg in _missing_text(leaf.because):
                add(leaf.line, f"criteria[{leaf.id}].because: {msg}")
    labelled: list[Parameter | BenefitSpec] = [*rule.parameters.values(), *rule.benefit.values()]
    for item in labelled:
        if item.label is not None:
            for msg in _missing_text(item.label):
                add(item.line, f"{item.name}.label: {msg}")
    if units is not None:
        if rule.lead_unit is None:
            add(1, "lead_unit: missing (a code from units.yaml)")
        elif rule.lead_unit not in units:
            add(lines.get("lead_unit", 1), f"lead_unit: {rule.lead_unit!r} is not in units.yaml")
    # Only `.yaml`: that is all `load_workflows` reads, so a `.yml` would pass lint and fail at start-up.
    if (
        rule.workflow is not None
        and workflows.is_dir()
        and not (workflows / f"{rule.workflow}.yaml").is_file()
    ):
        add(lines.get("workflow", 1), f"workflow: no workflow file {rule.workflow}.yaml in {workflows}")
    rubrics = workflows / RUBRICS_DIR
    if rule.rubric is not None and rubrics.is_dir() and not (rubrics / f"{rule.rubric}.yaml").is_file():
        add(lines.get("rubric", 1), f"rubric: no rubric file {rule.rubric}.yaml in {rubrics}")
    if typed:
        scope = Scope(rule, facts)
        for table in rule.tables.values():
            out += [
                Problem(rule.path, table.line, m) for m in table_problems(table, scope.type_of(table.input))
            ]
        # Screening and impact analysis run rules only as SQL; a rule that does not compile is
        # refused here rather than silently evaluated some other way.
        out += [Problem(rule.path, p.line, p.message) for p in compile_check(rule, facts)]
    out += _lint_examples(rule, facts)
    return out


def _lint_channel(rule: Rule, forms: Path) -> list[Problem]:
    """A measure says how it is obtained; one applied for online has a form, one claimed elsewhere
    says where, when and what to keep, so no card offers an application that cannot be made."""
    out: list[Problem] = []
    line = rule.lines.get("channel", 1)
    if rule.channel is None:
        return [Problem(rule.path, 1, f"channel: missing (one of {', '.join(CHANNELS)})")]
    # Like the workflow check: a pack without a forms/ directory is linted for its rules alone.
    if rule.channel in FORM_CHANNELS and forms.is_dir() and not (forms / f"{rule.id}.yaml").is_file():
        out.append(
            Problem(
                rule.path,
                line,
                f"channel: {rule.channel} needs a form, but {forms.name}/{rule.id}.yaml is missing",
            )
        )
    claim_line = rule.lines.get("claim", line)
    claim = rule.claim
    if rule.channel in ("tax_filing", "none") and claim is None:
        out.append(
            Problem(
                rule.path, line, f"claim: a {rule.channel} measure says where it is claimed (claim.where)"
            )
        )
    if rule.channel == "tax_filing" and claim is not None:
        if claim.when is None:
            out.append(
                Problem(rule.path, claim_line, "claim.when: a tax_filing measure says when it is claimed")
            )
        if not claim.keep:
            out.append(
                Problem(
                    rule.path,
                    claim_line,
                    "claim.keep: a tax_filing measure lists the documents to keep (留存备查)",
                )
            )
    if claim is not None:
        texts = {"claim.where": claim.where, "claim.when": claim.when}
        texts.update({f"claim.keep[{i}]": t for i, t in enumerate(claim.keep)})
        for name, text in texts.items():
            if name == "claim.when" and text is None:
                continue
            out += [Problem(rule.path, claim_line, f"{name}: {msg}") for msg in _missing_text(text)]
    return out


def _lint_examples(rule: Rule, facts: FactDictionary) -> list[Problem]:
    out: list[Problem] = []
    line = rule.lines.get("examples", 1)
    if len(rule.examples) < 3:
        out.append(
            Problem(rule.path, line, f"examples: {len(rule.examples)} example(s), at least 3 are required")
        )
    kinds = {example.outcome for example in rule.examples}
    lacking = [k for k in REQUIRED_EXAMPLE_OUTCOMES if k not in kinds]
    if lacking:
        out.append(Problem(rule.path, line, f"examples: no {', '.join(lacking)} example"))
    for example in rule.examples:
        try:
            facts.parse(example.facts)
        except FactError as exc:
            out.append(Problem(rule.path, example.line, f"examples[{example.name}]: {exc}"))
    return out


def _lint_rubrics(rules: list[Rule]) -> list[Problem]:
    """A measure's versions name one rubric (see `shared_rubric`)."""
    by_id: dict[str, list[Rule]] = defaultdict(list)
    for rule in sorted(rules, key=lambda r: r.effective_from):
        by_id[rule.id].append(rule)
    out = []
    for versions in by_id.values():
        try:
            shared_rubric(versions)
        except RuleFileError as exc:
            out.append(_problem(exc))
    return out


def _lint_windows(rules: list[Rule]) -> list[Problem]:
    out: list[Problem] = []
    by_id: dict[str, list[Rule]] = defaultdict(list)
    for rule in rules:
        by_id[rule.id].append(rule)
    for versions in by_id.values():
        versions.sort(key=lambda r: r.effective_from)
        for earlier, later in pairwise(versions):
            if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                out.append(
                    Problem(
                        later.path,
                        later.lines.get("effective", 1),
                        f"effective: window {later.window_text()} overlaps version {earlier.version} "
                        f"({earlier.window_text()}) in {earlier.path.name}",
                    )
                )
    return out


# --- decision tables ------------------------------------------------------------------------

_INF = Decimal("Infinity")


@dataclass(frozen=True)
class _Interval:
    low: Decimal
    low_closed: bool
    high: Decimal
    high_closed: bool
    row: int


def table_problems(table: Table, input_type: str) -> list[str]:
    """Gaps (values no row matches) and, for `unique`, overlaps (values two rows match)."""
    if table.hit == "collect":
        return []
    if input_type in ("enum", "bool", "text"):
        return _discrete_problems(table)
    if input_type not in ("int", "money", "ratio", "number"):
        return []
    intervals: list[_Interval] = []
    for index, row in enumerate(table.rows):
        interval = _interval(row.when, index, input_type == "int")
        if interval is None:
            return []  # `!=` or `in` on numbers: not an interval, so not analysed
        intervals.append(interval)
    problems = []
    if table.hit == "unique":
        for i, a in enumerate(intervals):
            for b in intervals[i + 1 :]:
                if _intersects(a, b):
                    problems.append(
                        f"tables.{table.name}: rows {a.row} and {b.row} overlap (hit policy unique)"
                    )
    problems += [f"tables.{table.name}: {gap}" for gap in _gaps(intervals, input_type == "int")]
    return problems


def _interval(when: tuple[object, ...], row: int, integer: bool) -> _Interval | None:
    low, low_closed, high, high_closed = -_INF, False, _INF, False
    for cond in when:
        op, value = cond.op, cond.value  # type: ignore[attr-defined]
        if op in ("!=", "in"):
            return None
        bound = Decimal(value)
        if op in (">=", ">", "==") and (bound > low or (bound == low and op != ">")):
            low, low_closed = bound, op != ">"
        if op in ("<=", "<", "==") and (bound < high or (bound == high and op != "<")):
            high, high_closed = bound, op != "<"
    if integer:
        # On whole numbers `> 3` is `>= 4`: normalise so adjacency can be checked with a step of 1.
        if low.is_finite() and not low_closed:
            low, low_closed = low.to_integral_value(rounding="ROUND_FLOOR") + 1, True
        elif low.is_finite():
            low = low.to_integral_value(rounding="ROUND_CEILING")
        if high.is_finite() and not high_closed:
            high, high_closed = high.to_integral_value(rounding="ROUND_CEILING") - 1, True
        elif high.is_finite():
            high = high.to_integral_value(rounding="ROUND_FLOOR")
    return _Interval(low, low_closed, high, high_closed, row)


def _intersects(a: _Interval, b: _Interval) -> bool:
    low, low_closed = max((a.low, a.low_closed), (b.low, b.low_closed), key=lambda p: (p[0], not p[1]))
    high, high_closed = min((a.high, a.high_closed), (b.high, b.high_closed), key=lambda p: (p[0], p[1]))
    return low < high or (low == high and low_closed and high_closed)


def _gaps(intervals: list[_Interval], integer: bool) -> list[str]:
    """Walk the intervals in order over the domain [0, ∞) and report every uncovered stretch."""
    gaps: list[str] = []
    covered, covered_closed = (Decimal(-1), True) if integer else (Decimal(0), False)
    for item in sorted(intervals, key=lambda i: (i.low, not i.low_closed)):
        if integer:
            starts_in = item.low <= covered + 1
        else:
            starts_in = item.low < covered or (item.low == covered and (item.low_closed or covered_closed))
        if not starts_in:
            left = covered + 1 if integer else covered
            gaps.append(f"gap: no row matches values from {left} to {item.low}")
        if item.high > covered or (item.high == covered and item.high_closed):
            covered, covered_closed = item.high, item.high_closed
    if covered != _INF:
        gaps.append(f"gap: no row matches values above {covered}")
    return gaps


def _discrete_problems(table: Table) -> list[str]:
    seen: dict[object, int] = {}
    problems: list[str] = []
    for index, row in enumerate(table.rows):
        values: tuple[object, ...] = ()
        for cond in row.when:
            if cond.op == "==":
                values = (cond.value,)
            elif cond.op == "in":
                values = tuple(cond.value)  # type: ignore[arg-type]
            else:
                return []
        if not row.when:
            return problems  # a catch-all row: no gap possible
        for value in values:
            if value in seen and table.hit == "unique":
                problems.append(f"tables.{table.name}: rows {seen[value]} and {index} both match {value!r}")
            seen.setdefault(value, index)
    return problems
