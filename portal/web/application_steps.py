"""How an application form reads as steps: a task list of its sections, and the answers to check.

Pure functions over the form spec, the latest answers and the files attached, so the edit page's
task list and the check-your-answers page describe the same sections in the same words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.forms import FieldSpec, FormSpec
from portal.forms.model import Section
from portal.web.i18n import Translator

# A form with at least this many sections gets a task list above it (GOV.UK "complete multiple tasks").
LONG_FORM_SECTIONS = 3
# An upload slot's place among a form's problems and posted fields: "attachment:<slot id>".
ATTACHMENT_PREFIX = "attachment:"


@dataclass(frozen=True)
class SectionStatus:
    """One line of the task list: a section, how far it is, and what is still wrong in it."""

    id: str
    title: str
    status: str
    problems: int


def _answered(field: FieldSpec, value: object) -> bool:
    """A value the applicant gave; an unticked checkbox is saved as "false" and counts as nothing."""
    if value is None or value == "":
        return False
    return not (field.widget == "checkbox" and str(value).lower() == "false")


def _section_status(
    section: Section, answers: Mapping[str, Any], attached: Mapping[str, Sequence[str]], bad: set[str]
) -> tuple[str, int]:
    given = sum(_answered(f, answers.get(f.name)) for f in section.fields)
    given += sum(bool(attached.get(slot.id)) for slot in section.attachments)
    problems = sum(f.name in bad for f in section.fields)
    problems += sum(ATTACHMENT_PREFIX + slot.id in bad for slot in section.attachments)
    if problems == 0 and (given or not section.fields):
        return "done", 0
    return ("started" if given else "todo"), problems


def section_statuses(
    spec: FormSpec,
    answers: Mapping[str, Any],
    attached: Mapping[str, Sequence[str]],
    lang: str,
    reopen: Sequence[str] | None,
    problems: Mapping[str, str],
) -> list[SectionStatus]:
    """Each section's status: completed when none of `problems` (by form path: everything a
    submission would meet, the policy's ceiling on the amount included, and the post's own errors)
    is in it.

    In an amendment (`reopen`: the sections the reviewer reopened) a reopened section is "to
    amend" and every other one "locked", whatever their answers: the applicant sees at a glance
    what the reviewer asked for, not a list of "completed" sections."""
    bad = {path.split(".")[0] for path in problems}
    rows = []
    for section in spec.sections:
        status, count = _section_status(section, answers, attached, bad)
        if reopen is not None:
            status = "amend" if section.id in reopen else "locked"
        rows.append(SectionStatus(section.id, section.title.get(lang), status, count))
    return rows


def _as_date(value: object, t: Translator) -> str:
    try:
        return t.date(value if isinstance(value, dt.date) else str(value))
    except ValueError:
        return str(value)


def _as_money(value: object, t: Translator) -> str:
    try:
        return t.money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _as_percent(value: object, t: Translator) -> str:
    """A share typed as a decimal (0.82) reads back as people say it (82%)."""
    try:
        return t.percent(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def answer_text(field: FieldSpec, value: object, t: Translator) -> str:
    """An answer as the applicant reads it back: labels for choices, yuan for money, a share in
    per cent, dates in words."""
    if field.widget == "checkbox":
        if value is None or value == "":  # never answered: "not given", not a "no"
            return ""
        return t("apply.yes") if str(value).lower() == "true" else t("apply.no")
    if not _answered(field, value):
        return ""
    if str(value) in field.options:
        return field.options[str(value)].get(t.lang)
    if field.widget == "money":
        return _as_money(value, t)
    if field.widget == "ratio":
        return _as_percent(value, t)
    if field.widget == "date":
        return _as_date(value, t)
    return str(value)


def answer_problems(
    spec: FormSpec,
    answers: Mapping[str, Any],
    attached: Mapping[str, Sequence[str]],
    t: Translator,
    *,
    today: dt.date,
) -> dict[str, str]:
    """What still stands between these answers and a submission, by form path, in the reader's words.

    The field errors are those `submit` would give; a required upload slot without a file is
    named too, so the applicant learns every problem before pressing the button.
    """
    problems = {error.path: error.message for error in spec.validate(answers, t.lang, today=today)}
    for section in spec.sections:
        for slot in section.attachments:
            if slot.required and not attached.get(slot.id):
                problems[ATTACHMENT_PREFIX + slot.id] = t("apply.check.file_required")
    return problems


def in_form_order(spec: FormSpec, errors: Mapping[str, str]) -> dict[str, str]:
    """`errors` in the order a person meets the fields and upload slots going down the form;
    a path the form does not know (a message for the form as a whole) comes first."""
    order: dict[str, int] = {}
    for section in spec.sections:
        for f in section.fields:
            order[f.name] = len(order)
        for slot in section.attachments:
            order[ATTACHMENT_PREFIX + slot.id] = len(order)

    def place(path: str) -> int:
        return order.get(path, order.get(path.split(".", 1)[0], -1))

    return dict(sorted(errors.items(), key=lambda item: place(item[0])))


@dataclass(frozen=True)
class CheckedRow:
    """One answer or upload slot read back: its label, what was given, and what is wrong with it."""

    anchor: str
    label: str
    value: str
    files: list[str]
    problem: str | None


@dataclass(frozen=True)
class CheckedSection:
    """One block of the check-your-answers page: its rows and whether it can still be changed."""

    id: str
    title: str
    rows: list[CheckedRow]
    files: list[CheckedRow]
    changeable: bool

    @property
    def problems(self) -> list[CheckedRow]:
        """The rows a submission would refuse: the section still needs answers while any is left."""
        return [row for row in (*self.rows, *self.files) if row.problem]


def check_sections(
    spec: FormSpec,
    answers: Mapping[str, Any],
    attached: Mapping[str, Sequence[str]],
    t: Translator,
    reopen: Sequence[str] | None,
    problems: Mapping[str, str],
) -> list[CheckedSection]:
    """Every section's answers by label, its files by name, and each one's problem from `answer_problems`.

    A row's `anchor` is the id of its field on the form, for a link straight to it.
    """
    return [
        CheckedSection(
            id=section.id,
            title=section.title.get(t.lang),
            rows=[
                CheckedRow(
                    anchor=f"field-{f.name}",
                    label=f.label.get(t.lang),
                    value=answer_text(f, answers.get(f.name), t),
                    files=[],
                    problem=problems.get(f.name),
                )
                for f in section.fields
            ],
            files=[
                CheckedRow(
                    anchor=f"attachment-{slot.id}",
                    label=slot.label.get(t.lang),
                    value="",
                    files=list(attached.get(slot.id, ())),
                    problem=problems.get(ATTACHMENT_PREFIX + slot.id),
                )
                for slot in section.attachments
            ],
            changeable=reopen is None or section.id in reopen,
        )
        for section in spec.sections
    ]
