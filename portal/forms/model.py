"""The typed shape of a form file: what a measure's application asks for and how to lay it out.

The JSON Schema decides what is *valid*; the `ui` part only decides how it is *shown*. Keeping
them apart lets the schema be checked by any 2020-12 validator while the portal stays free to
change layout without touching what counts as a complete application.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator

from portal.forms.errors import FieldError
from portal.forms.prefill import prefill_answers
from portal.forms.validate import as_number, coerce_answers, draft_answers, iso_date, validate_answers

Lang = Literal["zh", "en"]

WIDGETS = ("text", "textarea", "number", "money", "ratio", "date", "select", "radio", "checkbox", "email")
# Attachment kinds match the content-sniffed types the upload service accepts (issue 4, §2),
# each stored under its media type.
MEDIA_TYPES: Mapping[str, str] = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "ofd": "application/ofd",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ATTACHMENT_KINDS = tuple(MEDIA_TYPES)


def kind_of(media_type: str) -> str | None:
    """The attachment kind stored under `media_type`, if it is one."""
    return next((kind for kind, known in MEDIA_TYPES.items() if known == media_type), None)


@dataclass(frozen=True)
class Text:
    """A zh/en pair; every string a user reads exists in both languages."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class DateBound:
    """A limit on a date answer (`not_after` / `not_before`): a fixed day, `today`, or the answer
    to another date field of the same form (`{field: <name>}`: a period that ends no earlier than it starts).

    `today` is the day the answer is checked, which the caller passes in (the services take it
    from the portal's one clock): the engine never reads the system clock.
    """

    day: date | None  # None: today, unless `field` names the other date field
    field: str | None = None

    def on(self, today: date | None, answers: Mapping[str, Any] | None = None) -> date | None:
        """The limit as it stands on `today` with these `answers` (None: no limit can be said yet,
        a `today` bound with no day given or another field that is not answered with a date)."""
        if self.field is not None:
            return iso_date(answers.get(self.field)) if answers is not None else None
        return today if self.day is None else self.day

    @property
    def is_today(self) -> bool:
        return self.day is None and self.field is None


@dataclass(frozen=True)
class FieldSpec:
    """One answer: its schema (a property of the form's object schema) plus presentation."""

    name: str
    label: Text
    widget: str
    schema: Mapping[str, Any]
    required: bool
    help: Text | None = None
    prefill: str | None = None
    # The value is the verified profile's (the registered identity): shown read-only, and an
    # answer that differs from it is refused.
    locked: bool = False
    options: Mapping[str, Text] = field(default_factory=dict)
    messages: Mapping[str, Text] = field(default_factory=dict)
    # Limits on a `format: date` answer: a contract cannot be signed, nor a filing made, in the future.
    not_before: DateBound | None = None
    not_after: DateBound | None = None

    def date_range(
        self, today: date | None, answers: Mapping[str, Any] | None = None
    ) -> tuple[date | None, date | None]:
        """The earliest and latest day this answer may be on `today` (None: no limit), for the
        validator and for the date input's `min` and `max`; a bound by another field needs the
        `answers` (without them it is no limit)."""
        return (
            self.not_before.on(today, answers) if self.not_before is not None else None,
            self.not_after.on(today, answers) if self.not_after is not None else None,
        )

    @property
    def json_type(self) -> str:
        """The JSON Schema type of the answer (`string` when the schema gives none or several)."""
        kind = self.schema.get("type", "string")
        return kind if isinstance(kind, str) else "string"

    @property
    def choices(self) -> list[tuple[str, Text]]:
        """Enum values in schema order with their labels (the value itself when unlabelled)."""
        values = self.schema.get("enum", [])
        return [(str(v), self.options.get(str(v), Text(str(v), str(v)))) for v in values]


@dataclass(frozen=True)
class AttachmentSlot:
    """A document the applicant uploads; `kinds` are content types, never file extensions."""

    id: str
    label: Text
    required: bool
    kinds: tuple[str, ...]
    help: Text | None = None


