"""What an evaluation returns: the outcome, benefits, the per-leaf trace and explanations.

`Result.to_json(lang)` is the per-measure object of `portal check --json`, which is a published
contract (docs/rule-files.md). The trace's `CriterionResult` objects and the hints are built
lazily, so evaluating with the trace on costs only the recording of values, not objects and
text nobody reads.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from portal.rules.criteria import Leaf
from portal.rules.text import Text

if TYPE_CHECKING:
    from portal.rules.evaluate import CompiledRule


class Outcome(StrEnum):
    """The outcome of one measure: three-valued, plus `not_in_force` for a date outside every version."""

    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    UNDETERMINED = "undetermined"
    NOT_IN_FORCE = "not_in_force"


class Verdict(StrEnum):
    """The three-valued outcome of one criterion (Kleene logic)."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"


VERDICT_OF: dict[bool | None, Verdict] = {True: Verdict.PASS, False: Verdict.FAIL, None: Verdict.UNKNOWN}

Trace = tuple[list[object], list[object], list[bool | None], dict[int, tuple[str, ...]]]
"""A recorded trace, leaves in tree order: values seen, values expected, verdicts, and the
supplied facts each unknown leaf lacks (by leaf position)."""


VARIES: object = object()
"""`LeafInfo.operand` of a leaf whose operand is not a constant."""
_VERDICT_TEXT: dict[bool | None, str] = {True: "pass", False: "fail", None: "unknown"}
_BANDS = 16  # operands per leaf whose `expected` JSON is kept


@dataclass(frozen=True, slots=True)
class LeafInfo:
    """The static half of a trace entry, prepared once per rule."""

    leaf: Leaf
    message: Text
    source: Text  # the rule's citation, zh and en
    kind: str  # type of the subject: money, ratio, int, ...
    label: Text
    # Labels of the subject's enum values (天河区 for tianhe), so hints never show a code.
    values: Mapping[str, Text] = field(default_factory=dict)
    # The operand when the rule file fixes it (a threshold), else VARIES: its JSON is made once.
    operand: object = field(default=VARIES, kw_only=True)
    _entries: dict[bool | None, dict[str, object]] = field(init=False, repr=False, compare=False)
    _expected_json: dict[int, tuple[object, dict[str, object]]] = field(init=False, repr=False, compare=False)

    def expected_json(self, expected: object) -> dict[str, object]:
        """The entry's `expected` for an operand worked out per evaluation (a table band, a formula).

        Made once per object for the first few objects seen: a table's bands are the same objects
        every time, and an entry shares the dict of its band.
        """
        known = self._expected_json.get(id(expected))
        if known is not None and known[0] is expected:
            return known[1]
        shown: dict[str, object] = {"op": self.leaf.op, "value": json_value(expected)}
        if len(self._expected_json) < _BANDS:  # held with the object, so its id stays its own
            self._expected_json[id(expected)] = (expected, shown)
        return shown

    def __post_init__(self) -> None:
        fixed = None if self.operand is VARIES else {"op": self.leaf.op, "value": json_value(self.operand)}
        message = self.message.to_json()
        entries = {
            verdict: {
                "id": self.leaf.id,
                "fact": self.leaf.fact,
                "value": None,
                "expected": fixed,
                "outcome": text,
                "message": message,
                "source": self.source.zh,
                "source_en": self.source.en,
            }
            for verdict, text in _VERDICT_TEXT.items()
        }
        object.__setattr__(self, "_entries", entries)  # frozen: set once, here
        object.__setattr__(self, "_expected_json", {})


_AS_IS = frozenset({bool, int, str, type(None)})  # JSON as they are
_OUTCOME_TEXT: dict[Outcome, str] = {outcome: outcome.value for outcome in Outcome}
_ELIGIBLE = Outcome.ELIGIBLE  # a module global: cheaper than an enum lookup


class CriterionResult:
    """One leaf of the trace: what was seen, what was expected, and the verdict."""

    __slots__ = ("expected", "info", "missing", "outcome", "value")

    def __init__(
        self, info: LeafInfo, value: object, expected: object, outcome: Verdict, missing: tuple[str, ...] = ()
    ) -> None:
        self.info = info
        self.value = value
        self.expected = expected
        self.outcome = outcome
        self.missing = missing

    @property
    def id(self) -> str:
        """The criterion's id in the rule file."""
        return self.info.leaf.id

    @property
    def fact(self) -> str | None:
        """The qualified fact the criterion tests, or None for an `expr` criterion (a formula)."""
        return self.info.leaf.fact

    @property
    def op(self) -> str:
        """The comparison, as written in the rule file (`>=`, `is`, `in`, ...)."""
        return self.info.leaf.op

    @property
    def message(self) -> Text:
        """The criterion in words, in zh and en (its `because`, or one generated from the test)."""
        return self.info.message

    @property
    def source(self) -> Text:
        """The legal source the criterion cites: document and article, in zh and en."""
        return self.info.source

    def to_json(self) -> dict[str, object]:
        """The trace entry of `portal check --json` (docs/rule-files.md)."""
        verdict = {Verdict.PASS: True, Verdict.FAIL: False, Verdict.UNKNOWN: None}[self.outcome]
        return entries_json((self.info,), (self.value,), (self.expected,), (verdict,))[0]

    def __repr__(self) -> str:
        return (
            f"CriterionResult({self.id!r}, {self.value!r}, {self.op} {self.expected!r}, {self.outcome.value})"
        )


