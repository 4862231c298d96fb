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

from portal.city import City, split_fact
from portal.numerals import plain_number
from portal.rules import FactError
from portal.rules.facts import FactSpec
from portal.web.case_views import drawn_trace, trace_lines
from portal.web.i18n import Translator

# Facts the pack's `fact_groups` leave out are grouped by type, under these catalogue headings.
_TYPE_GROUPS = {"money": "finance", "bool": "status"}
_LEFTOVER_ORDER = ("finance", "status", "other")
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
    """One fieldset: `entity_name` and `heading` name its entity (`entity_label`, `entity_heading`),
    `label` is the pack's heading of its facts (None: the entity's heading alone)."""

    entity: str
    key: str
    entity_name: str
    heading: str
    label: str | None
    fields: tuple[FactField, ...]


def fact_groups(pack: Any, city: City, t: Translator, only: frozenset[str] | None = None) -> list[FactGroup]:
    """Suppliable facts grouped for the form; free-text facts (name, USCC) decide no criterion.

    Entities come in facts.yaml's order. The pack's `fact_groups` (pack.yaml) head the facts they
    list; an entity's other facts follow, by type for the entities those groups cover. `only`
    keeps the facts one measure reads (its own check asks for nothing else).
    """
    lang = t.lang
    groups: list[FactGroup] = []
    entities = dict.fromkeys(spec.entity for spec in pack.facts.specs.values())
    grouped = {fact: spec for spec in city.fact_groups for fact in spec.facts}
    for entity in entities:
        specs = [
            s
            for s in pack.facts.entity_facts(entity)
            if not s.derived and s.type != "text" and (only is None or s.qualified in only)
        ]
        fields = {
            s.qualified: FactField(s.qualified, s.label.get(lang), s.type, s.unit, tuple(s.values))
            for s in specs
        }
        named = (entity_label(city, entity, t), entity_heading(city, entity, t))
        for spec in city.fact_groups:
            mine = tuple(fields[f] for f in spec.facts if f in fields)
            if mine:
                groups.append(FactGroup(entity, spec.key, *named, spec.label.get(lang), mine))
        rest = [s for s in specs if s.qualified not in grouped]
        if not any(fact.startswith(f"{entity}.") for fact in grouped):
            if rest:
                groups.append(
                    FactGroup(entity, entity, *named, None, tuple(fields[s.qualified] for s in rest))
                )
            continue
        buckets: dict[str, list[FactField]] = {}
        for s in rest:
            buckets.setdefault(_TYPE_GROUPS.get(s.type, "other"), []).append(fields[s.qualified])
        groups += [
            FactGroup(entity, k, *named, None, tuple(buckets[k])) for k in _LEFTOVER_ORDER if k in buckets
        ]
    return groups


def parse_posted(
    pack: Any, form: Mapping[str, str], today: dt.date, t: Translator
) -> tuple[dict[str, dict[str, object]], dict[str, str]]:
    """Typed facts from the posted form, and a message in the reader's language per refused fact.

    The engine's FactError text is English and technical; the page says what is wrong (金额过大,
    不能晚于今天, 须在 0 至 100 之间) where the engine names it, else what the fact's type expects.
    A number is read as people type it (`portal.numerals`: full-width, grouped by thousands). A
    `past` date after `today` is refused too.
    """
    raw: dict[str, dict[str, object]] = {}
    errors: dict[str, str] = {}
    for name, text in form.items():
        spec = pack.facts.get(name)
        value = text.strip()
        if spec is None or spec.derived or not value:
            continue
        typed_in: object = value
        if spec.type in _NUMBERS:
            typed_in = plain_number(value) or value
        if spec.type == "bool":
            typed_in = {"true": True, "false": False}.get(value, value)
        try:
            parsed = pack.facts.parse({spec.entity: {spec.name: typed_in}})
        except FactError as refused:
            errors[name] = refusal_text(t, spec, refused.reason)
            continue
        raw.setdefault(spec.entity, {}).update(parsed[spec.entity])
    for name in pack.facts.after(raw, today):
        errors[name] = t(message_of("future", "date"))
    return raw, errors


# What the engine's refusal reasons say to a person; any other reason falls back to the type's.
_REASONS = frozenset({"too_large", "places", "share", "future", "negative"})
_NUMBERS = frozenset({"money", "int", "ratio"})


def message_of(reason: str, fact_type: str) -> str:
    """The catalogue key for a refused fact: its reason where people have words for it."""
    return f"check.invalid.{reason}" if reason in _REASONS else f"check.invalid.{fact_type}"


def refusal_text(t: Translator, spec: FactSpec, reason: str) -> str:
    """A refused fact's message; a value out of the fact's range names the range (0 至 100)."""
    if reason == "range":
        return range_text(t, spec) or t(f"check.invalid.{spec.type}")
    return t(message_of(reason, spec.type))


