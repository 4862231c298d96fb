"""The compiler's refusals, its coverage of the real pack, and SQLAlchemy statement caching."""

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, column, table
from sqlalchemy.dialects import sqlite

from portal.rules import Pack, load_pack
from portal.rules.batch import CompileProblem, compile_check, compile_rule
from portal.rules.batch.columns import sql_column
from portal.rules.batch.compiler import FACTS_TABLE, _formulas
from portal.screening.engines import load_facts, open_engine, run_rule

FIXTURE_FACTS = Path(__file__).parent / "fixtures" / "pack" / "rules" / "facts.yaml"
DIVIDED = """\
id: fixture.divided
version: "1"
title: {zh: 除法金额, en: Divided money}
category: subsidy
applies_to: enterprise
effective: {from: 2020-01-01, to: null}
source: {document: fixture, article: "1"}
criteria:
  all:
    - {id: ip, fact: enterprise.core_ip, is: true}
benefit:
  share:
    expr: "enterprise.rd_ratio * 2"
    type: ratio
  grant:
    expr: "enterprise.revenue / 3"
    type: money
examples: []
"""


def test_money_from_a_division_is_refused(tmp_path: Path) -> None:
    shutil.copy(FIXTURE_FACTS, tmp_path / "facts.yaml")
    (tmp_path / "divided.yaml").write_text(DIVIDED, encoding="utf-8")
    (rule,) = load_pack(tmp_path).rules
    problems = compile_check(rule, load_pack(tmp_path).facts)
    # The ratio benefit divides too (rd_ratio is derived), but only money must be exact to the fen.
    assert problems == [
        CompileProblem(
            15,
            "benefit grant: money computed with `/` cannot be reproduced exactly in SQL; "
            "multiply by a ratio parameter instead",
        )
    ]


def test_every_rule_of_the_real_pack_compiles(real_pack: Pack) -> None:
    assert {rule.path.name: compile_check(rule, real_pack.facts) for rule in real_pack.rules} == {
        rule.path.name: [] for rule in real_pack.rules
    }


def test_evaluation_date_is_part_of_the_statement_cache_key(
    fixture_pack: Pack, connection: Connection
) -> None:
    """Two dates must give two statements: a shared cache entry would reuse the first date."""
    rule = fixture_pack.select("fixture.banded", date(2026, 6, 30))
    assert rule is not None
    facts = pa.table(
        {
            "row": pa.array([1], pa.int64()),
            "enterprise__registered_on": pa.array([date(2025, 6, 30)], pa.date32()),
            "enterprise__core_ip": pa.array([True]),
            "enterprise__employees": pa.array([100], pa.int64()),
            "enterprise__st_staff": pa.array([10], pa.int64()),
            "enterprise__revenue": pa.array([Decimal("100")], pa.decimal128(38, 6)),
            "enterprise__rd_expense": pa.array([Decimal("5")], pa.decimal128(38, 6)),
            "enterprise__district": pa.array(["tianhe"]),
            "enterprise__restricted": pa.array([False]),
            "enterprise__score": pa.array([70], pa.int64()),
            "enterprise__margin": pa.array([Decimal("0.3")], pa.decimal128(38, 10)),
        }
    )
    load_facts(connection, facts)
    statements = [
        compile_rule(rule, fixture_pack.facts, on).statement for on in (date(2026, 6, 29), date(2026, 6, 30))
    ]
    keys = [s._generate_cache_key() for s in statements]
    assert None not in keys  # cacheable at all: every custom construct declares its attributes
    assert keys[0] != keys[1]
    outcomes = [connection.execute(statement).one().outcome for statement in statements]
    assert outcomes == ["ineligible", "eligible"]  # registered exactly one year on the second date


