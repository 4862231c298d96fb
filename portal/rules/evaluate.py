"""Compile a rule's IR once into Python closures, then evaluate with or without a trace.

Speed matters (a bank query, or screening 100k enterprises). The dict of the rule's entity is
looked up once per evaluation and handed to closures specialised by `portal.rules.local`;
parameters fold to constants, and a leaf against a constant tests with one C-level call.

Without a trace, `all`/`any` short-circuit over one closure per leaf. With a trace every leaf
is read, in tree order, into flat lists; verdicts come from one pass over them and are combined
by the tree. The `CriterionResult` objects, messages and hints are built only when read.
"""

import operator
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from portal.rules.bounds import ScalarBounds, refines
from portal.rules.criteria import AllOf, AnyOf, Leaf, Node, Not, leaves
from portal.rules.display import format_enum, format_threshold
from portal.rules.explain import hints_for, relevant
from portal.rules.facts import FactDictionary
from portal.rules.formula import (
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
from portal.rules.local import (
    NO_VALUES,
    Local,
    Values,
    check_against,
    read_days,
    read_general,
    read_share,
    read_supplied,
    read_years,
    share_of,
    table_lookup,
    years_since,
)
from portal.rules.model import Rule
from portal.rules.result import VARIES, CriterionResult, LeafInfo, Outcome, Result, Trace, Verdict
from portal.rules.text import Text
from portal.rules.typecheck import Scope, check_rule

Fast = Callable[[Values, Facts, date], bool | None]
Verdicts = list[bool | None]
Combine = Callable[[Verdicts], bool | None]
Test = Callable[[Any, Any], bool]
_FEN = Decimal("0.01")
_ELIGIBLE, _INELIGIBLE = Outcome.ELIGIBLE, Outcome.INELIGIBLE  # module globals: cheaper than enum lookups
_DECIMAL_KINDS = ("money", "ratio")  # what FactDictionary.parse and shares make Decimal
_FLIP: dict[bool | None, bool | None] = {True: False, False: True, None: None}
_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
_TESTS: dict[str, Test] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
    "is": operator.is_,
    "in": lambda value, allowed: value in allowed,
    "between": lambda value, bounds: bounds[0] <= value <= bounds[1],
}


