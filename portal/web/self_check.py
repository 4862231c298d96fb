"""The self-check page's model: which facts to ask for, in which groups, and how to read them.

The form is generated from facts.yaml, so a new fact in the pack appears on the page without a
template change. Each posted value is parsed alone so that every wrong field is reported at
once, next to its input, instead of only the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portal.rules import FactError

ENTITIES = ("enterprise", "loan", "talent", "product", "project")
# Enterprise facts are many; these groups follow how a finance clerk finds them in the books.
_GROUP_OF: Mapping[str, str] = {
    "district": "identity", "registered_on": "identity", "resident_enterprise": "identity",
    "independent_legal_person": "identity",
    "employees": "staff", "st_staff": "staff", "rd_staff": "staff", "bachelor_staff": "staff",
    "core_ip": "ip", "invention_patents": "ip", "software_copyrights": "ip", "ip_class1": "ip",
    "ip_class2": "ip", "tech_in_key_fields": "ip", "innovation_score": "ip",
    "ai_track": "ai", "certified_ai_staff": "ai", "model_filed": "ai", "algorithm_filed": "ai",
}  # fmt: skip
_GROUP_ORDER = ("identity", "staff", "finance", "ip", "status", "ai", "other")
OUTCOME_ORDER = {"eligible": 0, "undetermined": 1, "ineligible": 2, "not_in_force": 3}


@dataclass(frozen=True)
class FactField:
    """One input: `name` is the qualified fact, which is also the form field's name."""

    name: str
    label: str
    type: str
    unit: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class FactGroup:
    entity: str
    key: str
    fields: tuple[FactField, ...]


def _group_key(name: str, fact_type: str) -> str:
    if name in _GROUP_OF:
        return _GROUP_OF[name]
    if name.startswith("ai_"):
        return "ai"
    if fact_type == "money":
        return "finance"
    if fact_type == "bool":
        return "status"
    return "other"


def fact_groups(pack: Any, lang: str) -> list[FactGroup]:
    """Suppliable facts grouped for the form; free-text facts (name, USCC) decide no criterion."""
    groups: list[FactGroup] = []
    for entity in ENTITIES:
        specs = [s for s in pack.facts.entity_facts(entity) if not s.derived and s.type != "text"]
        buckets: dict[str, list[FactField]] = {}
        for s in specs:
            key = _group_key(s.name, s.type) if entity == "enterprise" else entity
            field = FactField(s.qualified, s.label.get(lang), s.type, s.unit, tuple(s.values))
            buckets.setdefault(key, []).append(field)
        order = _GROUP_ORDER if entity == "enterprise" else (entity,)
        groups += [FactGroup(entity, k, tuple(buckets[k])) for k in order if k in buckets]
    return groups


def parse_posted(pack: Any, form: Mapping[str, str]) -> tuple[dict[str, dict[str, object]], dict[str, str]]:
    """Typed facts from the posted form, and a catalogue message key per refused qualified fact.

    The engine's FactError text is English and technical; the page shows a zh/en message for
    the fact's type instead.
    """
    raw: dict[str, dict[str, object]] = {}
    errors: dict[str, str] = {}
    for name, text in form.items():
        spec = pack.facts.get(name)
        value = text.strip()
        if spec is None or spec.derived or not value:
            continue
        typed_in: object = value
        if spec.type == "bool":
            typed_in = {"true": True, "false": False}.get(value, value)
        try:
            parsed = pack.facts.parse({spec.entity: {spec.name: typed_in}})
        except FactError:
            errors[name] = f"check.invalid.{spec.type}"
            continue
        raw.setdefault(spec.entity, {}).update(parsed[spec.entity])
    return raw, errors


def present_results(pack: Any, check: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """The check document's results with titles and fact labels added, best outcomes first."""
    on = check["on"]
    shown: list[dict[str, Any]] = []
    for result in check["results"]:
        rule = pack.select(result["measure"], dt.date.fromisoformat(on))
        labels = {}
        for q in result.get("missing_facts", []):
            spec = pack.facts.get(q)
            labels[q] = spec.label.get(lang) if spec is not None else q
        benefit_labels = {
            name: (b.label.get(lang) if b.label is not None else name)
            for name, b in (rule.benefit.items() if rule is not None else ())
        }
        benefit_types = {name: b.type for name, b in (rule.benefit.items() if rule is not None else ())}
        shown.append(
            {
                **result,
                "title": rule.title.get(lang) if rule is not None else result["measure"],
                "missing_labels": labels,
                "benefit_labels": benefit_labels,
                "benefit_types": benefit_types,
            }
        )
    shown.sort(key=lambda r: OUTCOME_ORDER.get(r["outcome"], 9))
    return shown
