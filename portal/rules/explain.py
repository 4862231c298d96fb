"""Explanations: which criteria decide the outcome, and "what would make it pass" in zh/en.

Only leaves that decide the outcome produce hints: a failed leaf inside an `any` that passed
does not matter, nor does an unknown leaf when the measure has already failed.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING

from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not, leaves
from portal.rules.display import digits_for, format_gap, format_threshold, format_value
from portal.rules.result import CriterionResult, Result, Verdict

if TYPE_CHECKING:
    from portal.rules.evaluate import CompiledRule

_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
_FLIP = {Verdict.PASS: Verdict.FAIL, Verdict.FAIL: Verdict.PASS, Verdict.UNKNOWN: Verdict.UNKNOWN}


def verdict_of(node: Node, records: dict[str, CriterionResult]) -> Verdict:
    """A node's verdict recomputed from its leaves' recorded verdicts (Kleene logic)."""
    if isinstance(node, Leaf):
        return records[node.id].outcome
    if isinstance(node, Not):
        return _FLIP[verdict_of(node.child, records)]
    assert isinstance(node, AllOf | AnyOf)
    verdicts = [verdict_of(c, records) for c in node.children]
    decisive = Verdict.FAIL if isinstance(node, AllOf) else Verdict.PASS
    if decisive in verdicts:
        return decisive
    if Verdict.UNKNOWN in verdicts:
        return Verdict.UNKNOWN
    return Verdict.PASS if isinstance(node, AllOf) else Verdict.FAIL


def relevant(
    node: Node, records: dict[str, CriterionResult], negated: bool = False
) -> Iterator[tuple[CriterionResult, bool]]:
    """Leaves whose failure or unknown value explains the node's verdict, with whether a `not` is above."""
    if not records:
        return
    verdict = verdict_of(node, records)
    if verdict is Verdict.PASS:
        return
    if isinstance(node, Leaf):
        yield records[node.id], negated
        return
    if isinstance(node, Not):
        child = node.child
        if verdict is Verdict.UNKNOWN:
            yield from relevant(child, records, not negated)
        else:
            # The child passed but must not: every leaf that passed is part of the reason.
            for leaf in leaves(child):
                if records[leaf.id].outcome is Verdict.PASS:
                    yield records[leaf.id], not negated
        return
    assert isinstance(node, AllOf | AnyOf)
    for child in node.children:
        child_verdict = verdict_of(child, records)
        if child_verdict is verdict or (isinstance(node, AnyOf) and verdict is Verdict.FAIL):
            yield from relevant(child, records, negated)


def hints_for(result: Result, compiled: "CompiledRule | None", lang: str) -> list[str]:
    hints: list[str] = []
    if compiled is None:
        return hints
    records = {r.id: r for r in result.criteria}
    named: set[str] = set()
    for record, negated in relevant(compiled.rule.criteria, records):
        if record.outcome is Verdict.UNKNOWN:
            fresh = [f for f in record.missing if f not in named]
            named.update(fresh)
            if fresh:
                hints += [_provide(compiled, f, lang) for f in fresh]
            elif not record.missing:
                hints.append(_undecidable(record, lang))
        elif negated:
            hints.append(
                f"不应满足：{record.message.zh}" if lang == "zh" else f"Must not hold: {record.message.en}"
            )
        else:
            hints.append(failure_hint(record, lang))
    for name in result.missing_facts:  # facts a benefit needs, not named by any criterion
        if name not in named:
            named.add(name)
            hints.append(_provide(compiled, name, lang))
    if result.potential_benefit and result.missing_facts:
        hints.append(potential_hint(result, compiled, lang))
    return hints


