"""The formula language: a typed expression IR, its parser, type checker and closure compiler.

Formulas appear in derived facts, benefits, table inputs and `expr` leaves. They are parsed with
Python's `ast` module under a whitelist (never `eval`) into the frozen node classes below. The
IR is the published, walkable form (the batch compiler turns it into SQL); evaluation compiles
it once into nested Python closures.

Values at run time: Decimal or int for numbers, bool, `datetime.date`, str. `None` means
unknown: it propagates through arithmetic, and `and`/`or` follow Kleene logic.
"""

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, DivisionByZero, InvalidOperation

from portal.rules.errors import FormulaError

NUMERIC_TYPES = frozenset({"int", "money", "ratio", "number"})

Facts = Mapping[str, Mapping[str, object]]
Closure = Callable[[Facts, date], object]


class Expr:
    """Base class of formula nodes."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Num(Expr):
    value: Decimal | int


@dataclass(frozen=True, slots=True)
class Bool(Expr):
    value: bool


@dataclass(frozen=True, slots=True)
class Str(Expr):
    value: str


@dataclass(frozen=True, slots=True)
class DateLit(Expr):
    value: date


@dataclass(frozen=True, slots=True)
class FactRef(Expr):
    """A qualified fact, base or derived: `enterprise.revenue`."""

    qualified: str

    @property
    def entity(self) -> str:
        return self.qualified.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.qualified.split(".", 1)[1]


@dataclass(frozen=True, slots=True)
class ParamRef(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class TableRef(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class OnDate(Expr):
    """The evaluation date."""


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str  # "-" | "not"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    op: str  # "+" | "-" | "*" | "/"
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    op: str  # ">=" | ">" | "<=" | "<" | "==" | "!="
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Logical(Expr):
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Cond(Expr):
    """`then if test else orelse`."""

    test: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: str  # "min" | "max" | "round" | "abs" | "years_between" | "days_between"
    args: tuple[Expr, ...]


FUNCTIONS = frozenset({"min", "max", "round", "abs", "years_between", "days_between"})

_BINOPS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMPOPS: dict[type[ast.cmpop], str] = {
    ast.GtE: ">=",
    ast.Gt: ">",
    ast.LtE: "<=",
    ast.Lt: "<",
    ast.Eq: "==",
    ast.NotEq: "!=",
}


def parse_formula(text: str) -> Expr:
    """Parse formula text into the IR; anything outside the whitelist raises FormulaError."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"formula does not parse: {text!r} ({exc.msg})") from exc
    return _convert(tree.body, text.strip())


def _convert(node: ast.expr, text: str) -> Expr:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            return Bool(value)
        if isinstance(value, int):
            return Num(value)
        if isinstance(value, float):
            # Read the literal from the source text so 0.1 stays exactly 0.1.
            segment = ast.get_source_segment(text, node)
            assert segment is not None
            return Num(Decimal(segment.replace("_", "")))
        if isinstance(value, str):
            return Str(value)
        raise FormulaError(f"literal {value!r} is not allowed")
    if isinstance(node, ast.Name):
        if node.id == "on":
            return OnDate()
        raise FormulaError(f"unknown name {node.id!r}: use entity.fact, param.NAME, table.NAME or on")
    if isinstance(node, ast.Attribute):
        if not isinstance(node.value, ast.Name):
            raise FormulaError("only one level of dotted names is allowed")
        scope, name = node.value.id, node.attr
        if scope == "param":
            return ParamRef(name)
        if scope == "table":
            return TableRef(name)
        # Any other scope is an entity of the pack's facts.yaml; the fact is looked up when the
        # formula is checked against the dictionary, which names an unknown one.
        return FactRef(f"{scope}.{name}")
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return Unary("-", _convert(node.operand, text))
        if isinstance(node.op, ast.Not):
            return Unary("not", _convert(node.operand, text))
        raise FormulaError(f"operator {type(node.op).__name__} is not allowed")
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise FormulaError(f"operator {type(node.op).__name__} is not allowed")
        return Binary(op, _convert(node.left, text), _convert(node.right, text))
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1:
            raise FormulaError("chained comparisons are not allowed; use `and`")
        cmp = _CMPOPS.get(type(node.ops[0]))
        if cmp is None:
            raise FormulaError(f"comparison {type(node.ops[0]).__name__} is not allowed")
        return Compare(cmp, _convert(node.left, text), _convert(node.comparators[0], text))
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        return Logical(op, tuple(_convert(v, text) for v in node.values))
    if isinstance(node, ast.IfExp):
        return Cond(_convert(node.test, text), _convert(node.body, text), _convert(node.orelse, text))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise FormulaError(f"function {ast.unparse(node.func)!r} is not allowed; use {sorted(FUNCTIONS)}")
        if node.keywords:
            raise FormulaError("keyword arguments are not allowed")
        return Call(node.func.id, tuple(_convert(a, text) for a in node.args))
    raise FormulaError(f"{type(node).__name__} is not allowed in a formula")