class CompiledRule:
    """A rule bound to a fact dictionary: the closures, plus what explanations need."""

    def __init__(self, rule: Rule, facts: FactDictionary) -> None:
        problems = check_rule(rule, facts)
        if problems:
            raise problems[0]
        self.rule = rule
        self.facts = facts
        self.scope = Scope(rule, facts)
        self.entity = rule.applies_to
        self._tables: dict[str, Local] = {}
        self.leaves: tuple[Leaf, ...] = tuple(leaves(rule.criteria))
        self.leaf_info: dict[str, LeafInfo] = {}
        self.leaf_deps: dict[str, tuple[str, ...]] = {}
        for leaf in self.leaves:
            self.leaf_info[leaf.id] = self._info(leaf)
            self.leaf_deps[leaf.id] = self._base_facts([leaf.subject, *_operands(leaf)])
        self.leaf_infos = tuple(self.leaf_info[leaf.id] for leaf in self.leaves)
        self._deps = tuple(self.leaf_deps[leaf.id] for leaf in self.leaves)
        # Partial knowledge: leaves whose unknown verdict the known facts may still settle.
        self.bounds = ScalarBounds(
            facts, {name: p.value for name, p in rule.parameters.items()}, rule.tables, self.expr
        )
        self._refine = {leaf.id: self.bounds.leaf(leaf) for leaf in self.leaves if refines(leaf, facts)}
        self._refined = tuple(
            (i, self._refine[leaf.id]) for i, leaf in enumerate(self.leaves) if leaf.id in self._refine
        )
        self._decide: Fast = self._fast(rule.criteria)
        self._combine: Combine = _combiner(rule.criteria, iter(range(len(self.leaves))), len(self.leaves))
        # A trace reads the supplied facts of the rule's entity with one C-level map over its dict
        # (in the other leaves' places it reads "", which their readers then overwrite).
        supplied = [self._supplied_name(leaf.subject) for leaf in self.leaves]
        self._names = tuple(name or "" for name in supplied)
        self._readers = tuple(
            (i, self._local(leaf.subject)) for i, leaf in enumerate(self.leaves) if supplied[i] is None
        )
        self._tests = tuple(_TESTS[leaf.op] for leaf in self.leaves)
        expected: list[object] = []
        wants: list[tuple[int, Local]] = []
        for index, info in enumerate(self.leaf_infos):
            # The constant itself, the object whose JSON the info made: the entry reuses it.
            expected.append(None if info.operand is VARIES else info.operand)
            if info.operand is VARIES:
                wants.append((index, self._operand(info.leaf)))
        self._expected = expected
        self._wants = tuple(wants)
        self.benefits = [
            (spec.name, self.expr(spec.expr), spec.type == "money", self._base_facts([spec.expr]))
            for spec in rule.benefit.values()
        ]
        self._benefit_bounds = {spec.name: self.bounds.compile(spec.expr) for spec in rule.benefit.values()}
        fixed = {
            spec.name: self._fixed_benefit(spec.expr, spec.type == "money") for spec in rule.benefit.values()
        }
        # A benefit of constants only (a tax rate) is the same dict every time: copied, not recomputed.
        self._fixed: dict[str, Decimal] | None = (
            {name: amount for name, amount in fixed.items() if amount is not None}
            if all(amount is not None for amount in fixed.values())
            else None
        )

    # --- references ---------------------------------------------------------------------

    def inputs(self) -> tuple[str, ...]:
        """The supplied facts the rule reads in its criteria and benefits, sorted: what to ask for."""
        deps = [*self.leaf_deps.values(), *(benefit[3] for benefit in self.benefits)]
        return tuple(sorted({fact for group in deps for fact in group}))

    def benefit_inputs(self) -> dict[str, tuple[str, ...]]:
        """Each benefit's name and the supplied facts its formula reads (through derived facts)."""
        return {name: deps for name, _compute, _is_money, deps in self.benefits}

    def resolve(self, ref: Expr) -> Closure:
        """General (facts, on) closures for formula references: benefits and `expr` leaves."""
        if isinstance(ref, FactRef):
            return self.facts.reader(ref.qualified)
        if isinstance(ref, ParamRef):
            value = self.rule.parameters[ref.name].value
            return lambda facts, on: value
        assert isinstance(ref, TableRef)
        lookup, entity = self._table(ref.name), self.entity
        return lambda facts, on: lookup(facts.get(entity) or NO_VALUES, facts, on)

    def expr(self, expr: Expr) -> Closure:
        return compile_expr(expr, self.resolve)

    def _table(self, name: str) -> Local:
        if name not in self._tables:
            table = self.rule.tables[name]
            decimal = self.scope.type_of(table.input) in _DECIMAL_KINDS
            spec = self.facts.get(table.input.qualified) if isinstance(table.input, FactRef) else None
            supplied = (
                spec.name if spec is not None and spec.entity == self.entity and not spec.derived else None
            )
            self._tables[name] = table_lookup(table, self._local(table.input), decimal, supplied)
        return self._tables[name]

    def _supplied_name(self, expr: Expr) -> str | None:
        """The name of a supplied fact of the rule's entity, which `_local` reads with one lookup."""
        if not isinstance(expr, FactRef):
            return None
        spec = self.facts.get(expr.qualified)
        return spec.name if spec is not None and spec.entity == self.entity and not spec.derived else None

    def _local(self, expr: Expr) -> Local:
        """A reader of `expr` over the rule entity's values, specialised where the shape allows."""
        if isinstance(expr, FactRef):
            spec = self.facts.get(expr.qualified)
            if spec is not None and spec.entity == self.entity:
                if not spec.derived:
                    return read_supplied(spec.name)
                share = share_of(spec, self.facts)
                if share is not None:
                    return read_share(*share)
                start = years_since(spec, self.facts)
                if start is not None:
                    return read_years(start)
                start = years_since(spec, self.facts, "days_between")
                if start is not None:
                    return read_days(start)
        if isinstance(expr, TableRef):
            return self._table(expr.name)
        is_const, value = self._constant(expr)
        if is_const:
            return lambda values, facts, on: value
        return read_general(self.expr(expr))

    def _constant(self, expr: Expr) -> tuple[bool, object]:
        if isinstance(expr, ParamRef):
            return True, self.rule.parameters[expr.name].value
        return constant_value(expr)

    def _operand_constant(self, leaf: Leaf) -> tuple[bool, object]:
        """(True, value) for a constant operand; `in` and `between` give tuples in declared order."""
        if isinstance(leaf.operand, tuple):
            pairs = [self._constant(item) for item in leaf.operand]
            if not all(ok for ok, _ in pairs):
                return False, None
            return True, tuple(value for _, value in pairs)
        return self._constant(leaf.operand)

    def _operand(self, leaf: Leaf) -> Local:
        if not isinstance(leaf.operand, tuple):
            return self._local(leaf.operand)
        parts = tuple(self._local(item) for item in leaf.operand)

        def bounds(values: Values, facts: Facts, on: date) -> object:
            found = tuple(part(values, facts, on) for part in parts)
            return None if None in found else found

        return bounds

    def _fixed_benefit(self, expr: Expr, is_money: bool) -> Decimal | None:
        is_const, value = self._constant(expr)
        if not is_const or not isinstance(value, int | Decimal) or isinstance(value, bool):
            return None
        amount = Decimal(value)
        return amount.quantize(_FEN, rounding=ROUND_HALF_UP) if is_money else amount

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
        values = self.facts.value_labels.get(leaf.fact, {}) if leaf.fact else {}
        message = leaf.because or self._default_message(leaf, label, kind, values)
        is_const, operand = self._operand_constant(leaf)
        citation = self.rule.source.citations()
        return LeafInfo(leaf, message, citation, kind, label, values, operand=operand if is_const else VARIES)

    def _default_message(self, leaf: Leaf, label: Text, kind: str, values: Mapping[str, Text]) -> Text:
        """What a leaf without `because` tests, in words, with constants formatted like hints."""
        is_const, value = self._operand_constant(leaf)

        def shown(lang: str) -> str:
            if not is_const:
                items = leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,)
                return ", ".join(to_text(item) for item in items)
            if leaf.op == "is":
                return format_threshold(value, "bool", lang)
            if values:
                return format_enum(value, values, lang)
            return format_threshold(value, kind, lang)

        zh, en = shown("zh"), shown("en")
        if leaf.op == "is":
            return Text(f"{label.zh}：{zh}", f"{label.en}: {en}")
        if leaf.op == "in":
            return Text(f"{label.zh} 为 {zh.replace(', ', '、')} 之一", f"{label.en} is one of {en}")
        if leaf.op == "between":
            return Text(
                f"{label.zh} 在 {zh.replace(', ', ' 至 ')} 之间",
                f"{label.en} between {en.replace(', ', ' and ')}",
            )
        return Text(f"{label.zh} {_SYMBOL[leaf.op]} {zh}", f"{label.en} {_SYMBOL[leaf.op]} {en}")

    # --- criteria without a trace: short-circuiting closures ------------------------------

    def _fast(self, node: Node) -> Fast:
        if isinstance(node, Leaf):
            return self._fast_leaf(node)
        if isinstance(node, Not):
            inner = self._fast(node.child)
            return lambda values, facts, on: _FLIP[inner(values, facts, on)]
        assert isinstance(node, AllOf | AnyOf)
        children = tuple(self._fast(c) for c in node.children)
        if isinstance(node, AllOf):

            def all_of(values: Values, facts: Facts, on: date) -> bool | None:
                unknown = False
                for child in children:
                    value = child(values, facts, on)
                    if value is False:
                        return False
                    if value is None:
                        unknown = True
                return None if unknown else True

            return all_of

        def any_of(values: Values, facts: Facts, on: date) -> bool | None:
            unknown = False
            for child in children:
                value = child(values, facts, on)
                if value is True:
                    return True
                if value is None:
                    unknown = True
            return None if unknown else False

        return any_of

    def _fast_leaf(self, leaf: Leaf) -> Fast:
        plain = self._plain_leaf(leaf)
        refine = self._refine.get(leaf.id)
        if refine is None:
            return plain

        def refined(values: Values, facts: Facts, on: date) -> bool | None:
            verdict = plain(values, facts, on)
            return refine(facts, on) if verdict is None else verdict

        return refined

    def _plain_leaf(self, leaf: Leaf) -> Fast:
        is_const, bound = self._operand_constant(leaf)
        spec = self.facts.get(leaf.fact) if leaf.fact else None
        share = share_of(spec, self.facts) if spec is not None and spec.entity == self.entity else None
        if not is_const:
            want, test = self._operand(leaf), _TESTS[leaf.op]
            if share is not None:  # a share against a table band (the R&D ratio)
                top, bottom, wrap = share

                def share_against_band(values: Values, facts: Facts, on: date) -> bool | None:
                    a = values.get(top)
                    b = values.get(bottom)
                    if a is None or not b:
                        return None
                    expected = want(values, facts, on)
                    return None if expected is None else test(Decimal(a) / b if wrap else a / b, expected)  # type: ignore[arg-type, operator]

                return share_against_band
            read = self._local(leaf.subject)

            def general(values: Values, facts: Facts, on: date) -> bool | None:
                value = read(values, facts, on)
                if value is None:
                    return None
                expected = want(values, facts, on)
                return None if expected is None else test(value, expected)

            return general
        check = check_against(leaf.op, bound, self.leaf_info[leaf.id].kind in _DECIMAL_KINDS)
        if spec is not None and spec.entity == self.entity and not spec.derived:
            # The commonest leaf: a supplied fact against a constant, one lookup and one C call.
            name = spec.name

            def supplied(values: Values, facts: Facts, on: date) -> bool | None:
                value = values.get(name)
                return None if value is None else check(value)

            return supplied
        if share is not None:
            top, bottom, wrap = share

            def share_against(values: Values, facts: Facts, on: date) -> bool | None:
                a = values.get(top)
                b = values.get(bottom)
                if a is None or not b:
                    return None
                return check(Decimal(a) / b if wrap else a / b)  # type: ignore[arg-type, operator]

            return share_against
        start = years_since(spec, self.facts) if spec is not None and spec.entity == self.entity else None
        if start is not None:  # years registered: formula.years_between, inlined to save two calls

            def years_against(values: Values, facts: Facts, on: date) -> bool | None:
                since = values.get(start)
                if since is None:
                    return None
                return check(on.year - since.year - ((on.month, on.day) < (since.month, since.day)))  # type: ignore[attr-defined]

            return years_against
        read = self._local(leaf.subject)

        def against_constant(values: Values, facts: Facts, on: date) -> bool | None:
            value = read(values, facts, on)
            return None if value is None else check(value)

        return against_constant

    # --- the result ----------------------------------------------------------------------

    def evaluate(self, facts: Facts, on: date, trace: bool = True) -> Result:
        values = facts.get(self.entity) or NO_VALUES
        recorded: Trace | None = None
        if trace:
            recorded = self._trace(values, facts, on)
            verdict = self._combine(recorded[2])
        else:
            verdict = self._decide(values, facts, on)
        rule = self.rule
        missing: list[str] = []
        criteria: list[CriterionResult] | None = None
        if verdict is True:
            outcome = _ELIGIBLE
            benefit = self._fixed.copy() if self._fixed is not None else self._benefit(facts, on, missing)
        elif verdict is False:
            outcome, benefit = _INELIGIBLE, {}
        else:
            # Which facts to ask for needs the whole trace, also when none was asked for.
            outcome, benefit = Outcome.UNDETERMINED, {}
            records = self.records(recorded if recorded is not None else self._trace(values, facts, on))
            missing = self.missing_facts(records)
            if trace:
                criteria = records
            potential, up_to = self.potential_benefit(facts, on)
            return Result(
                rule.id,
                rule.version,
                rule.category,
                outcome,
                rule.rule_hash,
                on,
                benefit,
                missing,
                criteria,
                self,
                None,
                recorded,
                potential,
                up_to,
            )
        # Positional: see Result.__init__.
        return Result(
            rule.id,
            rule.version,
            rule.category,
            outcome,
            rule.rule_hash,
            on,
            benefit,
            missing,
            criteria,
            self,
            None,
            recorded,
        )

    def potential_benefit(self, facts: Facts, on: date) -> tuple[dict[str, Decimal], list[str]]:
        """What an undetermined result would grant if the missing facts come out favourably.

        Each amount the known facts already fix is given exactly; an amount whose inputs are
        missing is given as its ceiling (the most it can come to, e.g. a cap) and named in the
        second list; an amount with no ceiling is left out.
        """
        if self._fixed is not None:
            return self._fixed.copy(), []
        amounts: dict[str, Decimal] = {}
        up_to: list[str] = []
        for name, compute, is_money, _deps in self.benefits:
            amount = compute(facts, on)
            if amount is None:
                amount = self._benefit_bounds[name](facts, on)[1]
                if amount is None:
                    continue
                up_to.append(name)
            amount = Decimal(amount)  # type: ignore[arg-type]
            amounts[name] = amount.quantize(_FEN, rounding=ROUND_HALF_UP) if is_money else amount
        return amounts, up_to

    def _trace(self, values: Values, facts: Facts, on: date) -> Trace:
        """Every leaf's value, expectation and verdict (tree order), and the facts each unknown lacks."""
        seen = list(map(values.get, self._names))
        for index, read in self._readers:
            seen[index] = read(values, facts, on)
        expected = self._expected.copy()
        for index, want in self._wants:
            expected[index] = want(values, facts, on)
        verdicts: Verdicts = [
            None if value is None or wanted is None else test(value, wanted)
            # Not strict: one item per leaf by construction, and the length check shows in profiles.
            for value, wanted, test in zip(seen, expected, self._tests, strict=False)
        ]
        if all(verdicts):  # every leaf passed, so none is unknown: the usual case, one C-level scan
            return seen, expected, verdicts, {}
        for index, refine in self._refined:
            if verdicts[index] is None:
                verdicts[index] = refine(facts, on)
        deps = self._deps
        missing = {i: _absent(facts, deps[i]) for i, verdict in enumerate(verdicts) if verdict is None}
        return seen, expected, verdicts, missing

    def hints(self, result: Result, lang: str) -> list[str]:
        """What would make `result` (an evaluation of this rule) pass, in `lang`."""
        return hints_for(result, self, result._trace, lang)

    def records(self, trace: Trace) -> list[CriterionResult]:
        """The trace as `CriterionResult`s, in tree order."""
        seen, expected, verdicts, missing = trace
        outcome = {True: Verdict.PASS, False: Verdict.FAIL, None: Verdict.UNKNOWN}
        return [
            CriterionResult(info, seen[i], expected[i], outcome[verdicts[i]], missing.get(i, ()))
            for i, info in enumerate(self.leaf_infos)
        ]

    def _benefit(self, facts: Facts, on: date, missing: list[str]) -> dict[str, Decimal]:
        benefit: dict[str, Decimal] = {}
        for name, compute, is_money, deps in self.benefits:
            amount = compute(facts, on)
            if amount is None:
                missing += [f for f in _absent(facts, deps) if f not in missing]
                continue
            amount = Decimal(amount)  # type: ignore[arg-type]
            benefit[name] = amount.quantize(_FEN, rounding=ROUND_HALF_UP) if is_money else amount
        return benefit

    def missing_facts(self, records: list[CriterionResult]) -> list[str]:
        """Facts whose absence keeps the outcome open (only leaves that matter count)."""
        found: list[str] = []
        for record, _negated in relevant(self.rule.criteria, {r.id: r for r in records}):
            if record.outcome is Verdict.UNKNOWN:
                found += [f for f in record.missing if f not in found]
        return found