def test_results_come_back_in_row_order_whatever_the_facts_order(
    fixture_pack: Pack, connection: Connection
) -> None:
    """DuckDB runs the rule without ORDER BY and sorts only when its plan lost the order."""
    rule = fixture_pack.select("fixture.banded", date(2026, 6, 30))
    assert rule is not None
    rows = [3, 1, 2]
    facts = pa.table(
        {
            "row": pa.array(rows, pa.int64()),
            "enterprise__registered_on": pa.array([date(2025, 6, 30)] * 3, pa.date32()),
            "enterprise__core_ip": pa.array([True, False, True]),
            "enterprise__employees": pa.array([100] * 3, pa.int64()),
            "enterprise__st_staff": pa.array([10] * 3, pa.int64()),
            "enterprise__revenue": pa.array([Decimal("100")] * 3, pa.decimal128(38, 6)),
            "enterprise__rd_expense": pa.array([Decimal("5")] * 3, pa.decimal128(38, 6)),
            "enterprise__district": pa.array(["tianhe"] * 3),
            "enterprise__restricted": pa.array([False] * 3),
            "enterprise__score": pa.array([70] * 3, pa.int64()),
            "enterprise__margin": pa.array([Decimal("0.3")] * 3, pa.decimal128(38, 10)),
        }
    )
    load_facts(connection, facts)
    result = run_rule(connection, compile_rule(rule, fixture_pack.facts, date(2026, 6, 30)))
    assert result.column("row").to_pylist() == [1, 2, 3]
    assert result.column("outcome").to_pylist()[0] == "ineligible"  # row 1 has no core IP


def test_each_decision_table_is_computed_once_per_statement(real_pack: Pack) -> None:
    """A table referenced inside max(), a comparison and the unknown-aware forms is computed in
    one place, not repeated at every reference (qualification.st_sme was 62 KB of SQL)."""
    on = date(2026, 6, 30)
    rule = real_pack.select("qualification.st_sme", on)
    assert rule is not None and len(rule.tables) == 4
    statement = compile_rule(rule, real_pack.facts, on).sql(sqlite.dialect())
    facts = table(FACTS_TABLE, *(column(sql_column(q)) for q in real_pack.facts.specs))
    formulas = _formulas(rule, real_pack.facts, on, lambda qualified: facts.c[sql_column(qualified)])
    for decision in rule.tables.values():
        alone = formulas.table(decision).compile(
            dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
        )
        assert statement.count(str(alone)) == 1


def test_steps_are_materialised_only_where_the_engine_would_copy_their_expressions(real_pack: Pack) -> None:
    """SQLite and PostgreSQL flatten a step into each reference; DuckDB keeps its columns, so
    the hint there only copied every row."""
    from duckdb_engine import Dialect as DuckDBDialect
    from sqlalchemy.dialects import postgresql

    on = date(2026, 6, 30)
    rule = real_pack.select("qualification.st_sme", on)
    assert rule is not None and rule.tables
    compiled = compile_rule(rule, real_pack.facts, on)
    assert compiled.sql(sqlite.dialect()).count("AS MATERIALIZED") == 2
    assert compiled.sql(postgresql.dialect()).count("AS MATERIALIZED") == 2
    assert "MATERIALIZED" not in compiled.sql(DuckDBDialect())


BELOW_ZERO = """\
id: fixture.below_zero
version: "1"
title: {zh: 负零金额, en: Amount rounded to zero from below}
category: subsidy
applies_to: enterprise
effective: {from: 2020-01-01, to: null}
source: {document: fixture, article: "1"}
criteria:
  all:
    - {id: ip, fact: enterprise.core_ip, is: true}
benefit:
  grant:
    expr: "enterprise.revenue * 0.001 - 0.004"
    type: money
examples: []
"""


def test_sqlite_keeps_the_sign_of_an_amount_rounded_to_zero(tmp_path: Path) -> None:
    """SQLite rounds -0.003 to -0.0 and the evaluator's Decimal to -0.00; the text SQLite builds
    for its results writes -0.0 as 0.0, so those amounts are fetched again with their sign."""
    shutil.copy(FIXTURE_FACTS, tmp_path / "facts.yaml")
    (tmp_path / "below_zero.yaml").write_text(BELOW_ZERO, encoding="utf-8")
    pack = load_pack(tmp_path)
    (rule,) = pack.rules
    on = date(2026, 6, 30)
    facts = pa.table(
        {
            "row": pa.array([1, 2, 3], pa.int64()),
            "enterprise__core_ip": pa.array([True, True, True]),
            "enterprise__revenue": pa.array([Decimal(1), Decimal(4), Decimal(5)], pa.decimal128(38, 6)),
        }
    )
    want = [str(rule.evaluate({"enterprise": {"core_ip": True, "revenue": r}}, on).benefit["grant"])
            for r in (Decimal(1), Decimal(4), Decimal(5))]  # fmt: skip
    assert want == ["-0.00", "0.00", "0.00"]
    with open_engine("sqlite").connect() as conn:
        load_facts(conn, facts)
        result = run_rule(conn, compile_rule(rule, pack.facts, on))
    assert result.column("b0").to_pylist() == want