def walk(expr: Expr) -> list[Expr]:
    """Every node of a formula, parents first: the batch compiler and the linter iterate this."""
    nodes: list[Expr] = [expr]
    if isinstance(expr, Unary):
        nodes += walk(expr.operand)
    elif isinstance(expr, Binary | Compare):
        nodes += walk(expr.left) + walk(expr.right)
    elif isinstance(expr, Logical):
        for item in expr.operands:
            nodes += walk(item)
    elif isinstance(expr, Cond):
        nodes += walk(expr.test) + walk(expr.then) + walk(expr.orelse)
    elif isinstance(expr, Call):
        for item in expr.args:
            nodes += walk(item)
    return nodes


# --- types ---------------------------------------------------------------------------------


def compatible(a: str, b: str) -> bool:
    """Whether two values may be compared or added: equal types, or an untyped number literal."""
    if a == b:
        return True
    if a in NUMERIC_TYPES and b in NUMERIC_TYPES:
        return "number" in (a, b)
    return {a, b} == {"enum", "text"}


def _unify(a: str, b: str) -> str:
    return b if a == "number" else a


def infer_type(expr: Expr, resolve: Callable[[Expr], str]) -> str:
    """The static type of a formula; `resolve` types references. Mismatches raise FormulaError."""
    if isinstance(expr, Num):
        return "number"
    if isinstance(expr, Bool):
        return "bool"
    if isinstance(expr, Str):
        return "text"
    if isinstance(expr, DateLit | OnDate):
        return "date"
    if isinstance(expr, FactRef | ParamRef | TableRef):
        return resolve(expr)
    if isinstance(expr, Unary):
        inner = infer_type(expr.operand, resolve)
        wanted = "bool" if expr.op == "not" else "numeric"
        if (wanted == "bool" and inner != "bool") or (wanted == "numeric" and inner not in NUMERIC_TYPES):
            raise FormulaError(f"`{expr.op}` needs a {wanted} operand, got {inner}")
        return inner
    if isinstance(expr, Binary):
        left, right = infer_type(expr.left, resolve), infer_type(expr.right, resolve)
        if left not in NUMERIC_TYPES or right not in NUMERIC_TYPES:
            raise FormulaError(f"`{expr.op}` needs numbers, got {left} {expr.op} {right}")
        return _arithmetic_type(expr.op, left, right)
    if isinstance(expr, Compare):
        left, right = infer_type(expr.left, resolve), infer_type(expr.right, resolve)
        check_comparable(expr.op, left, right)
        return "bool"
    if isinstance(expr, Logical):
        for item in expr.operands:
            kind = infer_type(item, resolve)
            if kind != "bool":
                raise FormulaError(f"`{expr.op}` needs booleans, got {kind}")
        return "bool"
    if isinstance(expr, Cond):
        test = infer_type(expr.test, resolve)
        if test != "bool":
            raise FormulaError(f"the condition of `if ... else` must be a boolean, got {test}")
        then, orelse = infer_type(expr.then, resolve), infer_type(expr.orelse, resolve)
        if not compatible(then, orelse):
            raise FormulaError(f"the branches of `if ... else` differ: {then} and {orelse}")
        return _unify(then, orelse)
    if isinstance(expr, Call):
        return _call_type(expr, [infer_type(a, resolve) for a in expr.args])
    raise FormulaError(f"unknown formula node {expr!r}")


def check_comparable(op: str, left: str, right: str) -> None:
    """Raise FormulaError when `left op right` mixes types (money with a ratio, a date with a number)."""
    if not compatible(left, right):
        raise FormulaError(f"cannot compare {left} with {right}")
    if op not in ("==", "!=") and left not in NUMERIC_TYPES and left != "date":
        raise FormulaError(f"`{op}` needs numbers or dates, got {left}")


def _arithmetic_type(op: str, left: str, right: str) -> str:
    if op in ("+", "-"):
        if not compatible(left, right):
            raise FormulaError(f"cannot compute {left} {op} {right}")
        return _unify(left, right)
    if op == "*":
        if "money" in (left, right):
            if left == right:
                raise FormulaError("cannot multiply money by money")
            return "money"
        return left if left == right else _unify(left, right) if "number" in (left, right) else "number"
    # Division: like over like is a ratio (R&D expense / revenue); by a plain number keeps the type.
    if left == right:
        return "ratio"
    if right == "number":
        return left
    return "number"


