"""The rule engine: policy measures as data, evaluated with three-valued logic and a trace.

Usable alone: `load_pack(path)` reads a pack directory (facts.yaml, units.yaml, one YAML file per
measure version), `pack.check(facts, on)` gives the `portal check --json` document. The typed IR
(criteria nodes in `portal.rules.criteria`, formula nodes in `portal.rules.formula`) is public.
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
