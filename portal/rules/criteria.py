"""The typed IR of a rule's criteria tree and decision tables.

This is the inspectable form of `criteria:` and `tables:` (the batch compiler of issue 7 walks
it to emit SQL). Nodes are frozen; operands are formula nodes from `portal.rules.formula`.

A tree is `AllOf` / `AnyOf` / `Not` over `Leaf` nodes. A leaf tests one subject (a fact, or an
`expr` formula) with one operator:

- `>=`, `>`, `<=`, `<`, `==`, `!=`: `operand` is one formula node (literal, param, table, fact);
- `in`: `operand` is a tuple of literal nodes;
- `between`: `operand` is a `(low, high)` pair of formula nodes, inclusive;
- `is`: `operand` is a `Bool` literal.
"""

from dataclasses import dataclass

from portal.rules.formula import Expr
from portal.rules.text import Text

COMPARISON_OPS = (">=", ">", "<=", "<", "==", "!=")
LEAF_OPS = (*COMPARISON_OPS, "in", "between", "is")
HIT_POLICIES = ("first", "unique", "collect")
AGGREGATES = ("sum", "max", "min", "count")


class Node:
    """Base class of criteria nodes."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Leaf(Node):
    id: str
    fact: str | None  # qualified fact name, or None for an `expr` leaf
    subject: Expr  # FactRef(fact) for fact leaves, the parsed formula for expr leaves
    op: str
    operand: Expr | tuple[Expr, ...]
    because: Text | None
    line: int
    expr_text: str | None = None


@dataclass(frozen=True, slots=True)
class AllOf(Node):
    children: tuple[Node, ...]
    line: int


@dataclass(frozen=True, slots=True)
class AnyOf(Node):
    children: tuple[Node, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Not(Node):
    child: Node
    line: int


def leaves(node: Node) -> list[Leaf]:
    """All leaves in document order."""
    if isinstance(node, Leaf):
        return [node]
    if isinstance(node, Not):
        return leaves(node.child)
    assert isinstance(node, AllOf | AnyOf)
    return [leaf for child in node.children for leaf in leaves(child)]


@dataclass(frozen=True, slots=True)
class Condition:
    """One test of a table row on the table's input, e.g. `> 50000000`; `in` holds a tuple."""

    op: str
    value: object


@dataclass(frozen=True, slots=True)
class TableRow:
    when: tuple[Condition, ...]  # all must hold; empty = always matches
    then: object  # Decimal | int | bool | str
    line: int


@dataclass(frozen=True, slots=True)
class Table:
    """A decision table over one input with an explicit hit policy.

    first: the first matching row; unique: exactly one row may match (lint proves it);
    collect: every matching row, folded by `aggregate`. No matching row gives unknown for
    first/unique and the aggregate's empty value (0) for collect.
    """

    name: str
    hit: str
    aggregate: str | None
    input: Expr
    input_text: str
    type: str
    rows: tuple[TableRow, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: object
    type: str
    label: Text | None
    line: int


@dataclass(frozen=True, slots=True)
class BenefitSpec:
    """A named benefit; money results are rounded half-up to the fen (0.01 yuan)."""

    name: str
    expr: Expr
    expr_text: str
    type: str
    label: Text | None
    line: int
