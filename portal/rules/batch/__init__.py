"""Rules compiled to SQL (SQLAlchemy Core), with the scalar evaluator's semantics.

`compile_rule(rule, facts, on)` gives one SELECT over a facts table (one column per supplied
fact, `enterprise__revenue`); `compile_check(rule, facts)` lists what keeps a rule out of SQL,
for `portal rules lint`. Pure: imports nothing from the database, services or web layers.
"""

from portal.rules.batch.compiler import CompiledRule, CompileProblem, compile_check, compile_rule
from portal.rules.batch.formula_sql import NotCompilable

__all__ = ["CompileProblem", "CompiledRule", "NotCompilable", "compile_check", "compile_rule"]
