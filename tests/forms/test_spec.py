"""Loading refuses inconsistent forms; prefill, sections and lookups behave as documented."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from portal.forms import FormFileError, FormSpec, load_form

GOOD = """
measure: demo.measure
title: {zh: 示例, en: Demo}
schema:
  $schema: https://json-schema.org/draft/2020-12/schema
  type: object
  properties:
    amount: {type: number, multipleOf: 0.01}
ui:
  sections:
    - id: main
      title: {zh: 主要, en: Main}
      fields:
        - {name: amount, label: {zh: 金额, en: Amount}, widget: money}
"""


def write(tmp_path: Path, text: str, name: str = "demo.measure") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_form_loads_with_exact_decimals(tmp_path: Path) -> None:
    spec = load_form(write(tmp_path, GOOD))
    assert spec.schema["properties"]["amount"]["multipleOf"] == Decimal("0.01")
    assert spec.validate({"amount": "0.10"}, today=dt.date(2026, 11, 27)) == []


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("measure: demo.measure", "measure: other.measure", "measure"),
        ("type: number, multipleOf: 0.01", "type: numeric", "schema"),
        ("widget: money", "widget: slider", "widget"),
        ("{name: amount,", "{name: amountx,", "not a property"),
        ("en: Amount}", "en: Amount, in yuan}", "exactly the keys"),
        ("{zh: 主要, en: Main}", "{zh: 主要}", "title"),
        (
            "    amount: {type: number, multipleOf: 0.01}",
            "    amount: {type: number, multipleOf: 0.01}\n    hidden: {type: string}",
            "missing from every section",
        ),
        ("widget: money}", "widget: money, prefill: revenue}", "prefill"),
        # Decimal(".nan") raised decimal.InvalidOperation out of the YAML loader.
        ("multipleOf: 0.01", "multipleOf: .nan", "not a finite number"),
        ("multipleOf: 0.01", "multipleOf: .inf", "not a finite number"),
    ],
)
def test_broken_forms_name_the_file_and_key(tmp_path: Path, old: str, new: str, where: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(FormFileError) as info:
        load_form(path)
    assert str(path) in str(info.value)
    assert where in str(info.value)


def test_attachment_kinds_are_checked(tmp_path: Path) -> None:
    text = GOOD + "      attachments:\n        - {id: doc, label: {zh: 文件, en: File}, kinds: [exe]}\n"
    with pytest.raises(FormFileError, match="kinds"):
        load_form(write(tmp_path, text))


def test_prefill_takes_profile_facts(hte: FormSpec) -> None:
    profile = {
        "enterprise": {
            "name": "广州智算",
            "revenue": Decimal("40000000"),
            "employees": 120,
            "registered_on": dt.date(2018, 3, 1),
        },
    }
    answers = hte.prefill(profile)
    assert answers == {"enterprise_name": "广州智算", "revenue": Decimal("40000000"), "employees": 120}
    assert (
        hte.validate(answers, today=dt.date(2026, 11, 27)) != []
    )  # prefilled is a start, not a complete application


def test_prefill_turns_dates_into_iso_strings(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    amount: {type: number, multipleOf: 0.01}",
        "    amount: {type: number, multipleOf: 0.01}\n    since: {type: string, format: date}",
    )
    text = text.replace(
        "widget: money}",
        "widget: money}\n"
        "        - {name: since, label: {zh: 日期, en: Date}, prefill: enterprise.registered_on}",
    )
    spec = load_form(write(tmp_path, text))
    assert spec.prefill({"enterprise": {"registered_on": dt.date(2018, 3, 1)}}) == {"since": "2018-03-01"}
    assert spec.fields["since"].widget == "date"


def test_sections_locate_fields_for_amendments(hte: FormSpec) -> None:
    assert hte.section_of("revenue").id == "finance"
    assert hte.section("finance").attachments[0].id == "audit_report"
    assert "audit_report" in hte.attachments
    with pytest.raises(KeyError):
        hte.section_of("nothing")


def test_a_form_file_that_is_not_utf8_is_a_form_error(tmp_path: Path) -> None:
    path = tmp_path / "demo.measure.yaml"
    path.write_bytes(b"\xff\xfe" + GOOD.encode("utf-16-le"))
    with pytest.raises(FormFileError, match="utf-8"):
        load_form(path)


TITLED = GOOD.replace(
    "    amount: {type: number, multipleOf: 0.01}",
    "    amount: {type: number, multipleOf: 0.01}\n    project: {type: string, maxLength: 80}",
).replace(
    "widget: money}", "widget: money}\n        - {name: project, label: {zh: 项目名称, en: Project name}}"
)


def test_the_title_field_names_the_case_by_its_answer(tmp_path: Path) -> None:
    assert load_form(write(tmp_path, TITLED)).title_field is None
    spec = load_form(
        write(tmp_path, TITLED.replace("title: {zh: 示例", "title_field: project\ntitle: {zh: 示例"))
    )
    found = spec.case_title({"project": "  城市视觉示范项目 ", "amount": "1"})
    assert found is not None and found[0].get("en") == "Project name" and found[1] == "城市视觉示范项目"
    assert spec.case_title({"project": "  "}) is None and spec.case_title({}) is None


@pytest.mark.parametrize(
    ("value", "where"),
    [("amount", "free-text field"), ("nothing", "not a property"), ("Bad-Name", "snake_case")],
)
def test_a_title_field_must_be_a_free_text_property(tmp_path: Path, value: str, where: str) -> None:
    with pytest.raises(FormFileError) as raised:
        load_form(
            write(tmp_path, TITLED.replace("title: {zh: 示例", f"title_field: {value}\ntitle: {{zh: 示例"))
        )
    assert "title_field" in str(raised.value) and where in str(raised.value)


def test_the_requested_amount_field_reads_the_amount_asked_for(tmp_path: Path) -> None:
    assert load_form(write(tmp_path, TITLED)).requested_amount_field is None
    assert load_form(write(tmp_path, TITLED)).requested_amount({"amount": "1"}) is None
    spec = load_form(
        write(
            tmp_path, TITLED.replace("title: {zh: 示例", "requested_amount_field: amount\ntitle: {zh: 示例")
        )
    )
    assert spec.requested_amount_field == "amount"
    # Stored answers keep Decimals as strings; posted ones may be grouped.
    assert spec.requested_amount({"amount": "3000000.00"}) == Decimal("3000000.00")
    assert spec.requested_amount({"amount": "3,000,000"}) == Decimal("3000000")
    assert spec.requested_amount({"amount": Decimal("12.5")}) == Decimal("12.5")
    for unusable in ({}, {"amount": ""}, {"amount": "abc"}, {"amount": "-1"}, {"amount": 1.5}):
        assert spec.requested_amount(unusable) is None, unusable


@pytest.mark.parametrize(
    ("value", "where"),
    [("project", "`project` must be an amount of money (`type: number`)"), ("nothing", "not a property"),
     ("Bad-Name", "snake_case")],
)  # fmt: skip
def test_a_requested_amount_field_must_be_a_number_property(tmp_path: Path, value: str, where: str) -> None:
    path = write(
        tmp_path, TITLED.replace("title: {zh: 示例", f"requested_amount_field: {value}\ntitle: {{zh: 示例")
    )
    with pytest.raises(FormFileError) as raised:
        load_form(path)
    assert str(raised.value).startswith(f"{path}: requested_amount_field: ") and where in str(raised.value)


TRACKED = TITLED.replace(
    "    project: {type: string, maxLength: 80}",
    "    project: {type: string, maxLength: 80}\n    lane: {type: string, enum: [east, west]}",
).replace(
    "en: Project name}}",
    "en: Project name}}\n        - {name: lane, label: {zh: 方向, en: Lane}, options: "
    "{east: {zh: 东, en: East}, west: {zh: 西, en: West}}}",
)


def test_the_track_field_names_the_case_s_track_by_its_answer(tmp_path: Path) -> None:
    assert load_form(write(tmp_path, TRACKED)).track({"lane": "east"}) is None
    spec = load_form(
        write(tmp_path, TRACKED.replace("title: {zh: 示例", "track_field: lane\ntitle: {zh: 示例"))
    )
    assert spec.track_field == "lane" and spec.track({"lane": "west"}) == "west"
    assert spec.track({}) is None and spec.track({"lane": ""}) is None


@pytest.mark.parametrize(
    ("value", "where"),
    [("project", "must be a choice"), ("amount", "must be a choice"), ("nothing", "not a property")],
)
def test_a_track_field_must_be_a_choice_property(tmp_path: Path, value: str, where: str) -> None:
    path = write(tmp_path, TRACKED.replace("title: {zh: 示例", f"track_field: {value}\ntitle: {{zh: 示例"))
    with pytest.raises(FormFileError) as raised:
        load_form(path)
    assert str(raised.value).startswith(f"{path}: track_field: ") and where in str(raised.value)


ATTACHED = GOOD + "      attachments:\n        - {id: doc, label: {zh: 文件, en: File}, kinds: [pdf]}\n"


@pytest.mark.parametrize(
    ("old", "new", "where", "key"),
    [
        # A misspelt setting would otherwise switch its feature off without a word.
        ("title: {zh: 示例", "requested_amout_field: amount\ntitle: {zh: 示例", "file",
         "requested_amout_field"),
        ("title: {zh: 示例", "title_feild: amount\ntitle: {zh: 示例", "file", "title_feild"),
        ("ui:\n  sections:", "ui:\n  section_order: [main]\n  sections:", "ui", "section_order"),
        ("      title: {zh: 主要", "      helptext: {zh: 说明, en: Notes}\n      title: {zh: 主要",
         "ui.sections[0](main)", "helptext"),
        ("kinds: [pdf]}", "kinds: [pdf], requried: true}", "ui.sections[0].attachments[0](doc)", "requried"),
    ],
)  # fmt: skip
def test_an_unknown_key_is_refused_with_the_file_and_the_key(
    tmp_path: Path, old: str, new: str, where: str, key: str
) -> None:
    assert old in ATTACHED
    path = write(tmp_path, ATTACHED.replace(old, new, 1))
    with pytest.raises(FormFileError) as raised:
        load_form(path)
    assert str(raised.value).startswith(f"{path}: {where}: unknown key `{key}`; use ")
    assert "\n" not in str(raised.value)
    assert load_form(write(tmp_path, ATTACHED)).attachments["doc"].kinds == ("pdf",)


@pytest.mark.parametrize(
    ("messages", "unknown"),
    [
        ("{minimun: {zh: 不能为负数。, en: Not below zero.}}", "minimun"),  # the schema says `minimum`
        ("{pattern: {zh: 格式不对。, en: Wrong shape.}}", "pattern"),  # the schema has no pattern
        ("{not_after: {zh: 不能晚于今天。, en: Not after today.}}", "not_after"),  # the field has no bound
    ],
)
def test_a_message_for_a_keyword_the_answer_cannot_fail_on_is_refused(
    tmp_path: Path, messages: str, unknown: str
) -> None:
    """Its text would never be shown: the generic message would silently stand in its place."""
    text = GOOD.replace("multipleOf: 0.01}", "multipleOf: 0.01, minimum: 0}")
    path = write(tmp_path, text.replace("widget: money}", f"widget: money, messages: {messages}}}"))
    with pytest.raises(FormFileError) as raised:
        load_form(path)
    assert str(raised.value).startswith(
        f"{path}: ui.sections[0].fields[0](amount).messages: unknown key `{unknown}`; "
        "use minimum, multipleOf, required, type"
    )
    own = "{minimum: {zh: 不能为负数。, en: Not below zero.}, type: {zh: 请填金额。, en: Enter an amount.}}"
    spec = load_form(write(tmp_path, text.replace("widget: money}", f"widget: money, messages: {own}}}")))
    assert [e.message for e in spec.validate({"amount": "-1"}, "en")] == ["Not below zero."]
