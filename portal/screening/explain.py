"""Which criteria explain each row's outcome, column-wise: the batch twin of `portal.rules.explain`.

The SQL returns every leaf's verdict. A failing leaf inside an `any` that passed anyway, or a
leaf under a `not` whose failure is what the rule wants, does not explain anything; listing it
as "failed" would mislead an enterprise. So, like `explain.relevant`, a leaf is reported only
when every node above it shares the verdict it contributes to. Node verdicts are folded from
the leaf columns with Arrow's Kleene kernels, the same recomputation `explain.verdict_of` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not, leaves

Mask: TypeAlias = pa.Array
Verdicts: TypeAlias = dict[str, pa.Array]
"""leaf id → nullable boolean column (NULL = unknown)."""


_PATTERN_LEAVES = 31  # two bits per leaf in an int64


def explaining_ids(criteria: Node, verdicts: Verdicts) -> tuple[pa.Array, pa.Array]:
    """(failed, unknown): per row, the ids of the leaves that explain a non-pass, joined by ';'.

    The explanation depends on nothing but the row's leaf verdicts, and a rule's rows show few
    distinct patterns of them: each row's pattern is packed into an integer (two bits per leaf),
    the explanations are worked out once per distinct pattern and each row points at its own (a
    dictionary array, whose texts OUT's interleaving takes once). Folding the criteria tree over
    every row cost a sixth of a run over all measures.
    """
    n = len(next(iter(verdicts.values()))) if verdicts else 0
    if not verdicts or len(verdicts) > _PATTERN_LEAVES:
        return _explained(criteria, verdicts, n)
    codes: pa.Array | None = None
    for i, value in enumerate(verdicts.values()):
        # 0 failed, 1 passed, 2 unknown
        part = pc.shift_left(pc.fill_null(pc.cast(value, pa.int64()), 2), 2 * i)
        codes = part if codes is None else pc.bit_wise_or(codes, part)
    assert codes is not None
    distinct = pc.unique(codes)
    patterns: Verdicts = {}
    for i, leaf_id in enumerate(verdicts):
        two_bits = pc.bit_wise_and(pc.shift_right(distinct, 2 * i), 3)
        unknown = pc.equal(two_bits, 2)
        patterns[leaf_id] = pc.if_else(unknown, pa.scalar(None, pa.bool_()), pc.equal(two_bits, 1))
    failed, unknown = _explained(criteria, patterns, len(distinct))
    index = pc.index_in(codes, distinct)
    return pa.DictionaryArray.from_arrays(index, failed), pa.DictionaryArray.from_arrays(index, unknown)


def _explained(criteria: Node, verdicts: Verdicts, n: int) -> tuple[pa.Array, pa.Array]:
    """`explaining_ids` folded over every row given."""
    failed: dict[str, Mask] = {}
    unknown: dict[str, Mask] = {}
    everywhere = pa.repeat(pa.scalar(True), n)
    folded: dict[int, pa.Array] = {}
    _fold(criteria, verdicts, folded)
    for leaf_id, mask, negated in _relevant(criteria, verdicts, folded, everywhere, False):
        value = verdicts[leaf_id]
        fails = value if negated else pc.invert(value)
        failed[leaf_id] = _or(failed.get(leaf_id), _and(mask, pc.fill_null(fails, False)))
        unknown[leaf_id] = _or(unknown.get(leaf_id), _and(mask, pc.is_null(value)))
    order = [leaf.id for leaf in leaves(criteria)]
    return _join(order, failed, n), _join(order, unknown, n)


def _fold(node: Node, verdicts: Verdicts, folded: dict[int, pa.Array]) -> pa.Array:
    """The node's verdict column, folded once from its children; every node's is kept in
    `folded` under `id(node)`."""
    if isinstance(node, Leaf):
        verdict = verdicts[node.id]
    elif isinstance(node, Not):
        verdict = pc.invert(_fold(node.child, verdicts, folded))
    else:
        assert isinstance(node, AllOf | AnyOf)
        fold = pc.and_kleene if isinstance(node, AllOf) else pc.or_kleene
        verdict = _fold(node.children[0], verdicts, folded)
        for child in node.children[1:]:
            verdict = fold(verdict, _fold(child, verdicts, folded))
    folded[id(node)] = verdict
    return verdict


def _relevant(
    node: Node, verdicts: Verdicts, folded: dict[int, pa.Array], mask: Mask, negated: bool
) -> Iterator[tuple[str, Mask, bool]]:
    verdict = folded[id(node)]
    here = _and(mask, pc.invert(pc.fill_null(verdict, False)))  # rows where this node did not pass
    if isinstance(node, Leaf):
        yield node.id, here, negated
        return
    if isinstance(node, Not):
        yield from _relevant(node.child, verdicts, folded, _and(here, pc.is_null(verdict)), not negated)
        failed_not = _and(here, pc.fill_null(pc.invert(verdict), False))
        # The child passed but must not: every leaf of it that passed is part of the reason.
        for leaf in leaves(node.child):
            yield leaf.id, _and(failed_not, pc.fill_null(verdicts[leaf.id], False)), not negated
        return
    assert isinstance(node, AllOf | AnyOf)
    any_failed = _and(here, pc.fill_null(pc.invert(verdict), False)) if isinstance(node, AnyOf) else None
    for child in node.children:
        child_verdict = folded[id(child)]
        same = pc.fill_null(pc.equal(child_verdict, verdict), False)
        same = _or(same, _and(pc.is_null(child_verdict), pc.is_null(verdict)))
        if any_failed is not None:
            same = _or(same, any_failed)
        yield from _relevant(child, verdicts, folded, _and(here, same), negated)


def _and(a: Mask, b: Mask) -> Mask:
    return pc.and_(a, b)


def _or(a: Mask | None, b: Mask) -> Mask:
    return b if a is None else pc.or_(a, b)


_BITS = 62  # ids folded into one int64 per row at a time


def _join(order: list[str], masks: dict[str, Mask], n: int) -> pa.Array:
    """Per row, the ids whose mask holds, in `order`, joined by ';'.

    The masks are folded into one integer per row (bit i: the i-th id), the text is made once
    per distinct integer (a handful), and rows take theirs: no string is built per row.
    """
    ids = [leaf_id for leaf_id in order if leaf_id in masks]
    if not ids:
        return pa.repeat(pa.scalar("", pa.string()), n)
    parts = []
    for start in range(0, len(ids), _BITS):
        group = ids[start : start + _BITS]
        codes = pc.cast(masks[group[0]], pa.int64())
        for bit, leaf_id in enumerate(group[1:], start=1):
            codes = pc.add(codes, pc.multiply(pc.cast(masks[leaf_id], pa.int64()), 1 << bit))
        distinct = pc.unique(codes)
        texts = [
            "".join(f"{i};" for bit, i in enumerate(group) if code >> bit & 1)
            for code in distinct.to_pylist()
        ]
        if len(ids) <= _BITS:  # one group: its texts are final, made without the last ';'
            texts = [text[:-1] for text in texts]
        parts.append(pa.array(texts, pa.string()).take(pc.index_in(codes, distinct)))
    if len(parts) == 1:
        return parts[0]
    return pc.utf8_rtrim(pc.binary_join_element_wise(*parts, ""), ";")


ANY_KEY = "any:"
"""How `reason_counts` keys an "any one of" group (failed or unknown): this, then its leaf ids, `;`-joined."""


def any_groups(criteria: Node) -> dict[str, AnyOf]:
    """The outermost "any one of" groups not under a `not`, by their `reason_counts` key.

    A leaf of such a group is reported failed only where the whole group failed (`_relevant`),
    so a row naming one of its leaves failed every alternative, not each of them as a must.
    """
    found: dict[str, AnyOf] = {}

    def walk(node: Node) -> None:
        if isinstance(node, AnyOf):
            found[ANY_KEY + ";".join(leaf.id for leaf in leaves(node))] = node
        elif isinstance(node, AllOf):
            for child in node.children:
                walk(child)

    walk(criteria)
    return found


def reason_counts(
    failed: pa.Array | pa.ChunkedArray, unknown: pa.Array | pa.ChunkedArray, criteria: Node
) -> dict[str, dict[str, int]]:
    """{"failed": reason → rows whose `failed` names it, "unknown": the same for `unknown`}.

    A row's `failed` names leaves exactly when it is ineligible and its `unknown` exactly when it
    is undetermined (a leaf is reported only where the root shares its verdict), so these are the
    ineligible and the undetermined rows each criterion explains, with no outcome column read.
    A reason is a leaf id, or one "any one of" group for all of its alternatives, counted once per
    row: failed (`any_groups`' key), none was met; unknown (`ANY_KEY` and the ids of the group's
    leaves the row could not judge), none was met and those could not be judged. The dictionary's
    indices are counted (once, when both columns share them, as `explaining_ids` makes them), then
    each of its few texts split once: no text is read per row. A row naming two reasons counts
    for both.
    """
    group_of = {leaf.id: key for key, group in any_groups(criteria).items() for leaf in leaves(group)}
    coded = {"failed": _dictionary(failed), "unknown": _dictionary(unknown)}
    shared = coded["failed"].indices.equals(coded["unknown"].indices)
    tally: list[dict[str, int]] | None = None
    found: dict[str, dict[str, int]] = {}
    for kind, ids in coded.items():
        if tally is None or not shared:
            tally = pc.value_counts(ids.indices).to_pylist()
        texts = ids.dictionary.to_pylist()
        rows = found[kind] = {}
        for item in tally:
            named = [leaf_id for leaf_id in (texts[item["values"]] or "").split(";") if leaf_id]
            for reason in _reasons(named, group_of, whole=kind == "failed"):
                rows[reason] = rows.get(reason, 0) + item["counts"]
    return found


def _reasons(named: list[str], group_of: dict[str, str], *, whole: bool) -> list[str]:
    """A row's reasons: its leaves, those of one group as one. A failed group is keyed whole; an
    unknown one by the leaves it could not judge (`ANY_KEY` and those ids), so the page can name
    the facts missing, and adds its variants up as the one group."""
    by_reason: dict[str, list[str]] = {}
    for leaf_id in named:
        by_reason.setdefault(group_of.get(leaf_id, leaf_id), []).append(leaf_id)
    return [
        ANY_KEY + ";".join(ids) if not whole and reason != ids[0] else reason
        for reason, ids in by_reason.items()
    ]


def _dictionary(ids: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if isinstance(ids, pa.DictionaryArray):
        return ids
    return pc.dictionary_encode(ids)  # over 31 leaves, or none: made plain