def _call_type(expr: Call, kinds: list[str]) -> str:
    name = expr.func
    if name in ("min", "max"):
        if len(kinds) < 2:
            raise FormulaError(f"{name}() needs at least two arguments")
        result = kinds[0]
        for kind in kinds[1:]:
            if not compatible(result, kind) or (result not in NUMERIC_TYPES and result != "date"):
                raise FormulaError(f"{name}() arguments differ or are not numbers: {kinds}")
            result = _unify(result, kind)
        return result
    if name == "abs":
        if len(kinds) != 1 or kinds[0] not in NUMERIC_TYPES:
            raise FormulaError("abs() takes one number")
        return kinds[0]
    if name == "round":
        if len(kinds) not in (1, 2) or kinds[0] not in NUMERIC_TYPES:
            raise FormulaError("round() takes a number and an optional count of digits")
        if len(expr.args) == 2 and not (
            isinstance(expr.args[1], Num) and isinstance(expr.args[1].value, int)
        ):
            raise FormulaError("round(): the digits must be a whole-number literal")
        return kinds[0]
    if len(kinds) != 2 or kinds != ["date", "date"]:
        raise FormulaError(f"{name}() takes two dates, got {kinds}")
    return "int"


# --- compilation to closures -----------------------------------------------------------------

Resolver = Callable[[Expr], Closure]


def round_half_up(value: Decimal | int, digits: int = 0) -> Decimal | int:
    """Commercial rounding (四舍五入), the rule for money in the pack."""
    if isinstance(value, int):
        return value
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def years_between(start: date, end: date) -> int:
    """Whole years from start to end: 2020-06-01 → 2021-05-31 is 0, → 2021-06-01 is 1."""
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def days_between(start: date, end: date) -> int:
    """Calendar days from start to end: 2023-03-01 → 2024-02-29 is 365 (a leap year's February)."""
    return (end - start).days


def constant_value(expr: Expr) -> tuple[bool, object]:
    """(True, value) when the node is a literal, so callers can specialise on constants."""
    if isinstance(expr, Num | Bool | Str | DateLit):
        return True, expr.value
    return False, None


def compile_expr(expr: Expr, resolve: Resolver) -> Closure:
    """Turn a formula into a closure `(facts, on) -> value | None`; `resolve` compiles references."""
    is_const, const = constant_value(expr)
    if is_const:
        return lambda facts, on: const
    if isinstance(expr, OnDate):
        return lambda facts, on: on
    if isinstance(expr, FactRef | ParamRef | TableRef):
        return resolve(expr)
    if isinstance(expr, Unary):
        inner = compile_expr(expr.operand, resolve)
        if expr.op == "-":
            return lambda facts, on: _neg(inner(facts, on))
        return lambda facts, on: _not(inner(facts, on))
    if isinstance(expr, Binary):
        fused = _fused_ratio(expr, resolve)
        if fused is not None:
            return fused
        return _compile_binary(expr.op, compile_expr(expr.left, resolve), compile_expr(expr.right, resolve))
    if isinstance(expr, Compare):
        return _compile_compare(expr.op, compile_expr(expr.left, resolve), compile_expr(expr.right, resolve))
    if isinstance(expr, Logical):
        parts = tuple(compile_expr(item, resolve) for item in expr.operands)
        return (
            (lambda facts, on: kleene_and(p(facts, on) for p in parts))
            if expr.op == "and"
            else (lambda facts, on: kleene_or(p(facts, on) for p in parts))
        )
    if isinstance(expr, Cond):
        test, then, orelse = (compile_expr(e, resolve) for e in (expr.test, expr.then, expr.orelse))

        def conditional(facts: Facts, on: date) -> object:
            chosen = test(facts, on)
            if chosen is None:
                return None
            return then(facts, on) if chosen else orelse(facts, on)

        return conditional
    if isinstance(expr, Call):
        return _compile_call(expr, resolve)
    raise FormulaError(f"unknown formula node {expr!r}")


def _neg(value: object) -> object:
    return None if value is None else -value  # type: ignore[operator]


def _not(value: object) -> object:
    return None if value is None else not value


def kleene_and(values: object) -> bool | None:
    unknown = False
    for value in values:  # type: ignore[attr-defined]
        if value is False:
            return False
        if value is None:
            unknown = True
    return None if unknown else True


def kleene_or(values: object) -> bool | None:
    unknown = False
    for value in values:  # type: ignore[attr-defined]
        if value is True:
            return True
        if value is None:
            unknown = True
    return None if unknown else False


