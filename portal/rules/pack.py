"""A policy pack: the fact dictionary, the lead units and every measure version, ready to evaluate."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

from portal.rules.errors import RuleFileError
from portal.rules.facts import FactDictionary, load_facts
from portal.rules.model import Rule, read_rule_file
from portal.rules.result import Outcome, Result
from portal.rules.text import LANGS, Reader, Text
from portal.rules.yaml_loader import YMap, load_yaml

FACTS_FILE = "facts.yaml"
UNITS_FILE = "units.yaml"
UNIT_ABBR = "abbr"
# The pack's own file beside rules/ (portal.city reads the rest of it); the engine reads only the
# labels of enum values from it, so that hints and messages name values as people know them.
PACK_FILE = "pack.yaml"
# The expert-scoring rubrics, in the pack's workflows/ directory; a rule's `rubric:` names one by stem.
RUBRICS_DIR = "rubrics"
VALUE_LABELS = "value_labels"


@dataclass
class Pack:
    """`units` maps a unit code to its names and abbreviation: {"zh", "en", "abbr"}."""

    root: Path
    facts: FactDictionary
    units: dict[str, dict[str, str]]
    rules: list[Rule]

    def unit_abbr(self, code: str) -> str:
        """The unit's 发文机关代字 (穗科 for gzsti), the prefix of its document numbers.

        A document number is official and never reissued, so an unknown unit or one without
        an abbreviation raises KeyError instead of printing a made-up prefix.
        """
        abbr = self.units.get(code, {}).get("abbr", "")
        if not abbr:
            raise KeyError(f"unit {code!r} has no `abbr` in {self.root / UNITS_FILE}")
        return abbr

    @cached_property
    def _by_measure(self) -> dict[str, tuple[Rule, ...]]:
        """Each measure's versions, oldest first, measures sorted: read on every check, built once."""
        found: dict[str, list[Rule]] = {}
        for rule in sorted(self.rules, key=lambda r: r.effective_from):
            found.setdefault(rule.id, []).append(rule)
        return {measure_id: tuple(found[measure_id]) for measure_id in sorted(found)}

    def measure_ids(self) -> list[str]:
        """Every measure of the pack, sorted."""
        return list(self._by_measure)

    def versions(self, measure_id: str) -> list[Rule]:
        """All versions of a measure, oldest first."""
        return list(self._by_measure.get(measure_id, ()))

    def rubric_named(self, measure_id: str) -> Rule | None:
        """The version whose `rubric:` the measure's experts score on (None: it names none)."""
        return shared_rubric(self._by_measure.get(measure_id, ()))

    def select(self, measure_id: str, on: date) -> Rule | None:
        """The version in force on `on`; if windows overlap (a lint error) the newest start wins."""
        chosen = None
        for rule in self._by_measure.get(measure_id, ()):
            if rule.in_force(on):
                chosen = rule
        return chosen

    def evaluate(
        self, measure_id: str, facts: Mapping[str, Mapping[str, object]], on: date, trace: bool = True
    ) -> Result:
        """Evaluate parsed facts; a date outside every version window gives `not_in_force`."""
        versions = self._by_measure.get(measure_id)
        if not versions:
            raise KeyError(f"unknown measure {measure_id!r}")
        rule = self.select(measure_id, on)
        if rule is None:
            return not_in_force(measure_id, list(versions), on)
        return rule.evaluate(facts, on, trace)  # type: ignore[arg-type]

    def check(
        self,
        facts: Mapping[str, Mapping[str, object]],
        on: date,
        measures: Sequence[str] | None = None,
        lang: str = "zh",
    ) -> dict[str, object]:
        """The `portal check --json` document. Raw facts are parsed (FactError on bad input).

        Without `measures`, measures whose entity is absent from the facts are skipped; a measure
        asked for by id is always answered, `undetermined` with its missing facts when its entity
        is absent. Unknown measure ids raise KeyError.
        """
        parsed = self.facts.parse(facts)
        by_measure = self._by_measure
        wanted = list(measures) if measures else list(by_measure)
        for measure_id in wanted:
            if measure_id not in by_measure:
                raise KeyError(f"unknown measure {measure_id!r}")
        results = []
        for measure_id in wanted:
            if not measures and by_measure[measure_id][-1].applies_to not in parsed:
                continue
            results.append(self.evaluate(measure_id, parsed, on).to_json(lang))
        return {"on": on.isoformat(), "results": results}


def not_in_force(measure_id: str, versions: list[Rule], on: date) -> Result:
    windows = "; ".join(rule.window_text() for rule in versions)
    title = versions[-1].title  # people read the hint: the measure's title, not its id
    return Result(
        measure=measure_id,
        version=None,
        category=versions[-1].category,
        outcome=Outcome.NOT_IN_FORCE,
        rule_hash=None,
        on=on,
        benefit={},
        criteria=[],
        missing_facts=[],
        hints={
            "zh": [f"{title.zh} 在 {on.isoformat()} 不在有效期内（有效期：{windows}）"],
            "en": [f"{title.en} is not in force on {on.isoformat()} (in force: {windows})"],
        },
    )


