"""Explanations: which criteria decide the outcome, and "what would make it pass" in zh/en.

Only leaves that decide the outcome produce hints: a failed leaf inside an `any` that passed
does not matter, nor does an unknown leaf when the measure has already failed.
"""

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not, leaves
from portal.rules.display import digits_for, format_enum, format_shortfall, format_threshold, format_value
from portal.rules.result import VERDICT_OF, CriterionResult, LeafInfo, Outcome, Result, Trace, Verdict

if TYPE_CHECKING:
    from portal.rules.evaluate import CompiledRule

_ELIGIBLE, _UNKNOWN = Outcome.ELIGIBLE, Verdict.UNKNOWN  # module globals: cheaper than enum lookups
_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}


Verdicts = Sequence[bool | None]
Reasons = list[tuple[int, bool]]


def verdict_of(node: Node, records: dict[str, CriterionResult]) -> Verdict:
    """A node's verdict recomputed from its leaves' recorded verdicts (Kleene logic)."""
    verdict, _explain = _plan(node)
    return VERDICT_OF[verdict([_AS_BOOL[records[leaf.id].outcome] for leaf in leaves(node)])]


def outcome_tree(node: Node, records: dict[str, CriterionResult]) -> dict[str, object]:
    """The criteria as the rule combines them, each group with its own outcome (Kleene logic).

    The flat trace lists every criterion, so an alternative that failed inside an `any` that
    passed reads like a failed condition; this tree shows what each group decided. A leaf is
    `{"kind": "criterion", "id", "outcome", "children": []}`; a group is `all`, `any` or `not`
    with `id` None. Published in the bank API's answer (docs/bank-api.md).
    """
    if isinstance(node, Leaf):
        children: list[dict[str, object]] = []
        kind, leaf_id = "criterion", node.id
    elif isinstance(node, Not):
        children = [outcome_tree(node.child, records)]
        kind, leaf_id = "not", None
    else:
        assert isinstance(node, AllOf | AnyOf)
        children = [outcome_tree(child, records) for child in node.children]
        kind, leaf_id = ("any" if isinstance(node, AnyOf) else "all"), None
    outcome = verdict_of(node, records).value
    return {"kind": kind, "id": leaf_id, "outcome": outcome, "children": children}


def relevant(
    node: Node, records: dict[str, CriterionResult], negated: bool = False
) -> Iterator[tuple[CriterionResult, bool]]:
    """Leaves whose failure or unknown value explains the node's verdict, with whether a `not` is above."""
    if not records:
        return
    ordered = [records[leaf.id] for leaf in leaves(node)]
    for position, flipped in reasons(node, [_AS_BOOL[r.outcome] for r in ordered], negated):
        yield ordered[position], flipped


def reasons(node: Node, verdicts: Verdicts, negated: bool = False) -> Reasons:
    """Positions (in tree order) of the leaves that explain `node`'s verdict, with `not`-above flags.

    A leaf counts when its verdict is its parent's: failed leaves of a failed `all`, unknown leaves
    of an open group, every leaf of a failed `any`; below a `not` that failed because its child
    passed, every leaf that passed.
    """
    verdict, explain = _plan(node)
    found: Reasons = []
    own = verdict(verdicts)
    if own is not True:
        explain(verdicts, own, negated, found)
    return found


_AS_BOOL: dict[Verdict, bool | None] = {Verdict.PASS: True, Verdict.FAIL: False, Verdict.UNKNOWN: None}
Decide = Callable[[Verdicts], bool | None]
Explain = Callable[[Verdicts, bool | None, bool, Reasons], None]
"""Appends the reasons for a node whose verdict (worked out by the caller, once) is the second argument."""
_PLANS: dict[int, tuple[Node, tuple[Decide, Explain]]] = {}


def _plan(root: Node) -> tuple[Decide, Explain]:
    """The tree compiled once into closures: hints are built for every enterprise answered."""
    known = _PLANS.get(id(root))
    if known is None or known[0] is not root:
        known = _PLANS[id(root)] = (root, _compile(root, 0))
    return known[1]


def _compile(node: Node, start: int) -> tuple[Decide, Explain]:
    """Closures for `node`, whose leaves sit at positions `start`, `start + 1`, … of the verdicts."""
    if isinstance(node, Leaf):

        def leaf_explain(verdicts: Verdicts, own: bool | None, negated: bool, found: Reasons) -> None:
            found.append((start, negated))

        return operator.itemgetter(start), leaf_explain
    if isinstance(node, Not):
        child_decide, child_explain = _compile(node.child, start)
        span = range(start, start + len(leaves(node.child)))

        def not_decide(verdicts: Verdicts) -> bool | None:
            inner = child_decide(verdicts)
            return None if inner is None else not inner

        def not_explain(verdicts: Verdicts, own: bool | None, negated: bool, found: Reasons) -> None:
            if own is None:
                child_explain(verdicts, None, not negated, found)
            else:  # the child passed but must not: every leaf that passed is part of the reason
                found += [(i, not negated) for i in span if verdicts[i] is True]

        return not_decide, not_explain
    assert isinstance(node, AllOf | AnyOf)
    decisive = isinstance(node, AnyOf)  # any: a pass decides; all: a fail decides
    if all(isinstance(child, Leaf) for child in node.children):  # the usual shape: one slice
        end = start + len(node.children)

        def flat_decide(verdicts: Verdicts) -> bool | None:
            part = verdicts[start:end]
            return decisive if decisive in part else None if None in part else not decisive

        def flat_explain(verdicts: Verdicts, own: bool | None, negated: bool, found: Reasons) -> None:
            found += [(i, negated) for i in range(start, end) if verdicts[i] is own]

        return flat_decide, flat_explain
    children = []
    for child in node.children:
        children.append(_compile(child, start))
        start += len(leaves(child))
    deciders = [decide for decide, _ in children]

    def group_decide(verdicts: Verdicts) -> bool | None:
        found = [decide(verdicts) for decide in deciders]
        return decisive if decisive in found else None if None in found else not decisive

    def group_explain(verdicts: Verdicts, own: bool | None, negated: bool, found: Reasons) -> None:
        for decide, explain in children:
            if decide(verdicts) is own:
                explain(verdicts, own, negated, found)

    return group_decide, group_explain


