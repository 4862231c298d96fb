"""Compile a rule's IR once into Python closures, then evaluate with or without a trace.

Speed matters (a bank query, or screening 100k enterprises), so compilation specialises the
common shapes: a leaf over a supplied fact with a constant operand reads the fact and compares
in one closure; parameters fold to constants; a derived fact is computed only by the leaves
that use it. Without a trace, `all`/`any` short-circuit; with a trace every leaf is evaluated
and recorded.
"""

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not, Table, TableRow, leaves
from portal.rules.facts import FactDictionary
from portal.rules.formula import (
    COMPARATORS,
    Closure,
    Expr,
    FactRef,
    Facts,
    ParamRef,
    TableRef,
    compile_expr,
    constant_value,
    to_text,
    walk,
)
from portal.rules.model import Rule
from portal.rules.result import CriterionResult, LeafInfo, Outcome, Result, Verdict
from portal.rules.text import Text
from portal.rules.typecheck import Scope, check_rule

Fast = Callable[[Facts, date], bool | None]
Traced = Callable[[Facts, date, list[CriterionResult]], bool | None]
_FEN = Decimal("0.01")


class CompiledRule:
    """A rule bound to a fact dictionary: the closures, plus what explanations need."""

    def __init__(self, rule: Rule, facts: FactDictionary) -> None:
        problems = check_rule(rule, facts)
        if problems:
            raise problems[0]
        self.rule = rule
        self.facts = facts
        self.scope = Scope(rule, facts)
        self._tables: dict[str, Closure] = {}
        self.leaf_info: dict[str, LeafInfo] = {}
        self.leaf_deps: dict[str, tuple[str, ...]] = {}
        for leaf in leaves(rule.criteria):
            self.leaf_info[leaf.id] = self._info(leaf)
            self.leaf_deps[leaf.id] = self._base_facts(
                [leaf.subject, *(leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,))]
            )
        self.fast: Fast = self._fast(rule.criteria)
        self.traced: Traced = self._traced(rule.criteria)
        self.benefits = [
            (spec.name, self.expr(spec.expr), spec.type == "money", self._base_facts([spec.expr]))
            for spec in rule.benefit.values()
        ]

    # --- references ---------------------------------------------------------------------

    def resolve(self, ref: Expr) -> Closure:
        if isinstance(ref, FactRef):
            return self.facts.reader(ref.qualified)
        if isinstance(ref, ParamRef):
            value = self.rule.parameters[ref.name].value
            return lambda facts, on: value
        assert isinstance(ref, TableRef)
        if ref.name not in self._tables:
            self._tables[ref.name] = _compile_table(self.rule.tables[ref.name], self.expr)
        return self._tables[ref.name]

    def expr(self, expr: Expr) -> Closure:
        return compile_expr(expr, self.resolve)

    def _constant(self, expr: Expr) -> tuple[bool, object]:
        if isinstance(expr, ParamRef):
            return True, self.rule.parameters[expr.name].value
        return constant_value(expr)

    def _base_facts(self, exprs: list[Expr]) -> tuple[str, ...]:
        """Supplied facts an expression depends on, through derived facts and table inputs."""
        found: list[str] = []
        for expr in exprs:
            for node in walk(expr):
                names: tuple[str, ...] = ()
                if isinstance(node, FactRef):
                    names = self.facts.base_facts(node.qualified)
                elif isinstance(node, TableRef):
                    names = self._base_facts([self.rule.tables[node.name].input])
                found += [n for n in names if n not in found]
        return tuple(found)

    def _info(self, leaf: Leaf) -> LeafInfo:
        kind = self.scope.leaf_type(leaf)
        spec = self.facts.get(leaf.fact) if leaf.fact else None
        if spec is not None:
            label = spec.label
        elif leaf.because is not None:
            label = leaf.because
        else:
            label = Text(leaf.expr_text or leaf.id, leaf.expr_text or leaf.id)
        message = leaf.because or _default_message(leaf, label)
        return LeafInfo(leaf, message, self.rule.source.citation(), kind, label)

    # --- criteria ------------------------------------------------------------------------

    def _fast(self, node: Node) -> Fast:
        if isinstance(node, Leaf):
            return self._fast_leaf(node)
        if isinstance(node, Not):
            inner = self._fast(node.child)

            def negate(facts: Facts, on: date) -> bool | None:
                value = inner(facts, on)
                return None if value is None else not value

            return negate
        children = tuple(self._fast(c) for c in node.children)  # type: ignore[attr-defined]
        if isinstance(node, AllOf):

            def all_of(facts: Facts, on: date) -> bool | None:
                unknown = False
                for child in children:
                    value = child(facts, on)
                    if value is False:
                        return False
                    if value is None:
                        unknown = True
                return None if unknown else True

            return all_of

        def any_of(facts: Facts, on: date) -> bool | None:
            unknown = False
            for child in children:
                value = child(facts, on)
                if value is True:
                    return True
                if value is None:
                    unknown = True
            return None if unknown else False

        return any_of

    def _fast_leaf(self, leaf: Leaf) -> Fast:
        test = self._test(leaf)
        subject = leaf.subject
        spec = self.facts.get(subject.qualified) if isinstance(subject, FactRef) else None
        if spec is not None and not spec.derived and leaf.op not in ("between",):
            # The hot shape: a supplied fact against a constant. One closure, two dict lookups.
            is_const, expected = self._operand_constant(leaf)
            if is_const:
                entity, name = spec.entity, spec.name

                def direct(facts: Facts, on: date) -> bool | None:
                    values = facts.get(entity)
                    if values is None:
                        return None
                    value = values.get(name)
                    return None if value is None else test(value, expected)

                return direct
        read = self.expr(subject)
        is_const, constant = self._operand_constant(leaf)
        if is_const:

            def against_constant(facts: Facts, on: date) -> bool | None:
                value = read(facts, on)
                return None if value is None else test(value, constant)

            return against_constant
        want = self._operand(leaf)

        def general(facts: Facts, on: date) -> bool | None:
            value = read(facts, on)
            if value is None:
                return None
            expected = want(facts, on)
            return None if expected is None else test(value, expected)

        return general

    def _traced(self, node: Node) -> Traced:
        if isinstance(node, Leaf):
            return self._traced_leaf(node)
        if isinstance(node, Not):
            inner = self._traced(node.child)

            def negate(facts: Facts, on: date, out: list[CriterionResult]) -> bool | None:
                value = inner(facts, on, out)
                return None if value is None else not value

            return negate
        children = tuple(self._traced(c) for c in node.children)  # type: ignore[attr-defined]
        decisive = isinstance(node, AnyOf)  # any: a pass decides; all: a fail decides

        def group(facts: Facts, on: date, out: list[CriterionResult]) -> bool | None:
            decided = unknown = False
            for child in children:
                value = child(facts, on, out)
                if value is decisive:
                    decided = True
                elif value is None:
                    unknown = True
            if decided:
                return decisive
            return None if unknown else not decisive

        return group

    def _traced_leaf(self, leaf: Leaf) -> Traced:
        test = self._test(leaf)
        read = self.expr(leaf.subject)
        want = self._operand(leaf)
        info = self.leaf_info[leaf.id]
        deps = self.leaf_deps[leaf.id]
        passed, failed = Verdict.PASS, Verdict.FAIL

        def traced(facts: Facts, on: date, out: list[CriterionResult]) -> bool | None:
            value = read(facts, on)
            expected = want(facts, on)
            if value is None or expected is None:
                out.append(CriterionResult(info, value, expected, Verdict.UNKNOWN, _absent(facts, deps)))
                return None
            verdict = test(value, expected)
            out.append(CriterionResult(info, value, expected, passed if verdict else failed))
            return verdict

        return traced

    def _test(self, leaf: Leaf) -> Callable[[object, object], bool]:
        if leaf.op == "in":
            return lambda value, allowed: value in allowed  # type: ignore[operator]
        if leaf.op == "between":
            return lambda value, bounds: bounds[0] <= value <= bounds[1]  # type: ignore[index]
        if leaf.op == "is":
            return lambda value, wanted: value is wanted
        return COMPARATORS[leaf.op]

    def _operand_constant(self, leaf: Leaf) -> tuple[bool, object]:
        if isinstance(leaf.operand, tuple):
            pairs = [self._constant(item) for item in leaf.operand]
            if not all(ok for ok, _ in pairs):
                return False, None
            values = tuple(v for _, v in pairs)
            return True, frozenset(values) if leaf.op == "in" else values
        return self._constant(leaf.operand)

    def _operand(self, leaf: Leaf) -> Closure:
        is_const, value = self._operand_constant(leaf)
        if is_const:
            # `in` keeps the declared order in traces; membership is tested on the frozenset.
            if isinstance(leaf.operand, tuple) and leaf.op == "in":
                value = tuple(self._constant(item)[1] for item in leaf.operand)
            return lambda facts, on: value
        if isinstance(leaf.operand, tuple):
            parts = tuple(self.expr(item) for item in leaf.operand)

            def pair(facts: Facts, on: date) -> object:
                values = tuple(p(facts, on) for p in parts)
                return None if any(v is None for v in values) else values

            return pair
        return self.expr(leaf.operand)

    # --- the result ----------------------------------------------------------------------

    def evaluate(self, facts: Facts, on: date, trace: bool = True) -> Result:
        records: list[CriterionResult] = []
        verdict = self.traced(facts, on, records) if trace else self.fast(facts, on)
        rule = self.rule
        benefit: dict[str, Decimal] = {}
        missing: list[str] = []
        if verdict is True:
            outcome = Outcome.ELIGIBLE
            for name, compute, is_money, deps in self.benefits:
                amount = compute(facts, on)
                if amount is None:
                    missing += [f for f in _absent(facts, deps) if f not in missing]
                    continue
                amount = Decimal(amount)  # type: ignore[arg-type]
                benefit[name] = amount.quantize(_FEN, rounding=ROUND_HALF_UP) if is_money else amount
        elif verdict is False:
            outcome = Outcome.INELIGIBLE
        else:
            outcome = Outcome.UNDETERMINED
            if not trace:
                self.traced(facts, on, records)
            missing = self.missing_facts(records)
            if not trace:
                records = []
        return Result(
            measure=rule.id,
            version=rule.version,
            category=rule.category,
            outcome=outcome,
            rule_hash=rule.rule_hash,
            on=on,
            benefit=benefit,
            criteria=records,
            missing_facts=missing,
            compiled=self,
        )

    def missing_facts(self, records: list[CriterionResult]) -> list[str]:
        """Facts whose absence keeps the outcome open (only leaves that matter count)."""
        from portal.rules.explain import relevant

        found: list[str] = []
        for record, _negated in relevant(self.rule.criteria, {r.id: r for r in records}):
            if record.outcome is Verdict.UNKNOWN:
                found += [f for f in record.missing if f not in found]
        return found