def range_text(t: Translator, spec: FactSpec) -> str | None:
    """A number fact's range in words (请填写 0 至 100 之间的数。); None for a fact without one.
    The check's refusals and the screening file's column list say it alike."""
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None:
        return t("check.invalid.range", min=t.number(low), max=t.number(high))
    if low is not None:
        return t("check.invalid.min", min=t.number(low))
    if high is not None:
        return t("check.invalid.max", max=t.number(high))
    return None


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
        eligible = result["outcome"] == "eligible"
        shown.append(
            {
                **result,
                # Eligible, a missing fact only leaves an amount open (the engine's hints then only
                # ask for it): the page says so instead of "still needed" and "what would make it pass".
                "hints": [] if eligible else result.get("hints", []),
                "amount_open": eligible and bool(result.get("missing_facts")),
                # The version a person can place: the date it took effect, not its key ("2022").
                "in_force_from": rule.effective_from if rule is not None else None,
                "title": rule.title.get(lang) if rule is not None else result["measure"],
                "missing_labels": labels,
                "benefit_labels": benefit_labels,
                "benefit_types": benefit_types,
                # As the reviewer's page and the letter draw them (`trace_rows`): an "any one of"
                # group a numbered row with its own result, its options under it (2.1, 2.2), and
                # an option the group did not need read as such, not as a bare "not met".
                "criteria": trace_lines(drawn_trace(pack, result["measure"], result), lang),
            }
        )
    shown.sort(key=lambda r: OUTCOME_ORDER.get(r["outcome"], 9))
    return shown


def unchecked_measures(
    pack: Any, city: City, check: Mapping[str, Any], t: Translator
) -> list[dict[str, Any]]:
    """The measures in force that a check of every measure skipped because no fact of their entity
    (a product, a project, a person) was given, by entity in the pack's order: the page names them
    and the form's section to fill (by its heading), rather than leaving a catalogue of 20 looking like 9."""
    answered = {result["measure"] for result in check["results"]}
    return [
        {**g, "heading": entity_heading(city, g["entity"], t)}
        for g in _by_entity(pack, dt.date.fromisoformat(check["on"]), t.lang, answered)
    ]


def _by_entity(pack: Any, on: dt.date, lang: str, skip: set[str]) -> list[dict[str, Any]]:
    """The measures in force on `on`, except `skip`, grouped by the entity they are judged on."""
    by_entity: dict[str, list[dict[str, str]]] = {}
    for measure_id in pack.measure_ids():
        rule = pack.select(measure_id, on)
        if measure_id in skip or rule is None:
            continue
        by_entity.setdefault(rule.applies_to, []).append({"id": measure_id, "title": rule.title.get(lang)})
    return [{"entity": entity, "measures": measures} for entity, measures in by_entity.items()]


def coverage(pack: Any, city: City, on: dt.date, t: Translator) -> dict[str, Any]:
    """What a check of the enterprise's figures covers, said before anyone fills the form: the
    measures judged on the registered entity (the one the register identifies), and the others by
    the entity each is judged on (a loan, a person), in the pack's words, which a check leaves out
    unless that entity's optional section is filled."""
    own = split_fact(city.name_fact)[0]
    groups = [{**g, "label": entity_label(city, g["entity"], t)} for g in _by_entity(pack, on, t.lang, set())]
    counted = sum(len(g["measures"]) for g in groups if g["entity"] == own)
    others = [g for g in groups if g["entity"] != own]
    total = sum(len(g["measures"]) for g in groups)
    names = [g["label"] for g in others]
    words = (
        t("punct.list_sep").join(names[:-1]) + t("check.coverage.or") + names[-1]
        if len(names) > 1
        else "".join(names)
    )
    return {
        "label": entity_label(city, own, t),
        "count": counted,
        "total": total,
        "others": others,
        "others_words": words,
    }


def entity_label(city: City, entity: str, t: Translator) -> str:
    """An entity as people call it: the pack's `entities` label; a pack that names none gets a
    word for any registered entity or any other, never the entity's key."""
    text = city.entity_labels.get(entity)
    if text is not None:
        return text.get(t.lang)
    return t("check.entity.own" if entity == split_fact(city.name_fact)[0] else "check.entity.other")


def entity_heading(city: City, entity: str, t: Translator) -> str:
    """The form's heading over an entity's facts: the registered entity's (企业情况 / Enterprise),
    or another's, which a check reads only when it is filled (贷款（可选） / Loan (optional))."""
    own = entity == split_fact(city.name_fact)[0]
    words = t(
        "check.entity.heading" if own else "check.entity.optional", entity=entity_label(city, entity, t)
    )
    return words[:1].upper() + words[1:]
