"""Each lint class, found in its deliberately broken fixture file, with the file and line."""

from pathlib import Path

import pytest

from portal.rules.lint import lint_paths

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad"


@pytest.mark.parametrize(
    ("name", "line", "needle"),
    [
        ("schema_error", 5, "category: 'tax_cut' is not one of"),
        ("unknown_fact", 14, "unknown fact enterprise.revnue"),
        ("type_mismatch_comparison", 14, "cannot compare money with date"),
        ("type_mismatch_formula", 16, "cannot multiply money by money"),
        ("overlap_b", 9, "overlaps version a"),
        ("table_gap", 13, "gap: no row matches"),
        ("table_overlap", 13, "rows 0 and 1 overlap"),
        ("missing_citation", 10, "source.article: missing citation"),
        ("missing_citation", 10, "source.en.document: missing English citation"),
        ("missing_text", 4, "title: missing en text"),
        ("few_examples", 17, "at least 3 are required"),
        ("bad_example_fact", 19, "enterprise.revenue: money cannot be negative"),
        ("unknown_workflow", 7, "no workflow file nonexistent.yaml"),
        ("unknown_rubric", 8, "rubric: no rubric file nonexistent.yaml"),
        ("rubric_split_b", 1, "rubric: names none, but rubric_split_a.yaml names default"),
        ("units", 1, "gzsti.abbr: missing 发文机关代字"),
        ("units", 2, "gzfin.en: missing en text"),
        ("not_compilable", 17, "benefit grant: money computed with `/` cannot be reproduced exactly in SQL"),
    ],
)
def test_lint_class(name: str, line: int, needle: str) -> None:
    path = BAD / f"{name}.yaml"
    problems = lint_paths([path])
    assert any(p.line == line and needle in p.message and p.path == path.resolve() for p in problems), (
        problems
    )


def test_the_fixture_pack_is_clean() -> None:
    assert lint_paths([FIXTURES / "pack"]) == []


def test_yaml_traps_are_closed(tmp_path: Path) -> None:
    (tmp_path / "facts.yaml").write_text((BAD / "facts.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    dup = tmp_path / "dup.yaml"
    dup.write_text("id: a.b\nid: a.c\n", encoding="utf-8")
    (problem,) = lint_paths([dup])
    assert problem.line == 2 and "duplicate key 'id'" in problem.message


def test_integer_bands_without_gaps_pass() -> None:
    from decimal import Decimal

    from portal.rules.criteria import Condition, Table, TableRow
    from portal.rules.formula import FactRef
    from portal.rules.lint import table_problems

    rows = (TableRow((Condition("<=", 3),), Decimal(1), 1), TableRow((Condition(">", 3),), Decimal(2), 2))
    table = Table("t", "unique", None, FactRef("enterprise.n"), "enterprise.n", "number", rows, 1)
    assert table_problems(table, "int") == []
    split = (TableRow((Condition("<=", 3),), 1, 1), TableRow((Condition(">=", 5),), 2, 2))
    assert table_problems(Table("t", "first", None, FactRef("e.n"), "e.n", "number", split, 1), "int") == [
        "tables.t: gap: no row matches values from 4 to 5"
    ]


def test_a_unit_key_outside_names_and_abbr_is_a_schema_error(tmp_path: Path) -> None:
    for name in ("facts.yaml", "units.yaml"):
        (tmp_path / name).write_text((FIXTURES / "pack" / name).read_text(encoding="utf-8"), encoding="utf-8")
    units = tmp_path / "units.yaml"
    units.write_text("gzsti: {zh: 科技局, en: S&T Bureau, abbr: 穗科, short: 科}\n", encoding="utf-8")
    (problem,) = lint_paths([units])
    assert problem.line == 1 and "gzsti.short: unknown field" in problem.message


def test_every_construct_sql_refuses_is_listed_in_one_run(tmp_path: Path) -> None:
    """Two money benefits built on `/`: both are refused, each at its own line, and nothing else is."""
    (tmp_path / "facts.yaml").write_text((BAD / "facts.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    second = '  refund:\n    expr: "min(enterprise.revenue / 4, 100)"\n    type: money\n'
    text = (BAD / "not_compilable.yaml").read_text(encoding="utf-8")
    text = text.replace("examples:\n", second + "examples:\n")
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    problems = lint_paths([path])
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (17, "benefit grant"),
        (20, "benefit refund"),
    ]


def test_a_measure_applied_for_online_needs_its_form_and_a_tax_measure_says_where(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (tmp_path / "forms").mkdir()
    (rules / "facts.yaml").write_text((BAD / "facts.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    text = (BAD / "not_compilable.yaml").read_text(encoding="utf-8")
    text = text.replace("enterprise.revenue / 2", "enterprise.revenue * 0.5").replace("channel: bank\n", "")
    online = rules / "online.yaml"
    online.write_text(text + "channel: online\n", encoding="utf-8")
    tax = rules / "tax.yaml"
    tax.write_text(
        text.replace("id: ", "id: x", 1) + "channel: tax_filing\nclaim:\n  where: {zh: 汇算清缴, en: ''}\n",
        encoding="utf-8",
    )
    messages = [p.message for p in lint_paths([online, tax])]
    assert any("channel: online needs a form, but forms/" in m for m in messages), messages
    assert "claim.when: a tax_filing measure says when it is claimed" in " | ".join(messages)
    assert any(m.startswith("claim.keep:") for m in messages)
    assert "claim.where: missing en text" in messages
    missing = rules / "missing.yaml"
    missing.write_text(text.replace("id: ", "id: y", 1), encoding="utf-8")
    assert "channel: missing (one of online, employer, tax_filing, bank, none)" in [
        p.message for p in lint_paths([missing])
    ]