def _absent(facts: Facts, names: tuple[str, ...]) -> tuple[str, ...]:
    missing = []
    for qualified in names:
        entity, name = qualified.split(".", 1)
        values = facts.get(entity)
        if values is None or values.get(name) is None:
            missing.append(qualified)
    return tuple(missing)


def _default_message(leaf: Leaf, label: Text) -> Text:
    if isinstance(leaf.operand, tuple):
        shown = "[" + ", ".join(to_text(o) for o in leaf.operand) + "]"
    else:
        shown = to_text(leaf.operand)
    return Text(f"{label.zh} {leaf.op} {shown}", f"{label.en} {leaf.op} {shown}")


def _compile_table(table: Table, compile_input: Callable[[Expr], Closure]) -> Closure:
    read = compile_input(table.input)
    rows = tuple((_row_matcher(row), row.then) for row in table.rows)
    if table.hit == "collect":
        fold = {"sum": sum, "max": max, "min": min, "count": len}[table.aggregate or "sum"]

        def collect(facts: Facts, on: date) -> object:
            value = read(facts, on)
            if value is None:
                return None
            hits = [out for match, out in rows if match(value)]
            if not hits:
                return 0  # an empty collection sums and counts to zero
            return fold(hits)  # type: ignore[operator]

        return collect

    # unique: lint proves that rows do not overlap, so the first match is the only one.
    def first(facts: Facts, on: date) -> object:
        value = read(facts, on)
        if value is None:
            return None
        for match, out in rows:
            if match(value):
                return out
        return None

    return first


def _condition(op: str, bound: object) -> Callable[[object], bool]:
    if op == "in":
        allowed = frozenset(bound)  # type: ignore[call-overload]
        return lambda value: value in allowed
    test = COMPARATORS[op]
    return lambda value: test(value, bound)


def _row_matcher(row: TableRow) -> Callable[[object], bool]:
    tests = tuple(_condition(c.op, c.value) for c in row.when)
    if not tests:
        return lambda value: True
    if len(tests) == 1:
        return tests[0]
    return lambda value: all(test(value) for test in tests)
