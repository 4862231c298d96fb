"""The batch explanation past 62 criteria, where the ids are folded into more than one integer."""

import pyarrow as pa

from portal.rules.criteria import AllOf, AnyOf, Leaf
from portal.rules.formula import Bool, FactRef
from portal.screening.explain import ANY_KEY, any_groups, explaining_ids, reason_counts


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


def test_reason_counts_count_each_criterion_once_per_row_naming_it() -> None:
    """A row failing two criteria counts for both; a row that passes counts for none. The same
    with the few-criteria explanation (a dictionary array) and the many-criteria one (plain text)."""
    rows = [{0: False, 1: False}, {0: False}, {}, {1: None}, {1: None, 2: False}]
    for count in (3, 70):
        verdicts = {f"c{i}": pa.array([row.get(i, True) for row in rows], pa.bool_()) for i in range(count)}
        failed, unknown = explaining_ids(AllOf(tuple(_leaf(i) for i in range(count)), 1), verdicts)
        assert isinstance(failed, pa.DictionaryArray) == (count == 3)
        want = {"failed": {"c0": 2, "c1": 1, "c2": 1}, "unknown": {"c1": 1}}
        criteria = AllOf(tuple(_leaf(i) for i in range(count)), 1)
        assert reason_counts(failed, unknown, criteria) == want
        assert reason_counts(failed, pa.chunked_array([unknown[:2], unknown[2:]]), criteria) == want


def test_a_failed_any_one_of_group_counts_once_as_one_reason() -> None:
    """A row that met none of an "any one of" group's alternatives fails the group, not each of
    them: it counts once under the group's key, which names its leaves; a row that met one of
    them, or could not be judged on one, does not count for it."""
    group = AnyOf((_leaf(1), AllOf((_leaf(2), _leaf(3)), 1)), 1)
    criteria = AllOf((_leaf(0), group), 1)
    rows = [{1: False, 2: False}, {0: False, 1: False, 3: False}, {1: False}, {1: None, 2: False}, {0: False}]
    verdicts = {f"c{i}": pa.array([row.get(i, True) for row in rows], pa.bool_()) for i in range(4)}
    failed, unknown = explaining_ids(criteria, verdicts)
    assert list(any_groups(criteria)) == [ANY_KEY + "c1;c2;c3"]
    assert reason_counts(failed, unknown, criteria) == {
        "failed": {ANY_KEY + "c1;c2;c3": 2, "c0": 2},
        "unknown": {ANY_KEY + "c1": 1},
    }


def test_an_undetermined_any_one_of_group_counts_once_as_one_reason() -> None:
    """A row that met none of a group's alternatives and could not be judged on two of them is
    undetermined for the group once, not once per alternative it could not judge; the key names
    the alternatives it could not judge, so the page can say which facts were missing."""
    group = AnyOf((_leaf(1), AllOf((_leaf(2), _leaf(3)), 1)), 1)
    criteria = AllOf((_leaf(0), group), 1)
    rows = [{1: None, 3: None}, {1: None, 2: False}, {0: None}]
    verdicts = {f"c{i}": pa.array([row.get(i, True) for row in rows], pa.bool_()) for i in range(4)}
    failed, unknown = explaining_ids(criteria, verdicts)
    assert unknown.to_pylist() == ["c1;c3", "c1", "c0"]
    assert reason_counts(failed, unknown, criteria) == {
        "failed": {},
        "unknown": {ANY_KEY + "c1;c3": 1, ANY_KEY + "c1": 1, "c0": 1},
    }
