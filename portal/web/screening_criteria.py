"""Why a screening run's rows were not eligible: per measure, the criteria in the reader's words.

A finished run stores, per measure, how many ineligible rows each criterion failed and how many
undetermined rows each criterion could not judge, by the criterion's id in the rule file. The
page names each criterion as the case page's trace does (its `because`, or the test in words)
and, for one that could not be judged, the facts it needs by their labels: never an id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from portal.rules import Pack, Rule
from portal.rules.criteria import AnyOf, leaves
from portal.screening.explain import ANY_KEY, any_groups
from portal.web.case_views import fact_labels
from portal.web.i18n import Translator


@dataclass(frozen=True)
class Reason:
    """One criterion and the rows it explains; `needs` are the facts it reads (undetermined only).

    For an "any one of" group none of whose alternatives was met (or, undetermined, none met and
    some not judged), `alternatives` are each in the criteria's words, under one label that says
    any one would have done.
    """

    label: str
    rows: int
    needs: str = ""
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class MeasureReasons:
    title: str
    ineligible: int
    undetermined: int
    summary: str
    """The non-zero counts in words ("不符合 3 家"): a count of none is not said."""
    failed: list[Reason]
    unknown: list[Reason]


def measure_reasons(
    pack: Pack,
    stored: Mapping[str, Mapping[str, Mapping[str, int]]],
    counts: Mapping[str, Mapping[str, int]],
    on: date,
    title_of: Callable[[str], str],
    t: Translator,
) -> list[MeasureReasons]:
    """The measures with a reason to show, most rows kept out first; `title_of(measure)` names one."""
    shown = []
    for measure, by_kind in stored.items():
        rule = pack.select(measure, on)
        failed = _reasons(pack, rule, by_kind.get("failed", {}), t, needs=False)
        unknown = _reasons(pack, rule, by_kind.get("unknown", {}), t, needs=True)
        if failed or unknown:
            outcomes = counts.get(measure, {})
            ineligible, undetermined = (
                int(outcomes.get("ineligible", 0)),
                int(outcomes.get("undetermined", 0)),
            )
            parts = [
                t(f"screening.why.summary_{kind}", count=t.number(n))
                for kind, n in (("ineligible", ineligible), ("undetermined", undetermined))
                if n
            ]
            summary = t("screening.why.summary_sep").join(parts)
            shown.append(
                MeasureReasons(title_of(measure), ineligible, undetermined, summary, failed, unknown)
            )
    return sorted(shown, key=lambda m: (-(m.ineligible + m.undetermined), m.title))


def _reasons(
    pack: Pack, rule: Rule | None, rows: Mapping[str, int], t: Translator, *, needs: bool
) -> list[Reason]:
    infos = rule.compiled.leaf_info if rule is not None and rule.compiled is not None else {}
    deps = rule.compiled.leaf_deps if rule is not None and rule.compiled is not None else {}
    groups = any_groups(rule.criteria) if rule is not None else {}
    joiner = ", " if t.lang == "en" else "、"

    def words(leaf_id: str) -> str:
        info = infos.get(leaf_id)
        return info.message.get(t.lang) if info is not None else t("screening.why.gone")

    found = []
    # An unknown group is stored once per set of alternatives its rows could not judge: one line.
    by_group: dict[str, tuple[int, dict[str, None]]] = {}
    for key, n in rows.items():
        group_key = _group_key(key, groups)
        if group_key is None:
            facts = joiner.join(fact_labels(pack, deps.get(key, ()), t.lang)) if needs else ""
            found.append(Reason(words(key), int(n), facts))
            continue
        total, unjudged = by_group.get(group_key, (0, {}))
        by_group[group_key] = (total + int(n), unjudged | dict.fromkeys(key[len(ANY_KEY) :].split(";")))
    for group_key, (n, unjudged) in by_group.items():
        group = groups[group_key]
        alternatives = tuple(
            t("punct.semicolon").join(words(leaf.id) for leaf in leaves(child)) for child in group.children
        )
        label = t("screening.why.any_unknown" if needs else "screening.why.any_none_met")
        # Undetermined: the facts of the alternatives that could not be judged, the ones missing.
        read = dict.fromkeys(f for leaf_id in unjudged for f in deps.get(leaf_id, ()))
        facts = joiner.join(fact_labels(pack, tuple(read), t.lang)) if needs else ""
        found.append(Reason(label, n, facts, alternatives))
    return sorted(found, key=lambda r: (-r.rows, r.label))


def _group_key(key: str, groups: Mapping[str, AnyOf]) -> str | None:
    """The "any one of" group a stored reason counts for: a failed group's own key, or the group of
    the leaves an unknown one names; None for a criterion (or a group no longer in the rule)."""
    if key in groups or not key.startswith(ANY_KEY):
        return key if key in groups else None
    first = key[len(ANY_KEY) :].split(";")[0]
    return next((k for k, group in groups.items() if any(leaf.id == first for leaf in leaves(group))), None)
