"""Read `forms/*.yaml` into FormSpecs, refusing any file whose schema and layout disagree.

A form is checked whole at load time (schema valid under 2020-12, every property laid out once,
known widgets and attachment kinds) so that a broken policy edit fails at start-up, never in
front of an applicant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from portal.forms.errors import FormFileError
from portal.forms.model import (
    ATTACHMENT_KINDS,
    WIDGETS,
    AttachmentSlot,
    DateBound,
    FieldSpec,
    FormSpec,
    Section,
    Text,
)
from portal.forms.validate import make_validator
from portal.rules.errors import RuleFileError
from portal.rules.yaml_loader import load_yaml

_FACT_NAME = re.compile(r"[a-z]+\.[a-z0-9_]+")
_ID = re.compile(r"[a-z][a-z0-9_]*")


class _Reader:
    """Pulls typed values out of one file's YAML, naming the key on every failure."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> FormFileError:
        return FormFileError(self.path, where, message)

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "must be a mapping")
        return value

    def text(self, value: object, where: str) -> Text:
        m = self.mapping(value, where)
        zh, en = m.get("zh"), m.get("en")
        if set(m) != {"zh", "en"}:
            # Usually an unquoted comma in a flow mapping split the English text into a new key.
            raise self.fail(where, f"must have exactly the keys `zh` and `en`, not {sorted(map(str, m))}")
        if not (isinstance(zh, str) and zh.strip() and isinstance(en, str) and en.strip()):
            raise self.fail(where, "needs non-empty `zh` and `en` texts")
        return Text(zh, en)

    def optional_text(self, value: object, where: str) -> Text | None:
        return None if value is None else self.text(value, where)

    def known_keys(self, m: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        """Refuse a key the loader does not read: a misspelt setting (`not_afer`, `title_feild`)
        would otherwise switch its check or feature off without a word."""
        unknown = sorted(set(map(str, m)) - allowed)
        if unknown:
            raise self.fail(
                where, f"unknown key {', '.join(f'`{k}`' for k in unknown)}; use {', '.join(sorted(allowed))}"
            )

    def ident(self, value: object, where: str) -> str:
        if not (isinstance(value, str) and _ID.fullmatch(value)):
            raise self.fail(where, "must be a snake_case identifier")
        return value


def _default_widget(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if "enum" in schema:
        return "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if schema.get("format") == "date":
        return "date"
    return "text"


# The keys the loader reads at each level of a form file; any other key is refused.
_FILE_KEYS = frozenset(
    {"measure", "title", "title_field", "requested_amount_field", "track_field", "schema", "ui"}
)
_UI_KEYS = frozenset({"sections"})
_SECTION_KEYS = frozenset({"id", "title", "help", "fields", "attachments"})
_ATTACHMENT_KEYS = frozenset({"id", "label", "required", "kinds", "help"})
_FIELD_KEYS = frozenset(
    {"name", "label", "widget", "help", "prefill", "locked", "options", "messages", "not_before", "not_after"}
)


def _field(
    r: _Reader, raw: object, where: str, properties: Mapping[str, Any], required: set[str]
) -> FieldSpec:
    m = r.mapping(raw, where)
    name = r.ident(m.get("name"), f"{where}.name")
    where = f"{where}({name})"
    r.known_keys(m, _FIELD_KEYS, where)
    if name not in properties:
        raise r.fail(where, f"field `{name}` is not a property of the schema")
    schema = r.mapping(properties[name], f"schema.properties.{name}")
    widget = m.get("widget") or _default_widget(schema)
    if widget not in WIDGETS:
        raise r.fail(f"{where}.widget", f"unknown widget `{widget}`; use one of {', '.join(WIDGETS)}")
    prefill = m.get("prefill")
    if prefill is not None and not (isinstance(prefill, str) and _FACT_NAME.fullmatch(prefill)):
        raise r.fail(f"{where}.prefill", "must name a fact as `entity.fact`")
    locked = m.get("locked", False)
    if not isinstance(locked, bool):
        raise r.fail(f"{where}.locked", "must be true or false")
    if locked and prefill is None:
        raise r.fail(f"{where}.locked", "a locked field takes its value from `prefill`, so it needs one")
    options = {
        str(k): r.text(v, f"{where}.options.{k}") for k, v in r.mapping(m.get("options", {}), where).items()
    }
    stray = set(options) - {str(v) for v in schema.get("enum", [])}
    if stray:
        raise r.fail(f"{where}.options", f"labels for values not in the enum: {', '.join(sorted(stray))}")
    messages = {
        str(k): r.text(v, f"{where}.messages.{k}") for k, v in r.mapping(m.get("messages", {}), where).items()
    }
    not_before, not_after = _date_bounds(r, m, where, schema, properties)
    # A message for a keyword the answer cannot fail on (a misspelt `patern:`) would never be shown.
    bounds = {k for k, b in (("not_before", not_before), ("not_after", not_after)) if b is not None}
    r.known_keys(messages, frozenset({"required", "type", *bounds, *_keywords(schema)}), f"{where}.messages")
    return FieldSpec(
        name=name,
        label=r.text(m.get("label"), f"{where}.label"),
        widget=widget,
        schema=schema,
        required=name in required,
        help=r.optional_text(m.get("help"), f"{where}.help"),
        prefill=prefill,
        locked=locked,
        options=options,
        messages=messages,
        not_before=not_before,
        not_after=not_after,
    )


def _keywords(schema: object) -> set[str]:
    """Every key of a property's schema, nested ones included: the keywords its answer can fail on."""
    if isinstance(schema, Mapping):
        return {str(k) for k in schema} | {k for v in schema.values() for k in _keywords(v)}
    if isinstance(schema, list):
        return {k for v in schema for k in _keywords(v)}
    return set()


_BOUNDS = ("not_before", "not_after")
_BOUND_FORMS = "`today`, a date as YYYY-MM-DD or `{field: <another date field>}`"


def _date_bounds(
    r: _Reader, m: Mapping[str, Any], where: str, schema: Mapping[str, Any], properties: Mapping[str, Any]
) -> tuple[DateBound | None, DateBound | None]:
    """A field's `not_before` / `not_after`: `today`, a fixed `YYYY-MM-DD`, or `{field: name}` (the
    answer to another date field of the form), on date fields only."""
    bounds: dict[str, DateBound] = {}
    name = m.get("name")
    for key in _BOUNDS:
        value = m.get(key)
        if value is None:
            continue
        if schema.get("format") != "date":
            raise r.fail(f"{where}.{key}", f"`{key}` applies only to a `format: date` field")
        if value == "today":
            bounds[key] = DateBound(None)
        elif isinstance(value, date) and not isinstance(value, datetime):  # YAML reads 2024-01-01 as a date
            bounds[key] = DateBound(value)
        elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                bounds[key] = DateBound(date.fromisoformat(value))
            except ValueError:
                raise r.fail(f"{where}.{key}", f"`{value}` is not a date") from None
        elif isinstance(value, Mapping):
            bounds[key] = DateBound(None, _bounding_field(r, value, f"{where}.{key}", name, properties))
        elif isinstance(value, str) and value in properties:
            hint = f"to bound it by the field `{value}`, write `{key}: {{field: {value}}}`"
            raise r.fail(f"{where}.{key}", hint)
        else:
            raise r.fail(f"{where}.{key}", f"must be {_BOUND_FORMS}, not `{value}`")
    earliest, latest = bounds.get("not_before"), bounds.get("not_after")
    if earliest and latest and earliest.day and latest.day and earliest.day > latest.day:
        raise r.fail(f"{where}.not_before", "is after `not_after`: no date could be given")
    if earliest and latest and earliest.field and earliest.field == latest.field:
        raise r.fail(f"{where}.not_before", f"and `not_after` both name `{earliest.field}`: use one")
    return earliest, latest


def _bounding_field(
    r: _Reader, value: Mapping[str, Any], where: str, name: object, properties: Mapping[str, Any]
) -> str:
    """The other date field a `{field: name}` bound names."""
    r.known_keys(value, frozenset({"field"}), where)
    other = r.ident(value.get("field"), f"{where}.field")
    if other == name:
        raise r.fail(f"{where}.field", "a field cannot be bounded by itself")
    if other not in properties:
        raise r.fail(f"{where}.field", f"`{other}` is not a property of the schema")
    if r.mapping(properties[other], f"schema.properties.{other}").get("format") != "date":
        raise r.fail(f"{where}.field", f"`{other}` is not a `format: date` field")
    return other


def _check_field_bounds(r: _Reader, sections: list[Section]) -> None:
    """Bounds by other fields that no answers could meet: a loop (`a` not before `b`, `b` not
    before `a`: only the same day would do, surely a slip), or fixed days that the chain makes
    impossible (`b` not after 2025-12-31 and not before `a`, which is not before 2026-01-01).

    `today` is left out: the day moves, so whether it contradicts a fixed day is not the form's.
    """
    fields = {
        f.name: (f"ui.sections[{i}].fields[{j}]({f.name})", f)
        for i, s in enumerate(sections)
        for j, f in enumerate(s.fields)
    }
    # earlier[a] holds b wherever a bound says b <= a.
    earlier: dict[str, set[str]] = {name: set() for name in fields}
    for name, (_, f) in fields.items():
        if f.not_before is not None and f.not_before.field is not None:
            earlier[name].add(f.not_before.field)
        if f.not_after is not None and f.not_after.field is not None:
            earlier[f.not_after.field].add(name)
    # Everything each field must be on or after, through the chain of bounds.
    below = {name: set(before) for name, before in earlier.items()}
    changed = True
    while changed:
        changed = False
        for name in below:
            reach = {c for b in below[name] for c in below[b]} - below[name]
            if reach:
                below[name] |= reach
                changed = True
    for name, (where, _) in fields.items():
        if name in below[name]:
            loop = sorted(n for n in below[name] if name in below[n])
            raise r.fail(where, f"its date bounds go round ({', '.join(loop)}): only the same day would do")

    def fixed(f: FieldSpec, bound: DateBound | None) -> date | None:
        return bound.day if bound is not None and bound.field is None else None

    for name, (where, _) in fields.items():
        earliest = [d for b in (name, *below[name]) if (d := fixed(fields[b][1], fields[b][1].not_before))]
        above = [a for a in fields if name in below[a]]
        latest = [d for a in (name, *above) if (d := fixed(fields[a][1], fields[a][1].not_after))]
        if earliest and latest and max(earliest) > min(latest):
            through = ", ".join(sorted({*below[name], *above}))
            raise r.fail(
                where,
                f"its date bounds contradict (through {through}): it must be on or after {max(earliest)} "
                f"and on or before {min(latest)}; no date could be given",
            )


def _attachment(r: _Reader, raw: object, where: str) -> AttachmentSlot:
    m = r.mapping(raw, where)
    slot_id = r.ident(m.get("id"), f"{where}.id")
    r.known_keys(m, _ATTACHMENT_KEYS, f"{where}({slot_id})")
    kinds = m.get("kinds")
    if not (isinstance(kinds, list) and kinds and all(k in ATTACHMENT_KINDS for k in kinds)):
        allowed = ", ".join(ATTACHMENT_KINDS)
        raise r.fail(f"{where}({slot_id}).kinds", f"must be a non-empty list of {allowed}")
    required = m.get("required", False)
    if not isinstance(required, bool):
        raise r.fail(f"{where}({slot_id}).required", "must be true or false")
    return AttachmentSlot(
        id=slot_id,
        label=r.text(m.get("label"), f"{where}({slot_id}).label"),
        required=required,
        kinds=tuple(kinds),
        help=r.optional_text(m.get("help"), f"{where}({slot_id}).help"),
    )


def load_form(path: Path) -> FormSpec:
    """One form file; raises FormFileError naming the file and key on any inconsistency."""
    r = _Reader(path)
    try:
        doc = load_yaml(path)
    except RuleFileError as exc:
        raise r.fail("yaml", f"line {exc.line}: {exc.message}") from exc
    top = r.mapping(doc, "file")
    r.known_keys(top, _FILE_KEYS, "file")
    measure_id = top.get("measure")
    if measure_id != path.stem:
        raise r.fail("measure", f"must equal the file name `{path.stem}`")
    schema = r.mapping(top.get("schema"), "schema")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "schema." + ".".join(str(p) for p in exc.path) if exc.path else "schema"
        raise r.fail(where, f"not a valid JSON Schema 2020-12: {exc.message}") from exc
    if schema.get("type") != "object":
        raise r.fail("schema.type", "a form's schema must be `type: object`")
    properties = r.mapping(schema.get("properties", {}), "schema.properties")
    required = set(schema.get("required", []))
    ui = r.mapping(top.get("ui"), "ui")
    r.known_keys(ui, _UI_KEYS, "ui")
    raw_sections = ui.get("sections")
    if not (isinstance(raw_sections, list) and raw_sections):
        raise r.fail("ui.sections", "must be a non-empty list")
    sections: list[Section] = []
    for i, raw in enumerate(raw_sections):
        where = f"ui.sections[{i}]"
        m = r.mapping(raw, where)
        section_id = r.ident(m.get("id"), f"{where}.id")
        r.known_keys(m, _SECTION_KEYS, f"{where}({section_id})")
        fields = m.get("fields", [])
        attachments = m.get("attachments", [])
        if not isinstance(fields, list) or not isinstance(attachments, list):
            raise r.fail(f"{where}({section_id})", "`fields` and `attachments` must be lists")
        sections.append(
            Section(
                id=section_id,
                title=r.text(m.get("title"), f"{where}({section_id}).title"),
                help=r.optional_text(m.get("help"), f"{where}({section_id}).help"),
                fields=tuple(
                    _field(r, f, f"{where}.fields[{j}]", properties, required) for j, f in enumerate(fields)
                ),
                attachments=tuple(
                    _attachment(r, a, f"{where}.attachments[{j}]") for j, a in enumerate(attachments)
                ),
            )
        )
    _check_layout(r, sections, properties)
    _check_field_bounds(r, sections)
    title_field = _title_field(r, top.get("title_field"), properties)
    requested_amount_field = _requested_amount_field(r, top.get("requested_amount_field"), properties)
    track_field = _track_field(r, top.get("track_field"), properties)
    return FormSpec(
        measure_id=measure_id,
        title=r.text(top.get("title"), "title"),
        schema=schema,
        sections=tuple(sections),
        path=path,
        validator=make_validator(schema),
        title_field=title_field,
        requested_amount_field=requested_amount_field,
        track_field=track_field,
    )


def _title_field(r: _Reader, value: object, properties: Mapping[str, Any]) -> str | None:
    """The optional `title_field`: a text property whose answer names what the case is about."""
    schema = _named_property(r, "title_field", value, properties)
    if schema is not None and (schema.get("type") != "string" or "enum" in schema or "format" in schema):
        raise r.fail(
            "title_field", f"`{value}` must be a free-text field (`type: string`, no enum or format)"
        )
    return None if schema is None else str(value)


def _requested_amount_field(r: _Reader, value: object, properties: Mapping[str, Any]) -> str | None:
    """The optional `requested_amount_field`: the number property that says how much is asked for."""
    schema = _named_property(r, "requested_amount_field", value, properties)
    if schema is not None and schema.get("type") != "number":
        raise r.fail("requested_amount_field", f"`{value}` must be an amount of money (`type: number`)")
    return None if schema is None else str(value)


def _track_field(r: _Reader, value: object, properties: Mapping[str, Any]) -> str | None:
    """The optional `track_field`: a choice property (`type: string` with an `enum`) whose answer is
    the case's track; that its values are the pack's tracks is checked where the pack is known."""
    schema = _named_property(r, "track_field", value, properties)
    if schema is not None and (schema.get("type") != "string" or "enum" not in schema):
        raise r.fail("track_field", f"`{value}` must be a choice (`type: string` with an `enum`)")
    return None if schema is None else str(value)


def _named_property(
    r: _Reader, key: str, value: object, properties: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The schema of the property a top-level setting `key` names (None when it is not set)."""
    if value is None:
        return None
    name = r.ident(value, key)
    if name not in properties:
        raise r.fail(key, f"`{name}` is not a property of the schema")
    return r.mapping(properties[name], f"schema.properties.{name}")


def _check_layout(r: _Reader, sections: list[Section], properties: Mapping[str, Any]) -> None:
    """Every property is shown exactly once and every id is unique, or the form is unusable."""
    for kind, names in (
        ("section id", [s.id for s in sections]),
        ("field", [f.name for s in sections for f in s.fields]),
        ("attachment id", [a.id for s in sections for a in s.attachments]),
    ):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise r.fail("ui.sections", f"duplicate {kind}: {', '.join(duplicates)}")
    laid_out = {f.name for s in sections for f in s.fields}
    hidden = sorted(set(properties) - laid_out)
    if hidden:
        raise r.fail("ui.sections", f"schema properties missing from every section: {', '.join(hidden)}")


def load_forms(forms_dir: Path) -> dict[str, FormSpec]:
    """Every `<measure_id>.yaml` in `forms_dir`, keyed by measure id."""
    return {spec.measure_id: spec for spec in map(load_form, sorted(forms_dir.glob("*.yaml")))}