def _operands(leaf: Leaf) -> tuple[Expr, ...]:
    return leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,)


def _absent(facts: Facts, names: tuple[str, ...]) -> tuple[str, ...]:
    missing = []
    for qualified in names:
        entity, name = qualified.split(".", 1)
        values = facts.get(entity)
        if values is None or values.get(name) is None:
            missing.append(qualified)
    return tuple(missing)


def _combiner(node: Node, positions: Iterator[int], total: int) -> Combine:
    """The tree's verdict from the leaves' verdicts, which sit in tree order in one list.

    A group whose children are all leaves tests its slice with C-level all()/any()/`in`, so the
    usual top-level `all` of a rule costs one scan of the list instead of a Python call per leaf.
    """
    if isinstance(node, Leaf):
        return operator.itemgetter(next(positions))
    if isinstance(node, Not):
        inner = _combiner(node.child, positions, total)
        return lambda verdicts: _FLIP[inner(verdicts)]
    assert isinstance(node, AllOf | AnyOf)
    decisive = isinstance(node, AnyOf)  # any: a pass decides; all: a fail decides
    if all(isinstance(child, Leaf) for child in node.children):
        start = next(positions)
        for _ in node.children[1:]:
            next(positions)
        end = start + len(node.children)
        whole = start == 0 and end == total

        def flat(verdicts: Verdicts) -> bool | None:
            part = verdicts if whole else verdicts[start:end]
            # Truth-testing first: all()/any() settle the common cases without comparisons.
            if decisive:
                if any(part):
                    return True
            elif all(part):
                return True
            if decisive in part:
                return decisive
            return None if None in part else not decisive

        return flat
    children = tuple(_combiner(child, positions, total) for child in node.children)

    def group(verdicts: Verdicts) -> bool | None:
        unknown = False
        for child in children:
            value = child(verdicts)
            if value is decisive:
                return decisive
            if value is None:
                unknown = True
        return None if unknown else not decisive

    return group
