"""The rule engine: policy measures as data, evaluated with three-valued logic and a trace.

Usable alone: `load_pack(path)` reads a pack directory (facts.yaml, units.yaml, one YAML file per
measure version) into a `Pack`; `pack.evaluate(measure, facts, on)` gives a `Result` with its
trace (`CriterionResult`s) and hints, and `pack.check(facts, on)` the `portal check --json`
document. The rules' typed IR (criteria and formula nodes) is internal.
"""

from portal.rules.errors import FactError, RuleFileError
from portal.rules.facts import FactDictionary, FactSpec
from portal.rules.model import Rule
from portal.rules.pack import Pack, load_pack
from portal.rules.result import CriterionResult, Outcome, Result, Verdict

__all__ = [
    "CriterionResult",
    "FactDictionary",
    "FactError",
    "FactSpec",
    "Outcome",
    "Pack",
    "Result",
    "Rule",
    "RuleFileError",
    "Verdict",
    "load_pack",
]
