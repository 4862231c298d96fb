"""A stored trace as rows for people: each criterion in its group, each group with its own result.

The trace keeps one entry per leaf, so a failed alternative of an "any one of" group would read
as a bare "not met" under an eligible outcome. These rows put the leaves back into the rule's
tree: the reviewer's and the expert's pages and the letter's appendix all draw from them, so the
three read alike. A row says what it is (a criterion or a group kind) and its result; the words
are the page's and the letter's own.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not, leaves

RowKind = Literal["criterion", "any", "all", "not"]
_VERDICT: dict[object, bool | None] = {"pass": True, "fail": False}
_TEXT: dict[bool | None, str] = {True: "pass", False: "fail", None: "unknown"}


@dataclass(frozen=True, slots=True)
class TraceRow:
    """One line: a criterion (its stored trace entry) or the heading of a group of them.

    `covered` marks a row inside an "any one of" group that another option meets: its own
    result then does not count against the outcome.
    """

    kind: RowKind
    depth: int
    outcome: str  # pass | fail | unknown, of the criterion or of the whole group
    covered: bool
    entry: Mapping[str, Any]  # the trace entry (id, message, source, ...); empty for a group

    @property
    def reads(self) -> str:
        """How the result reads (see `reads`)."""
        return reads(self.outcome, self.covered)


def reads(outcome: str, covered: bool) -> str:
    """How a result reads: pass, fail, unknown, or fail_covered / unknown_covered for a row that
    another option of its "any one of" group makes unneeded (pages and letters word each)."""
    return f"{outcome}_covered" if covered and outcome != "pass" else outcome


def numbers(depths: Iterable[int]) -> list[str]:
    """Each row's number from the rows' depths, in order: 1, 2, 2.1, 2.2, 3 (a group's options
    under its own number), as the letter's annex and the enterprise's pages print them."""
    shown: list[str] = []
    place: list[int] = []
    for depth in depths:
        del place[depth + 1 :]
        place += [0] * (depth + 1 - len(place))
        place[depth] += 1
        shown.append(".".join(str(n) for n in place))
    return shown


def trace_rows(criteria: Node | None, entries: Sequence[Mapping[str, Any]]) -> list[TraceRow]:
    """The entries of a trace (`Result.to_json()["criteria"]`) in the groups of `criteria`.

    The top-level "all of" is the rule itself, whose outcome is shown apart: its children are the
    top rows. Without the tree, or with a tree whose leaves are not the entries' (another rule
    version), the entries are listed flat as they were recorded.
    """
    by_id = {str(entry.get("id")): entry for entry in entries}
    if criteria is None or [leaf.id for leaf in leaves(criteria)] != [str(e.get("id")) for e in entries]:
        return [TraceRow("criterion", 0, str(entry.get("outcome")), False, entry) for entry in entries]
    rows: list[TraceRow] = []
    tops = criteria.children if isinstance(criteria, AllOf) else (criteria,)
    for node in tops:
        _add(node, 0, False, by_id, rows)
    return rows


def _add(
    node: Node,
    depth: int,
    covered: bool,
    by_id: Mapping[str, Mapping[str, Any]],
    rows: list[TraceRow],
) -> None:
    own = _TEXT[_verdict(node, by_id)]
    if isinstance(node, Leaf):
        rows.append(TraceRow("criterion", depth, own, covered, by_id[node.id]))
        return
    kind: RowKind
    children: tuple[Node, ...]
    if isinstance(node, Not):
        kind, children = "not", (node.child,)
    else:
        assert isinstance(node, AllOf | AnyOf)
        kind, children = "any" if isinstance(node, AnyOf) else "all", node.children
    rows.append(TraceRow(kind, depth, own, covered, {}))
    settled = covered or (kind == "any" and own == "pass")
    for child in children:
        _add(child, depth + 1, settled, by_id, rows)


def _verdict(node: Node, by_id: Mapping[str, Mapping[str, Any]]) -> bool | None:
    """The node's three-valued result from its leaves' recorded outcomes (Kleene logic)."""
    if isinstance(node, Leaf):
        return _VERDICT.get(by_id[node.id].get("outcome"))
    if isinstance(node, Not):
        inner = _verdict(node.child, by_id)
        return None if inner is None else not inner
    assert isinstance(node, AllOf | AnyOf)
    decisive = isinstance(node, AnyOf)  # any: a pass decides; all: a fail decides
    found = [_verdict(child, by_id) for child in node.children]
    return decisive if decisive in found else None if None in found else not decisive
