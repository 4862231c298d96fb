"""The batch explanation past 62 criteria, where the ids are folded into more than one integer."""

import pyarrow as pa

from portal.rules.criteria import AllOf, Leaf
from portal.rules.formula import Bool, FactRef
from portal.screening.explain import explaining_ids


def _leaf(i: int) -> Leaf:
    return Leaf(f"c{i}", "enterprise.x", FactRef("enterprise.x"), "is", Bool(True), None, i)


def test_ids_of_more_than_one_integer_are_joined_in_document_order() -> None:
    count = 70
    rows = [
        {3: False, 66: False},  # fails on a criterion of each integer
        {},  # passes
        {65: None},  # unknown on one criterion of the second integer
        {1: False, 65: None},  # a failure settles it: the unknown explains nothing
    ]
    verdicts = {f"c{i}": pa.array([row.get(i, True) for row in rows], pa.bool_()) for i in range(count)}
    failed, unknown = explaining_ids(AllOf(tuple(_leaf(i) for i in range(count)), 1), verdicts)
    assert failed.to_pylist() == ["c3;c66", "", "", "c1"]
    assert unknown.to_pylist() == ["", "", "c65", ""]