@dataclass(frozen=True)
class Section:
    """A group of fields and attachments; amendments reopen whole sections by id."""

    id: str
    title: Text
    fields: tuple[FieldSpec, ...]
    attachments: tuple[AttachmentSlot, ...] = ()
    help: Text | None = None


@dataclass(frozen=True)
class FormSpec:
    """A measure's application form, loaded from `forms/<measure_id>.yaml`."""

    measure_id: str
    title: Text
    schema: Mapping[str, Any]
    sections: tuple[Section, ...]
    path: Path
    validator: Draft202012Validator = field(compare=False, repr=False)
    # The text field that names what a case is about (a project, a product, a model), shown
    # beside the enterprise wherever cases must be told apart; None when the form has none.
    title_field: str | None = None
    # The money property in which the applicant states how much they ask for: no grant may
    # exceed it, so the granted amount defaults to it when it is below the rule's amount.
    requested_amount_field: str | None = None
    # The choice property whose answer is the case's track (the pack's `tracks`): statistics, the
    # queue's filter and exports count the case under what its application says, not only under
    # the enterprise's registration.
    track_field: str | None = None

    @property
    def fields(self) -> dict[str, FieldSpec]:
        """Every field by name, in form order."""
        return {f.name: f for s in self.sections for f in s.fields}

    @property
    def locked_fields(self) -> list[FieldSpec]:
        return [f for s in self.sections for f in s.fields if f.locked]

    @property
    def attachments(self) -> dict[str, AttachmentSlot]:
        """Every attachment slot by id, in form order."""
        return {a.id: a for s in self.sections for a in s.attachments}

    def case_title(self, answers: Mapping[str, Any]) -> tuple[Text, str] | None:
        """The title field's label and its answer, or None without a title field or an answer."""
        if self.title_field is None:
            return None
        value = answers.get(self.title_field)
        if not isinstance(value, str) or not value.strip():
            return None
        return self.fields[self.title_field].label, value.strip()

    def requested_amount(self, answers: Mapping[str, Any]) -> Decimal | None:
        """The amount the applicant asked for, or None without the setting or a usable answer."""
        if self.requested_amount_field is None:
            return None
        amount = as_number(answers.get(self.requested_amount_field))
        return amount if amount is not None and amount >= 0 else None

    def track(self, answers: Mapping[str, Any]) -> str | None:
        """The track the answers name, or None without the setting or an answer."""
        if self.track_field is None:
            return None
        value = answers.get(self.track_field)
        return value if isinstance(value, str) and value else None

    def section(self, section_id: str) -> Section:
        """The section with this id; KeyError if the form has none."""
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def section_of(self, field_name: str) -> Section:
        """The section holding a field; used to reopen exactly what a reviewer asked to amend."""
        for s in self.sections:
            if any(f.name == field_name for f in s.fields):
                return s
        raise KeyError(field_name)

    def coerce(self, raw: Mapping[str, Any], lang: str = "zh") -> tuple[dict[str, Any], list[FieldError]]:
        """Turn posted strings (or stored JSON) into typed answers; Decimal for numbers, never float."""
        return coerce_answers(self, raw, lang)

    def coerce_draft(
        self, raw: Mapping[str, Any], lang: str = "zh", *, today: date | None = None
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """As `coerce`, and values over a limit of the schema, or a date outside its bounds on
        `today`, are refused even in a draft."""
        return draft_answers(self, raw, lang, today=today)

    def validate(
        self, answers: Mapping[str, Any], lang: str = "zh", *, today: date | None = None
    ) -> list[FieldError]:
        """Field-level errors in `lang`; an empty list means the answers are complete and valid.

        `today` is the caller's (the portal's clock), against which `not_after: today` is judged;
        without it only fixed-day bounds are checked (the keyword is an addition: older callers
        keep working). The portal's services always pass it.
        """
        return validate_answers(self, answers, lang, today=today)

    def prefill(self, profile_facts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """Answers taken from the enterprise profile, keyed by field name."""
        return prefill_answers(self, profile_facts)
