"""Cross-checks between forms and the rule pack's fact dictionary.

Loading already proves a form is internally consistent; lint proves it agrees with the rest of
the pack: every `prefill` names a fact that exists and whose type fits the field, and a field
prefilled from a `past: true` date (one that has happened) is bounded by `not_after: today` too,
so the form refuses the future day the profile already refuses.
"""

from collections.abc import Mapping
from typing import Any

from portal.forms.model import FormSpec

# Which JSON-Schema types can hold a value of each facts.yaml type.
_COMPATIBLE: Mapping[str, frozenset[str]] = {
    "bool": frozenset({"boolean"}),
    "int": frozenset({"integer", "number"}),
    "money": frozenset({"number"}),
    "ratio": frozenset({"number"}),
    "date": frozenset({"string"}),
    "enum": frozenset({"string"}),
    "text": frozenset({"string"}),
}


def lint_forms(
    forms: Mapping[str, FormSpec],
    facts: Mapping[str, Mapping[str, Mapping[str, Any]]],
    measure_ids: set[str] | None = None,
) -> list[str]:
    """Problems as `file: message` lines; `facts` is facts.yaml's entity → fact → definition."""
    problems: list[str] = []
    for spec in forms.values():
        if measure_ids is not None and spec.measure_id not in measure_ids:
            problems.append(f"{spec.path}: no measure `{spec.measure_id}` in the rule pack")
        for f in spec.fields.values():
            if f.prefill is None:
                continue
            entity, _, name = f.prefill.partition(".")
            definition = facts.get(entity, {}).get(name)
            if definition is None:
                problems.append(f"{spec.path}: field `{f.name}`: prefill `{f.prefill}` is not in facts.yaml")
                continue
            fact_type = str(definition.get("type"))
            if f.json_type not in _COMPATIBLE.get(fact_type, frozenset()):
                problems.append(
                    f"{spec.path}: field `{f.name}`: "
                    f"a {fact_type} fact cannot prefill a `{f.json_type}` field"
                )
            elif definition.get("past") is True and not (f.not_after is not None and f.not_after.is_today):
                problems.append(
                    f"{spec.path}: field `{f.name}`: prefill `{f.prefill}` is a date that has happened "
                    "(`past: true`); give the field `not_after: today`"
                )
    return problems
