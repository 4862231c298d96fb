"""Explanations: which criteria decide the outcome, and "what would make it pass" in zh/en.

Only leaves that decide the outcome produce hints: a failed leaf inside an `any` that passed
does not matter, nor does an unknown leaf when the measure has already failed.
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not, leaves
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
    return hints


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
    value = format_value(record.value, kind, lang)
    zh = lang == "zh"
    if op in (">=", ">", "<=", "<") and kind != "date":
        expected = format_value(record.expected, kind, lang)
        short = op in (">=", ">")
        gap = (record.expected - record.value) if short else (record.value - record.expected)  # type: ignore[operator]
        gap_text = format_gap(gap, kind, lang)
        if zh:
            return f"{label} {value}，需 {_SYMBOL[op]} {expected}（{'差' if short else '超出'} {gap_text}）"
        gap_word = "short by" if short else "over by"
        return f"{label} {value}, needs {_SYMBOL[op]} {expected} ({gap_word} {gap_text})"
    if op in (">=", ">", "<=", "<", "==", "!="):
        expected = format_value(record.expected, kind, lang)
        if op == "!=":
            return f"{label}不得为 {expected}" if zh else f"{label} must not be {expected}"
        if zh:
            return f"{label} 为 {value}，需 {_SYMBOL[op]} {expected}"
        return f"{label} is {value}, needs {_SYMBOL[op]} {expected}"
    if op == "between":
        low, high = (format_value(v, kind, lang) for v in record.expected)  # type: ignore[attr-defined]
        if zh:
            return f"{label} {value}，需在 {low} 至 {high} 之间"
        return f"{label} {value}, needs to be between {low} and {high}"
    if op == "in":
        options = [format_value(v, kind, lang) for v in record.expected]  # type: ignore[attr-defined]
        if zh:
            return f"{label} 为 {value}，需为 {'、'.join(options)} 之一"
        return f"{label} is {value}, needs to be one of {', '.join(options)}"
    wanted = format_value(record.expected, "bool", lang)
    return f"{label}：{value}，需为 {wanted}" if zh else f"{label}: {value}, needs {wanted}"


def _plain(number: Decimal) -> str:
    text = f"{number.normalize():,f}"
    return text


def format_value(value: object, kind: str, lang: str) -> str:
    """A value as a reader expects it: ratios in %, money in 万元 (zh) or CNY (en)."""
    zh = lang == "zh"
    if value is None:
        return "未知" if zh else "unknown"
    if isinstance(value, bool):
        return ("是" if value else "否") if zh else ("yes" if value else "no")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
        if kind == "ratio":
            return _percent(number)
        if kind == "money":
            if zh:
                return f"{_plain(number / 10000)}万元" if abs(number) >= 10000 else f"{_plain(number)}元"
            return f"CNY {_plain(number)}"
        return _plain(number)
    if isinstance(value, tuple | list | frozenset):
        return ", ".join(format_value(v, kind, lang) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _percent(number: Decimal) -> str:
    pct = (number * 100).normalize()
    if pct == pct.to_integral_value():
        pct = pct.quantize(Decimal("0.1"))
    return f"{pct:f}%"


def format_gap(gap: object, kind: str, lang: str) -> str:
    if kind == "ratio" and isinstance(gap, int | Decimal):
        points = _percent(Decimal(gap)).rstrip("%")
        return f"{points} 个百分点" if lang == "zh" else f"{points} percentage points"
    return format_value(gap, kind, lang)
