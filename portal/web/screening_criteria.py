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
from portal.web.case_views import fact_labels
from portal.web.i18n import Translator


@dataclass(frozen=True)
class Reason:
    """One criterion and the rows it explains; `needs` are the facts it reads (undetermined only)."""

    label: str
    rows: int
    needs: str = ""


@dataclass(frozen=True)
class MeasureReasons:
    title: str
    ineligible: int
    undetermined: int
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
            shown.append(
                MeasureReasons(
                    title_of(measure),
                    int(outcomes.get("ineligible", 0)),
                    int(outcomes.get("undetermined", 0)),
                    failed,
                    unknown,
                )
            )
    return sorted(shown, key=lambda m: (-(m.ineligible + m.undetermined), m.title))


def _reasons(
    pack: Pack, rule: Rule | None, rows: Mapping[str, int], t: Translator, *, needs: bool
) -> list[Reason]:
    infos = rule.compiled.leaf_info if rule is not None and rule.compiled is not None else {}
    deps = rule.compiled.leaf_deps if rule is not None and rule.compiled is not None else {}
    joiner = ", " if t.lang == "en" else "、"
    found = []
    for leaf_id, n in rows.items():
        info = infos.get(leaf_id)
        label = info.message.get(t.lang) if info is not None else t("screening.why.gone")
        facts = joiner.join(fact_labels(pack, deps.get(leaf_id, ()), t.lang)) if needs else ""
        found.append(Reason(label, int(n), facts))
    return sorted(found, key=lambda r: (-r.rows, r.label))
