"""The typed schema of a measure-version file, and its reader.

`read_rule` checks structure only (fields, types, operators, formula syntax) and names file,
line and field on the first problem. Whether the names it refers to exist and whether the
types fit is checked by `portal.rules.typecheck`, which needs the fact dictionary.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from portal.rules.criteria import (
    AGGREGATES,
    COMPARISON_OPS,
    HIT_POLICIES,
    LEAF_OPS,
    AllOf,
    AnyOf,
    BenefitSpec,
    Condition,
    Leaf,
    Node,
    Not,
    Parameter,
    Table,
    TableRow,
)
from portal.rules.errors import FormulaError, RuleFileError
from portal.rules.facts import FACT_TYPES
from portal.rules.formula import Bool, DateLit, Expr, FactRef, Num, Str, parse_formula
from portal.rules.listing import ListingSpec, read_listing
from portal.rules.text import Reader, Text
from portal.rules.yaml_loader import YList, YMap, load_yaml

if TYPE_CHECKING:
    from portal.rules.evaluate import CompiledRule
    from portal.rules.facts import FactDictionary
    from portal.rules.result import Result

CATEGORIES = (
    "tax_benefit",
    "loan_guarantee",
    "procurement_listing",
    "talent_support",
    "subsidy",
    "qualification",
)
# How the benefit is obtained. `online`: the enterprise applies through the portal's form;
# `employer`: the employer applies through the portal's form for a named person; `tax_filing`:
# claimed by the enterprise itself in its tax return (nothing to apply for here); `bank`: through a
# partner bank (一链一行), with the enterprise's consent; `none`: applied where it is used (e.g. in a
# procurement bid), never through the portal.
CHANNELS = ("online", "employer", "tax_filing", "bank", "none")
FORM_CHANNELS = frozenset({"online", "employer"})
CONFIDENCE = ("high", "medium", "medium-high", "unsourced", "proposal")
OUTCOME_NAMES = ("eligible", "ineligible", "undetermined", "not_in_force")
VALUE_TYPES = (*FACT_TYPES, "number")
_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_TOP_FIELDS = {
    "id",
    "version",
    "title",
    "summary",
    "who",
    "category",
    "applies_to",
    "workflow",
    "rubric",
    "lead_unit",
    "auto_grant",
    "channel",
    "claim",
    "listing",
    "effective",
    "source",
    "parameters",
    "tables",
    "criteria",
    "benefit",
    "examples",
}


@dataclass(frozen=True)
class Source:
    document: str | None
    article: str | None
    url: str | None
    note: Text | None
    confidence: str | None
    # `source.en`: the document's and the article's English titles, so an English page never
    # cites the law in Chinese; lint asks for both where the Chinese ones are given.
    document_en: str | None = None
    article_en: str | None = None

    def citation(self, lang: str = "zh") -> str:
        """The document and its article as one line in `lang`, as letters and pages cite them.

        Chinese runs on without a space (…〔2024〕1号第五条); a space separates Latin words only.
        A source of several documents (listed with ；) takes a comma before its articles, which
        name their own documents: run on, 公告2021年第10号2020年第45号第三条 read as one number.
        English reads "…, Article 5", and falls back to the Chinese while a draft lacks `source.en`.
        """
        document, article = self.document, self.article
        english = lang == "en" and bool(self.document_en or self.article_en)
        if english:
            document, article = self.document_en, self.article_en
        if not (document and article):
            return document or article or ""
        if english:
            return f"{document}, {article}"
        latin = document[-1].isascii() and article[0].isascii()
        if latin:
            return f"{document} {article}"
        return f"{document}，{article}" if "；" in document else document + article

    def citations(self) -> Text:
        """The citation in both languages."""
        return Text(self.citation("zh"), self.citation("en"))


@dataclass(frozen=True)
class Claim:
    """Where and when a benefit not applied for online is claimed, and what to keep (留存备查)."""

    where: Text
    when: Text | None
    keep: tuple[Text, ...]


@dataclass(frozen=True)
class Example:
    name: str
    on: date | None
    facts: dict[str, dict[str, object]]
    outcome: str
    benefit: dict[str, Decimal] | None
    missing_facts: list[str] | None
    line: int


@dataclass(eq=False)
class Rule:
    """One measure version. `evaluate` is the scalar evaluator; the fields are the typed IR."""

    id: str
    version: str
    title: Text
    category: str
    applies_to: str
    workflow: str | None
    lead_unit: str | None
    auto_grant: bool
    effective_from: date
    effective_to: date | None
    source: Source
    parameters: dict[str, Parameter]
    tables: dict[str, Table]
    criteria: Node
    benefit: dict[str, BenefitSpec]
    examples: list[Example]
    rule_hash: str
    path: Path
    lines: dict[str, int] = field(default_factory=dict, repr=False)
    compiled: "CompiledRule | None" = field(default=None, repr=False)
    # None only in a draft file: lint asks for it, and no use case treats it as applicable online.
    channel: str | None = None
    claim: Claim | None = None
    # What an approval puts on public record (a catalogue entry, an award register line), if anything.
    listing: ListingSpec | None = None
    # The catalogue's plain words: what the measure does, and who may apply (lint asks for `summary`).
    summary: Text | None = None
    who: Text | None = None
    # The rubric (workflows/rubrics/<name>.yaml) its experts score on; None: pack.yaml's default.
    rubric: str | None = None

    @property
    def applied_through_form(self) -> bool:
        """True when the benefit is obtained by an application through the portal's form."""
        return self.channel in FORM_CHANNELS

    def in_force(self, on: date) -> bool:
        """Whether `on` falls in this version's effective window (both ends included)."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def window_text(self) -> str:
        """The effective window as text, for messages: `2021-01-01 – 2025-09-30`."""
        end = self.effective_to.isoformat() if self.effective_to else "…"
        return f"{self.effective_from.isoformat()} – {end}"

    def bind(self, facts: "FactDictionary") -> None:
        """Compile the rule against a fact dictionary; load_pack does this for every rule."""
        from portal.rules.evaluate import CompiledRule

        if self.applies_to not in facts.entities:
            known = ", ".join(facts.entities)
            raise RuleFileError(self.path, 0, "applies_to", f"must be an entity of facts.yaml: {known}")
        self.compiled = CompiledRule(self, facts)

    def evaluate(self, facts: dict[str, dict[str, object]], on: date, trace: bool = True) -> "Result":
        """Evaluate on parsed facts (see FactDictionary.parse) at date `on`."""
        if self.compiled is None:
            raise RuntimeError(f"rule {self.id} {self.version} is not bound to a fact dictionary")
        return self.compiled.evaluate(facts, on, trace)


def rule_hash(data: object) -> str:
    """sha256 of the canonical JSON of the parsed document: formatting and comments do not count."""
    canonical = json.dumps(_plain(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def read_rule_file(path: Path) -> Rule:
    return read_rule(path, load_yaml(path))


def read_rule(path: Path, data: object) -> Rule:
    r = Reader(path, data, "", 1)
    r.only(_TOP_FIELDS)
    rule_id = r.text_field("id")
    assert rule_id is not None
    if not re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*", rule_id):
        raise r.error("id", f"{rule_id!r} is not of the form area.name (lower case)")
    version = r.text_field("version")
    assert version is not None
    title = r.text("title")
    assert title is not None
    effective = r.reader("effective")
    effective.only({"from", "to"})
    start = _date(effective, "from", required=True)
    assert start is not None
    end = _date(effective, "to", required=False)
    if end is not None and end < start:
        raise effective.error("to", f"ends ({end}) before it starts ({start})")
    auto_grant = r.raw("auto_grant")
    if auto_grant is not None and not isinstance(auto_grant, bool):
        raise r.error("auto_grant", "expected true or false")
    parameters = _parameters(r)
    tables = _tables(r)
    criteria = _node(path, r.require("criteria"), "criteria", r.line("criteria"))
    return Rule(
        id=rule_id,
        version=version,
        title=title,
        category=r.choice("category", CATEGORIES),
        applies_to=str(r.text_field("applies_to")),
        workflow=r.text_field("workflow", required=False),
        lead_unit=r.text_field("lead_unit", required=False),
        auto_grant=bool(auto_grant),
        effective_from=start,
        effective_to=end,
        source=_source(r),
        parameters=parameters,
        tables=tables,
        criteria=criteria,
        benefit=_benefits(r),
        examples=_examples(r),
        rule_hash=rule_hash(data),
        path=path,
        lines=dict(r.data.key_lines),
        channel=r.choice("channel", CHANNELS) if r.has("channel") else None,
        claim=_claim(r),
        listing=read_listing(r),
        summary=r.text("summary", required=False),
        who=r.text("who", required=False),
        rubric=r.text_field("rubric", required=False),
    )


def _claim(r: Reader) -> Claim | None:
    if not r.has("claim"):
        return None
    c = r.reader("claim")
    c.only({"where", "when", "keep"})
    where = c.text("where")
    assert where is not None
    keep = c.sequence("keep")
    items: list[Text] = []
    for index, item in enumerate(keep):
        k = Reader(r.path, item, f"{c.sub('keep')}[{index}]", keep.line_of(index))
        k.only({"zh", "en"})
        items.append(Text(k.text_field("zh", required=False) or "", k.text_field("en", required=False) or ""))
    return Claim(where=where, when=c.text("when", required=False), keep=tuple(items))


def _date(r: Reader, key: str, required: bool) -> date | None:
    value = r.require(key) if required else r.raw(key)
    if value is None:
        return None
    if not isinstance(value, date):
        raise r.error(key, f"expected a date YYYY-MM-DD, got {value!r}")
    return value


def _source(r: Reader) -> Source:
    s = r.reader("source")
    s.only({"document", "article", "url", "note", "confidence", "en"})
    en = s.reader("en") if s.has("en") else None
    if en is not None:
        en.only({"document", "article"})
    note_raw = s.raw("note")
    note = Text(note_raw, "") if isinstance(note_raw, str) else s.text("note", required=False)
    confidence = s.raw("confidence")
    if confidence is not None and confidence not in CONFIDENCE:
        raise s.error("confidence", f"{confidence!r} is not one of {', '.join(CONFIDENCE)}")
    return Source(
        s.text_field("document", required=False),
        s.text_field("article", required=False),
        s.text_field("url", required=False),
        note,
        None if confidence is None else str(confidence),
        en.text_field("document", required=False) if en is not None else None,
        en.text_field("article", required=False) if en is not None else None,
    )


def literal(value: object) -> Expr | None:
    """A YAML scalar as a formula literal, or None when it is not a scalar."""
    if isinstance(value, bool):
        return Bool(value)
    if isinstance(value, int | Decimal):
        return Num(value)
    if isinstance(value, date):
        return DateLit(value)
    if isinstance(value, str):
        return Str(value)
    return None


def operand(r: Reader, key: str) -> Expr:
    """A comparison operand: a literal, or a reference/formula written as text."""
    value = r.raw(key)
    if isinstance(value, str) and not _BARE_WORD.fullmatch(value):
        return _formula(r, key, value)
    found = literal(value)
    if found is None:
        raise r.error(key, f"expected a value or a formula, got {type(value).__name__}")
    return found


def _formula(r: Reader, key: str, text: str) -> Expr:
    try:
        return parse_formula(text)
    except FormulaError as exc:
        raise r.error(key, str(exc)) from exc


def _node(path: Path, data: object, fld: str, line: int) -> Node:
    r = Reader(path, data, fld, line)
    groups = [k for k in ("all", "any", "not") if r.has(k)]
    if len(groups) > 1 or (groups and len(r.data) != 1):
        raise r.error(None, "a group node has exactly one key: all, any or not")
    if groups == ["not"]:
        return Not(_node(path, r.raw("not"), r.sub("not"), r.line("not")), r.line())
    if groups:
        key = groups[0]
        items = r.sequence(key)
        if not items:
            raise r.error(key, f"`{key}` needs at least one criterion")
        children = tuple(
            _node(path, item, f"{r.sub(key)}[{i}]", items.line_of(i)) for i, item in enumerate(items)
        )
        return AllOf(children, r.line()) if key == "all" else AnyOf(children, r.line())
    return _leaf(r)


def _leaf(r: Reader) -> Leaf:
    r.only({"id", *LEAF_OPS, "fact", "expr", "because"})
    leaf_id = r.text_field("id")
    assert leaf_id is not None
    ops = [k for k in LEAF_OPS if r.has(k)]
    if len(ops) != 1:
        raise r.error(None, f"criterion {leaf_id!r} needs exactly one operator of {', '.join(LEAF_OPS)}")
    op = ops[0]
    if r.has("fact") == r.has("expr"):
        raise r.error(None, f"criterion {leaf_id!r} needs exactly one of `fact` or `expr`")
    expr_text = None
    if r.has("fact"):
        fact = r.text_field("fact")
        assert fact is not None
        if not re.fullmatch(r"[a-z]+\.[a-z0-9_]+", fact):
            raise r.error("fact", f"{fact!r} is not a qualified fact name entity.fact")
        subject: Expr = FactRef(fact)
    else:
        fact = None
        expr_text = r.text_field("expr")
        assert expr_text is not None
        subject = _formula(r, "expr", expr_text)
    value: Expr | tuple[Expr, ...]
    if op == "in":
        items = r.raw("in")
        if not isinstance(items, YList) or not items:
            raise r.error("in", "expected a non-empty list of values")
        found = [literal(item) for item in items]
        if any(f is None for f in found):
            raise r.error("in", "the list may hold only plain values")
        value = tuple(f for f in found if f is not None)
    elif op == "between":
        pair = r.raw("between")
        if not isinstance(pair, YList) or len(pair) != 2:
            raise r.error("between", "expected a pair [low, high]")
        pair_map = YMap({"low": pair[0], "high": pair[1]})
        pair_map.line, pair_map.key_lines = r.line("between"), {}
        pr = Reader(r.path, pair_map, r.sub("between"), r.line("between"))
        value = (operand(pr, "low"), operand(pr, "high"))
    elif op == "is":
        if not isinstance(r.raw("is"), bool):
            raise r.error("is", "expected true or false")
        value = Bool(bool(r.raw("is")))
    else:
        value = operand(r, op)
    return Leaf(leaf_id, fact, subject, op, value, r.text("because", required=False), r.line(), expr_text)


def _parameters(r: Reader) -> dict[str, Parameter]:
    result: dict[str, Parameter] = {}
    block = r.mapping("parameters")
    for name, raw in block.items():
        fld = f"parameters.{name}"
        if isinstance(raw, YMap):
            p = Reader(r.path, raw, fld, block.line_of(name))
            p.only({"value", "type", "label"})
            value = p.require("value")
            kind = p.choice("type", VALUE_TYPES)
            label = p.text("label", required=False)
        else:
            value, kind, label = raw, _literal_type(raw), None
        if literal(value) is None:
            raise RuleFileError(r.path, block.line_of(name), fld, "a parameter value must be a plain value")
        result[name] = Parameter(name, value, kind, label, block.line_of(name))
    return result


def _literal_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | Decimal):
        return "number"
    if isinstance(value, date):
        return "date"
    return "text"


def _tables(r: Reader) -> dict[str, Table]:
    result: dict[str, Table] = {}
    block = r.mapping("tables")
    for name in block:
        t = Reader(r.path, block[name], f"tables.{name}", block.line_of(name))
        t.only({"hit", "aggregate", "input", "type", "rows"})
        hit = t.choice("hit", HIT_POLICIES)
        aggregate = None
        if hit == "collect":
            aggregate = t.choice("aggregate", AGGREGATES)
        elif t.has("aggregate"):
            raise t.error("aggregate", "only a `collect` table has an aggregate")
        input_text = t.text_field("input")
        assert input_text is not None
        rows_raw = t.sequence("rows")
        if not rows_raw:
            raise t.error("rows", "a table needs at least one row")
        rows = tuple(_row(t, i, raw, rows_raw.line_of(i)) for i, raw in enumerate(rows_raw))
        result[name] = Table(
            name,
            hit,
            aggregate,
            _formula(t, "input", input_text),
            input_text,
            t.choice("type", VALUE_TYPES),
            rows,
            t.line(),
        )
    return result


def _row(t: Reader, index: int, raw: object, line: int) -> TableRow:
    row = Reader(t.path, raw, f"{t.field}.rows[{index}]", line)
    row.only({"when", "then"})
    conditions: list[Condition] = []
    when = row.mapping("when")
    for op, value in when.items():
        if op == "in":
            if not isinstance(value, YList) or any(literal(v) is None for v in value):
                raise row.error("when", "`in` needs a list of plain values")
            conditions.append(Condition(op, tuple(value)))
        elif op in COMPARISON_OPS:
            if literal(value) is None:
                raise row.error("when", f"`{op}` needs a plain value")
            conditions.append(Condition(op, value))
        else:
            raise row.error("when", f"unknown condition {op!r}; use {', '.join(COMPARISON_OPS)} or in")
    then = row.require("then")
    if literal(then) is None:
        raise row.error("then", "a table output must be a plain value")
    return TableRow(tuple(conditions), then, line)


def _benefits(r: Reader) -> dict[str, BenefitSpec]:
    result: dict[str, BenefitSpec] = {}
    block = r.mapping("benefit")
    for name, raw in block.items():
        fld = f"benefit.{name}"
        line = block.line_of(name)
        if isinstance(raw, YMap):
            b = Reader(r.path, raw, fld, line)
            b.only({"expr", "value", "type", "label"})
            if b.has("expr") == b.has("value"):
                raise b.error(None, "a benefit needs exactly one of `expr` or `value`")
            key = "expr" if b.has("expr") else "value"
            expr = operand(b, key)
            text = str(b.raw(key))
            kind = b.choice("type", VALUE_TYPES, default="number")
            label = b.text("label", required=False)
        else:
            holder = YMap({name: raw})
            holder.line, holder.key_lines = line, {name: line}
            expr = operand(Reader(r.path, holder, "benefit", line), name)
            text, kind, label = str(raw), "number", None
        if isinstance(expr, Str):
            raise RuleFileError(r.path, line, fld, "a benefit must be a number or a formula")
        result[name] = BenefitSpec(name, expr, text, kind, label, line)
    return result


def _examples(r: Reader) -> list[Example]:
    result: list[Example] = []
    items = r.sequence("examples")
    for i, raw in enumerate(items):
        e = Reader(r.path, raw, f"examples[{i}]", items.line_of(i))
        e.only({"name", "on", "facts", "expect"})
        on = _date(e, "on", required=False)
        facts = e.mapping("facts")
        expect = e.reader("expect")
        expect.only({"outcome", "benefit", "missing_facts"})
        benefit = None
        if expect.has("benefit"):
            benefit = {}
            for key, value in expect.mapping("benefit").items():
                try:
                    benefit[key] = Decimal(str(value))
                except ArithmeticError as exc:
                    raise expect.error("benefit", f"{key}: not a number: {value!r}") from exc
        missing = None
        if expect.has("missing_facts"):
            missing = [str(m) for m in expect.sequence("missing_facts")]
        result.append(
            Example(
                name=e.text_field("name") or "",
                on=on,
                facts={str(k): dict(v) if isinstance(v, dict) else v for k, v in facts.items()},  # type: ignore[misc]
                outcome=expect.choice("outcome", OUTCOME_NAMES),
                benefit=benefit,
                missing_facts=missing,
                line=e.line(),
            )
        )
    return result
