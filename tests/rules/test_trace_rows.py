"""A stored trace drawn in its rule's groups: "any one of" groups with their own result, and an
option that another option makes unneeded reads as such (pages and letters draw these rows)."""

from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not
from portal.rules.formula import Bool
from portal.rules.trace_rows import trace_rows


def leaf(name: str) -> Leaf:
    return Leaf(name, f"enterprise.{name}", Bool(True), "is", Bool(True), None, 0)


def entries(**outcomes: str) -> list[dict[str, object]]:
    return [
        {"id": name, "outcome": outcome, "message": {"zh": name, "en": name}}
        for name, outcome in outcomes.items()
    ]


def drawn(tree: Node, **outcomes: str) -> list[tuple[str, int, str, str]]:
    """(kind, depth, id, how the result reads) of each row."""
    return [
        (row.kind, row.depth, str(row.entry.get("id", "")), row.reads)
        for row in trace_rows(tree, entries(**outcomes))
    ]


# all: [district, any: [rd, revenue, all: [staff, filed]]]
TREE = AllOf(
    (leaf("district"), AnyOf((leaf("rd"), leaf("revenue"), AllOf((leaf("staff"), leaf("filed")), 0)), 0)), 0
)


def test_a_met_group_heads_its_options_and_a_failed_option_reads_not_needed() -> None:
    assert drawn(TREE, district="pass", rd="pass", revenue="fail", staff="pass", filed="fail") == [
        ("criterion", 0, "district", "pass"),
        ("any", 0, "", "pass"),
        ("criterion", 1, "rd", "pass"),
        ("criterion", 1, "revenue", "fail_covered"),
        ("all", 1, "", "fail_covered"),
        ("criterion", 2, "staff", "pass"),
        ("criterion", 2, "filed", "fail_covered"),
    ]


def test_a_nested_all_of_can_be_the_option_that_meets_the_group() -> None:
    rows = drawn(TREE, district="pass", rd="fail", revenue="unknown", staff="pass", filed="pass")
    assert [(depth, reads) for _, depth, _, reads in rows] == [
        (0, "pass"),
        (0, "pass"),
        (1, "fail_covered"),
        (1, "unknown_covered"),
        (1, "pass"),
        (2, "pass"),
        (2, "pass"),
    ]


def test_an_unmet_group_says_not_met_and_an_open_one_unknown() -> None:
    failed = drawn(TREE, district="pass", rd="fail", revenue="fail", staff="fail", filed="pass")
    assert [reads for *_, reads in failed] == ["pass", "fail", "fail", "fail", "fail", "fail", "pass"]
    # Three-valued: no option met and one unknown leaves the group, and only it, open.
    open_ = drawn(TREE, district="fail", rd="fail", revenue="unknown", staff="fail", filed="unknown")
    assert [reads for *_, reads in open_] == ["fail", "unknown", "fail", "unknown", "fail", "fail", "unknown"]


def test_a_not_group_reads_the_opposite_of_its_member() -> None:
    tree = AllOf((leaf("sme"), AnyOf((leaf("big"), Not(leaf("tool"), 0)), 0)), 0)
    assert drawn(tree, sme="pass", big="fail", tool="fail") == [
        ("criterion", 0, "sme", "pass"),
        ("any", 0, "", "pass"),
        ("criterion", 1, "big", "fail_covered"),
        ("not", 1, "", "pass"),
        ("criterion", 2, "tool", "fail_covered"),
    ]


def test_a_rule_whose_top_is_one_group_draws_that_group() -> None:
    assert drawn(AnyOf((leaf("a"), leaf("b")), 0), a="unknown", b="pass") == [
        ("any", 0, "", "pass"),
        ("criterion", 1, "a", "unknown_covered"),
        ("criterion", 1, "b", "pass"),
    ]


def test_a_trace_of_another_rule_version_is_listed_flat_as_recorded() -> None:
    assert drawn(TREE, district="pass", rd="fail") == [
        ("criterion", 0, "district", "pass"),
        ("criterion", 0, "rd", "fail"),
    ]
    assert [row.reads for row in trace_rows(None, entries(a="fail"))] == ["fail"]