def potential_hint(result: Result, compiled: "CompiledRule", lang: str) -> str:
    """补充 X 后，如符合条件，可享 …: the missing facts and the potential benefit, in labels only."""
    zh = lang == "zh"
    facts = []
    for qualified in result.missing_facts:
        spec = compiled.facts.get(qualified)
        if spec is not None:
            facts.append(spec.label.get(lang))
    rule = compiled.rule
    amounts = []
    for name, amount in result.potential_benefit.items():
        benefit = rule.benefit[name]
        kind = benefit.type if benefit.type in ("money", "ratio") else "number"
        shown = format_threshold(amount, kind, lang)
        if name in result.potential_up_to:
            shown = f"最高 {shown}" if zh else f"up to {shown}"
        label = benefit.label.get(lang) if benefit.label is not None else rule.title.get(lang)
        amounts.append(f"{label} {shown}")
    if zh:
        return f"补充{'、'.join(facts)}后，如符合条件，可享{'；'.join(amounts)}"
    return (
        f"Provide {', '.join(facts)}; if the conditions are then met, the measure grants {'; '.join(amounts)}"
    )


def _provide(compiled: "CompiledRule", qualified: str, lang: str) -> str:
    spec = compiled.facts.get(qualified)
    label = spec.label.get(lang) if spec is not None else qualified
    return f"请提供{label}（{qualified}）" if lang == "zh" else f"Provide {label} ({qualified})"


def _undecidable(record: CriterionResult, lang: str) -> str:
    if lang == "zh":
        return f"无法判定：{record.message.zh}"
    return f"Cannot be decided: {record.message.en}"


def failure_hint(record: CriterionResult, lang: str) -> str:
    """e.g. 研发费用占比 3.9%，需 ≥ 4.0%（差 0.1 个百分点）."""
    info = record.info
    kind, label, op = info.kind, info.label.get(lang), info.leaf.op
    zh = lang == "zh"
    if record.value is None or record.expected is None:
        # Settled from the range of a partly known formula (portal.rules.bounds): no value to show.
        return f"未满足：{record.message.zh}" if zh else f"Not met: {record.message.en}"
    if op in (">=", ">", "<=", "<") and kind != "date":
        short = op in (">=", ">")
        gap = (record.expected - record.value) if short else (record.value - record.expected)  # type: ignore[operator]
        digits = digits_for(record.value, [record.expected], kind, lang, gap)
        value = format_value(record.value, kind, lang, digits)
        expected = format_value(record.expected, kind, lang, digits)
        need = f"{_SYMBOL[op]} {expected}"
        if not gap:  # a strict bound met with equality: there is no gap to name
            return f"{label} {value}，需 {need}" if zh else f"{label} {value}, needs {need}"
        gap_text = format_gap(gap, kind, lang, digits)
        if zh:
            return f"{label} {value}，需 {need}（{'差' if short else '超出'} {gap_text}）"
        return f"{label} {value}, needs {need} ({'short by' if short else 'over by'} {gap_text})"
    if op in ("==", "!=", ">=", ">", "<=", "<"):
        digits = digits_for(record.value, [record.expected], kind, lang)
        value = format_value(record.value, kind, lang, digits)
        expected = format_value(record.expected, kind, lang, digits)
        if op == "!=":
            return f"{label}不得为 {expected}" if zh else f"{label} must not be {expected}"
        if zh:
            return f"{label} 为 {value}，需 {_SYMBOL[op]} {expected}"
        return f"{label} is {value}, needs {_SYMBOL[op]} {expected}"
    if op == "between":
        bounds = list(record.expected)  # type: ignore[call-overload]
        digits = digits_for(record.value, bounds, kind, lang)
        value = format_value(record.value, kind, lang, digits)
        low, high = (format_value(v, kind, lang, digits) for v in bounds)
        if zh:
            return f"{label} {value}，需在 {low} 至 {high} 之间"
        return f"{label} {value}, needs to be between {low} and {high}"
    if op == "in":
        options = list(record.expected)  # type: ignore[call-overload]
        digits = digits_for(record.value, options, kind, lang)
        value = format_value(record.value, kind, lang, digits)
        shown = [format_value(v, kind, lang, digits) for v in options]
        if zh:
            return f"{label} 为 {value}，需为 {'、'.join(shown)} 之一"
        return f"{label} is {value}, needs to be one of {', '.join(shown)}"
    value = format_value(record.value, kind, lang)
    wanted = format_value(record.expected, "bool", lang)
    return f"{label}：{value}，需为 {wanted}" if zh else f"{label}: {value}, needs {wanted}"