def _compile_binary(op: str, left: Closure, right: Closure) -> Closure:
    def binary(facts: Facts, on: date) -> object:
        a = left(facts, on)
        if a is None:
            return None
        b = right(facts, on)
        if b is None:
            return None
        if op == "+":
            return a + b  # type: ignore[operator]
        if op == "-":
            return a - b  # type: ignore[operator]
        if op == "*":
            return a * b  # type: ignore[operator]
        if not b:
            return None  # division by zero is unknown, not a crash
        try:
            return Decimal(a) / Decimal(b)  # type: ignore[arg-type]
        except (DivisionByZero, InvalidOperation):
            return None

    return binary


def _fused_ratio(expr: Binary, resolve: Resolver) -> Closure | None:
    """`a.x / a.y` over two supplied facts of one entity, in one closure: the shape of most
    derived ratios (R&D ratio, staff share), and the hot path of rule evaluation."""
    left, right = expr.left, expr.right
    if not (expr.op == "/" and isinstance(left, FactRef) and isinstance(right, FactRef)):
        return None
    if (
        left.entity != right.entity
        or getattr(resolve(left), "derived", True)
        or getattr(resolve(right), "derived", True)
    ):
        return None
    entity, top, bottom = left.entity, left.name, right.name

    def ratio(facts: Facts, on: date) -> object:
        values = facts.get(entity)
        if values is None:
            return None
        a = values.get(top)
        b = values.get(bottom)
        if a is None or b is None or not b:
            return None
        return Decimal(a) / Decimal(b)  # type: ignore[arg-type]

    return ratio


def _compile_compare(op: str, left: Closure, right: Closure) -> Closure:
    test = COMPARATORS[op]

    def compare(facts: Facts, on: date) -> object:
        a = left(facts, on)
        if a is None:
            return None
        b = right(facts, on)
        return None if b is None else test(a, b)

    return compare


def _compile_call(expr: Call, resolve: Resolver) -> Closure:
    args = tuple(compile_expr(a, resolve) for a in expr.args)
    if expr.func in ("min", "max"):
        pick = min if expr.func == "min" else max

        def extreme(facts: Facts, on: date) -> object:
            values = [a(facts, on) for a in args]
            return None if any(v is None for v in values) else pick(values)  # type: ignore[type-var]

        return extreme
    if expr.func == "abs":
        (inner,) = args
        return lambda facts, on: _abs(inner(facts, on))
    if expr.func == "round":
        digits = int(expr.args[1].value) if len(expr.args) == 2 else 0  # type: ignore[attr-defined]
        inner = args[0]

        def rounded(facts: Facts, on: date) -> object:
            value = inner(facts, on)
            return None if value is None else round_half_up(value, digits)  # type: ignore[arg-type]

        return rounded
    first, second = args
    between = years_between if expr.func == "years_between" else days_between

    def span(facts: Facts, on: date) -> object:
        a, b = first(facts, on), second(facts, on)
        return None if a is None or b is None else between(a, b)  # type: ignore[arg-type]

    return span


def _abs(value: object) -> object:
    return None if value is None else abs(value)  # type: ignore[arg-type]


COMPARATORS: dict[str, Callable[[object, object], bool]] = {
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def to_text(expr: Expr) -> str:
    """Render a formula back to source text (for messages and the `expected` column of traces)."""
    if isinstance(expr, Num | DateLit):
        return str(expr.value)
    if isinstance(expr, Bool):
        return "True" if expr.value else "False"
    if isinstance(expr, Str):
        return repr(expr.value)
    if isinstance(expr, FactRef):
        return expr.qualified
    if isinstance(expr, ParamRef):
        return f"param.{expr.name}"
    if isinstance(expr, TableRef):
        return f"table.{expr.name}"
    if isinstance(expr, OnDate):
        return "on"
    if isinstance(expr, Unary):
        return f"-{to_text(expr.operand)}" if expr.op == "-" else f"not {to_text(expr.operand)}"
    if isinstance(expr, Binary | Compare):
        return f"({to_text(expr.left)} {expr.op} {to_text(expr.right)})"
    if isinstance(expr, Logical):
        return "(" + f" {expr.op} ".join(to_text(e) for e in expr.operands) + ")"
    if isinstance(expr, Cond):
        return f"({to_text(expr.then)} if {to_text(expr.test)} else {to_text(expr.orelse)})"
    if isinstance(expr, Call):
        return f"{expr.func}(" + ", ".join(to_text(a) for a in expr.args) + ")"
    raise FormulaError(f"unknown formula node {expr!r}")