def entries_json(
    infos: Sequence[LeafInfo],
    seen: Sequence[object],
    expected: Sequence[object],
    verdicts: Sequence[bool | None],
) -> list[dict[str, object]]:
    """The `criteria` entries of the published JSON from recorded values, expectations and verdicts.

    Each is a copy of its leaf's static part for its verdict with the value filled in. The `message`
    object, and `expected` for a constant or a table band, are shared by every entry of the leaf: the
    document is for serialising, not for editing. One loop for all leaves: a call per entry costs
    about as much as the copy.
    """
    entries = []
    for info, value, wanted, verdict in zip(infos, seen, expected, verdicts, strict=False):
        entry = info._entries[verdict].copy()
        kind = type(value)
        entry["value"] = str(value) if kind is Decimal else value if kind in _AS_IS else json_value(value)
        if wanted is not info.operand:
            entry["expected"] = info.expected_json(wanted)
        entries.append(entry)
    return entries


def json_value(value: object) -> object:
    """Decimals as strings (exact), dates as ISO text, tuples as lists."""
    kind = type(value)
    if kind is Decimal:
        return str(value)
    if value is None or kind is bool or kind is int or kind is str:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    return value


class Result:
    """The evaluation of one measure for one set of facts on one date."""

    __slots__ = (
        "_compiled",
        "_criteria",
        "_hints",
        "_trace",
        "benefit",
        "category",
        "measure",
        "missing_facts",
        "on",
        "outcome",
        "potential_benefit",
        "potential_up_to",
        "rule_hash",
        "version",
    )

    def __init__(
        self,
        measure: str,
        version: str | None,
        category: str,
        outcome: Outcome,
        rule_hash: str | None,
        on: date,
        benefit: dict[str, Decimal],
        missing_facts: list[str],
        criteria: list[CriterionResult] | None = None,
        compiled: "CompiledRule | None" = None,
        hints: dict[str, list[str]] | None = None,
        trace: Trace | None = None,
        potential_benefit: dict[str, Decimal] | None = None,
        potential_up_to: list[str] | None = None,
    ) -> None:
        """`criteria` is the trace as built; `trace` the recorded one, built on first read.

        Keyword calls read best; the evaluator passes positionally because keyword calls of this
        many parameters cost more than the rest of a short rule's evaluation.
        """
        self.measure = measure
        self.version = version
        self.category = category
        self.outcome = outcome
        self.rule_hash = rule_hash
        self.on = on
        self.benefit = benefit
        self.missing_facts = missing_facts
        self._criteria = criteria
        self._compiled = compiled
        self._hints = hints
        self._trace = trace
        # Undetermined only: what the measure would grant if the missing facts come out
        # favourably (`benefit` stays what is granted); names in `potential_up_to` are ceilings.
        self.potential_benefit = potential_benefit if potential_benefit is not None else {}
        self.potential_up_to = potential_up_to if potential_up_to is not None else []

    @property
    def criteria(self) -> list[CriterionResult]:
        """The trace, one entry per leaf in tree order; empty when evaluated with `trace=False`."""
        if self._criteria is None:
            compiled, trace = self._compiled, self._trace
            self._criteria = compiled.records(trace) if compiled is not None and trace is not None else []
        return self._criteria

    @property
    def hints(self) -> list[str]:
        """What would make it pass, in Chinese; see `hints_in` for English."""
        return self.hints_in("zh")

    def hints_in(self, lang: str) -> list[str]:
        """Hints need the trace: with `trace=False` only the missing facts are named."""
        if self.outcome is _ELIGIBLE and not self.missing_facts:  # nothing to explain or ask for
            return []
        if self._hints is None:
            self._hints = {}
        hints = self._hints.get(lang)
        if hints is None:
            hints = self._hints[lang] = [] if self._compiled is None else self._compiled.hints(self, lang)
        return hints

    def to_json(self, lang: str = "zh") -> dict[str, object]:
        """The per-measure object of `portal check --json`, with hints in `lang` (docs/rule-files.md)."""
        return {
            "measure": self.measure,
            "version": self.version,
            "category": self.category,
            "outcome": _OUTCOME_TEXT[self.outcome],
            "rule_hash": self.rule_hash,
            "benefit": _amounts_json(self.benefit) if self.benefit else {},
            "criteria": self._criteria_json(),
            "missing_facts": list(self.missing_facts),
            "hints": self.hints_in(lang),
            "potential_benefit": _amounts_json(self.potential_benefit) if self.potential_benefit else {},
            "potential_benefit_up_to": list(self.potential_up_to),
        }

    def _criteria_json(self) -> list[dict[str, object]]:
        """Straight from the recorded trace when there is one: no `CriterionResult` in between."""
        compiled, trace = self._compiled, self._trace
        if self._criteria is not None or compiled is None or trace is None:
            return [c.to_json() for c in self.criteria]
        seen, expected, verdicts, _missing = trace
        return entries_json(compiled.leaf_infos, seen, expected, verdicts)

    def __repr__(self) -> str:
        return f"Result({self.measure!r}, {self.version!r}, {self.outcome.value}, benefit={self.benefit})"


def _amounts_json(amounts: dict[str, Decimal]) -> dict[str, str]:
    """Amounts as exact strings; a loop, as a dict comprehension costs a function call of its own."""
    shown = {}
    for name, amount in amounts.items():
        shown[name] = str(amount)
    return shown