def shared_rubric(versions: Sequence[Rule]) -> Rule | None:
    """The first of a measure's versions if it names a rubric; every version must name the same.

    A panel's stored sheets are keyed by the rubric's criteria, so a new version must not change
    them under a case in review: a version that disagrees is a RuleFileError naming its file and
    `rubric`.
    """
    if not versions:
        return None
    first = versions[0]
    for rule in versions[1:]:
        if rule.rubric != first.rubric:
            raise RuleFileError(
                rule.path,
                rule.lines.get("rubric", 1),
                "rubric",
                f"names {rule.rubric or 'none'}, but {first.path.name} names {first.rubric or 'none'}: "
                "all versions of a measure name the same rubric",
            )
    return first if first.rubric is not None else None


def rule_files(rules_dir: Path) -> list[Path]:
    """Every measure file below the pack root: all *.yaml except facts.yaml and units.yaml at the top."""
    return sorted(
        p
        for p in rules_dir.rglob("*.yaml")
        if p.is_file() and not (p.parent == rules_dir and p.name in (FACTS_FILE, UNITS_FILE))
    )


def unit_gaps(path: Path, units: Mapping[str, Mapping[str, str]]) -> list[RuleFileError]:
    """Each missing name or 发文机关代字 of units.yaml, at its unit's line: lint lists them all,
    and loading refuses the first, since a unit's names reach pages and its abbreviation
    numbers official letters and notices (an empty one would fail only when the first is issued)."""
    gaps = [
        (code, key)
        for code, unit in units.items()
        for key in (*LANGS, UNIT_ABBR)
        if not unit.get(key, "").strip()
    ]
    if not gaps:
        return []
    data = load_yaml(path)
    assert isinstance(data, YMap)  # load_units has read it as a mapping
    return [
        RuleFileError(
            path,
            data.line_of(code),
            f"{code}.{key}",
            "missing 发文机关代字 (e.g. 穗科)" if key == UNIT_ABBR else f"missing {key} text",
        )
        for code, key in gaps
    ]


def load_units(path: Path) -> dict[str, dict[str, str]]:
    """Code → {"zh", "en", "abbr"}; a missing name or abbreviation is kept empty (see unit_gaps)."""
    if not path.is_file():
        return {}
    data = load_yaml(path)
    if data is None:
        return {}
    top = Reader(path, data, "", 1)
    units: dict[str, dict[str, str]] = {}
    for code in top.data:
        top.require(code)
        unit = top.reader(code)
        unit.only({*LANGS, UNIT_ABBR})
        units[code] = {key: unit.text_field(key, required=False) or "" for key in (*LANGS, UNIT_ABBR)}
    return units


def load_value_labels(path: Path) -> dict[str, dict[str, Text]]:
    """`value_labels` of the pack's pack.yaml: qualified fact → value → zh/en; {} without the file."""
    if not path.is_file():
        return {}
    data = load_yaml(path)
    if not isinstance(data, YMap) or VALUE_LABELS not in data:
        return {}
    top = Reader(path, data, "", 1)
    block = top.mapping(VALUE_LABELS)
    labels: dict[str, dict[str, Text]] = {}
    for fact in block:
        values = Reader(path, block[fact], f"{VALUE_LABELS}.{fact}", block.line_of(fact))
        labels[str(fact)] = {}
        for value in values.data:
            text = values.text(str(value))
            assert text is not None
            labels[str(fact)][str(value)] = text
    return labels


def load_pack(rules_dir: Path) -> Pack:
    """Read and compile a pack; the first schema, name or type error raises RuleFileError."""
    rules_dir = Path(rules_dir)
    facts_path = rules_dir / FACTS_FILE
    if not facts_path.is_file():
        raise RuleFileError(facts_path, 0, "", "the pack has no facts.yaml")
    facts = load_facts(facts_path)
    facts.value_labels = load_value_labels(rules_dir.parent / PACK_FILE)
    units = load_units(rules_dir / UNITS_FILE)
    if gaps := unit_gaps(rules_dir / UNITS_FILE, units):
        raise gaps[0]
    rules: list[Rule] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in rule_files(rules_dir):
        rule = read_rule_file(path)
        key = (rule.id, rule.version)
        if key in seen:
            raise RuleFileError(
                path,
                rule.lines.get("version", 1),
                "version",
                f"{rule.id} version {rule.version} is also defined in {seen[key]}",
            )
        seen[key] = path
        rule.bind(facts)
        rules.append(rule)
    return Pack(rules_dir, facts, units, rules)