def hints_for(result: Result, compiled: "CompiledRule | None", trace: Trace | None, lang: str) -> list[str]:
    """What would make `result` pass; from the recorded `trace` when there is one."""
    hints: list[str] = []
    if compiled is None:
        return hints
    named: set[str] = set()
    if result.outcome is not _ELIGIBLE:  # an eligible root passed: no criterion explains it
        root = compiled.rule.criteria
        if trace is not None:  # a record only for each leaf that explains the outcome
            seen, expected, verdicts, missing = trace
            infos = compiled.leaf_infos
            for i, negated in reasons(root, verdicts):
                verdict = VERDICT_OF[verdicts[i]]
                record = CriterionResult(infos[i], seen[i], expected[i], verdict, missing.get(i, ()))
                hints += _hint(record, negated, named, compiled, lang)
        else:
            records = result.criteria
            if records:  # without a trace only the missing facts can be named
                for i, negated in reasons(root, [_AS_BOOL[r.outcome] for r in records]):
                    hints += _hint(records[i], negated, named, compiled, lang)
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


def _hint(
    record: CriterionResult, negated: bool, named: set[str], compiled: "CompiledRule", lang: str
) -> list[str]:
    if record.outcome is _UNKNOWN:
        fresh = [f for f in record.missing if f not in named]
        named.update(fresh)
        if fresh:
            return [_provide(compiled, f, lang) for f in fresh]
        return [] if record.missing else [_undecidable(record, lang)]
    if negated:
        return [f"不应满足：{record.message.zh}" if lang == "zh" else f"Must not hold: {record.message.en}"]
    return [failure_hint(record, lang)]


def _provide(compiled: "CompiledRule", qualified: str, lang: str) -> str:
    """请提供：X, the fact by its label only; `missing_facts` carries the name for programs.

    The colon keeps a label that reads as a statement ("Lending bank is a partner bank") from
    running into the verb.
    """
    spec = compiled.facts.get(qualified)
    label = spec.label.get(lang) if spec is not None else qualified
    return f"请提供：{label}" if lang == "zh" else f"Provide: {label}"


def _undecidable(record: CriterionResult, lang: str) -> str:
    if lang == "zh":
        return f"无法判定：{record.message.zh}"
    return f"Cannot be decided: {record.message.en}"


def _shown(info: LeafInfo, value: object, lang: str, digits: int) -> str:
    """A value as the hint shows it: an enum value by its label, any other formatted for people."""
    if info.values:
        return format_enum(value, info.values, lang)
    return format_value(value, info.kind, lang, digits)


def failure_hint(record: CriterionResult, lang: str) -> str:
    """e.g. 研发费用占比 3.9%，需 ≥ 4%（差 0.1 个百分点）."""
    info = record.info
    kind, label, op = info.kind, info.label.get(lang), info.leaf.op
    zh = lang == "zh"
    if record.value is None or record.expected is None:
        # Settled from the range of a partly known formula (portal.rules.bounds): no value to show.
        return f"未满足：{record.message.zh}" if zh else f"Not met: {record.message.en}"
    if op in (">=", ">", "<=", "<") and kind != "date":
        short = op in (">=", ">")
        gap = (record.expected - record.value) if short else (record.value - record.expected)  # type: ignore[operator]
        value, expected, gap_text = format_shortfall(record.value, record.expected, gap, kind, lang)
        need = f"{_SYMBOL[op]} {expected}"
        if not gap:  # a strict bound met with equality: there is no gap to name
            return f"{label} {value}，需 {need}" if zh else f"{label} {value}, needs {need}"
        if zh:
            return f"{label} {value}，需 {need}（{'差' if short else '超出'} {gap_text}）"
        return f"{label} {value}, needs {need} ({'short by' if short else 'over by'} {gap_text})"
    if op in ("==", "!=", ">=", ">", "<=", "<"):
        digits = digits_for(record.value, [record.expected], kind, lang)
        value = _shown(record.info, record.value, lang, digits)
        expected = _shown(record.info, record.expected, lang, digits)
        if op == "!=":
            return f"{label}不得为 {expected}" if zh else f"{label} must not be {expected}"
        if op == "==" and zh:
            return f"{label} 为 {value}，需为 {expected}"
        if op == "==":
            return f"{label} is {value}, needs to be {expected}"
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
        value = _shown(record.info, record.value, lang, digits)
        shown = [_shown(record.info, v, lang, digits) for v in options]
        if zh:
            return f"{label} 为 {value}，需为 {'、'.join(shown)} 之一"
        return f"{label} is {value}, needs to be one of {', '.join(shown)}"
    value = format_value(record.value, kind, lang)
    wanted = format_value(record.expected, "bool", lang)
    return f"{label}：{value}，需为 {wanted}" if zh else f"{label}: {value}, needs {wanted}"
