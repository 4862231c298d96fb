"""A date field's `not_after` / `not_before`: loaded from the form file, judged on the caller's today.

The engine never reads the clock, so every check here passes its own `today`; the boundary is
exact (today itself is accepted, the next day refused).
"""

import datetime as dt
from pathlib import Path

import pytest

from portal.forms import FieldError, FormFileError, FormSpec, load_form
from portal.forms.lint import lint_forms
from portal.forms.model import DateBound
from tests.forms.conftest import REPO
from tests.support.broken_pack import serve_refusal

TODAY = dt.date(2026, 12, 6)
MUST = "must be `today`, a date as YYYY-MM-DD or `{field: <another date field>}`"

BOUNDED = """
measure: demo.measure
title: {zh: 示例, en: Demo}
schema:
  $schema: https://json-schema.org/draft/2020-12/schema
  type: object
  properties:
    signed_on: {type: string, format: date}
    amount: {type: number}
ui:
  sections:
    - id: main
      title: {zh: 主要, en: Main}
      fields:
        - {name: signed_on, label: {zh: 合同签订日期, en: Contract signing date}, not_after: today}
        - {name: amount, label: {zh: 金额, en: Amount}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "demo.measure.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def bounded(tmp_path: Path, bounds: str = "not_after: today") -> FormSpec:
    return load_form(write(tmp_path, BOUNDED.replace("not_after: today", bounds)))


def messages(spec: FormSpec, signed_on: str, lang: str = "zh", today: dt.date = TODAY) -> dict[str, str]:
    return {e.path: e.message for e in spec.validate({"signed_on": signed_on}, lang, today=today)}


# Loading


@pytest.mark.parametrize(
    ("bounds", "before", "after"),
    [
        ("not_after: today", None, DateBound(None)),
        ("not_before: 2020-01-01", DateBound(dt.date(2020, 1, 1)), None),  # YAML reads it as a date
        ('not_before: "2020-01-01", not_after: today', DateBound(dt.date(2020, 1, 1)), DateBound(None)),
        ("not_before: today", DateBound(None), None),
    ],
)
def test_bounds_load_as_today_or_a_fixed_day(
    tmp_path: Path, bounds: str, before: DateBound | None, after: DateBound | None
) -> None:
    field = bounded(tmp_path, bounds).fields["signed_on"]
    assert (field.not_before, field.not_after) == (before, after)


def test_a_field_without_bounds_has_none(tmp_path: Path) -> None:
    field = bounded(tmp_path, "widget: date").fields["signed_on"]
    assert field.not_before is None and field.not_after is None
    assert field.date_range(TODAY) == (None, None)


@pytest.mark.parametrize(
    ("bounds", "needle"),
    [
        ("not_after: tomorrow", f"not_after: {MUST}, not `tomorrow`"),
        ("not_after: 20261206", f"not_after: {MUST}"),
        ('not_after: "2026-02-30"', "not_after: `2026-02-30` is not a date"),
        ("not_after: 2026-12-06 10:00:00", f"not_after: {MUST}"),
        ("not_after: true", f"not_after: {MUST}"),
        ("not_before: 2026-01-02, not_after: 2026-01-01", "not_before: is after `not_after`"),
        ("not_afer: today", "unknown key `not_afer`"),
    ],
)
def test_a_bad_bound_names_the_file_and_field(tmp_path: Path, bounds: str, needle: str) -> None:
    path = write(tmp_path, BOUNDED.replace("not_after: today", bounds))
    with pytest.raises(FormFileError) as info:
        load_form(path)
    assert str(info.value).startswith(f"{path}: ui.sections[0].fields[0](signed_on)")
    assert needle in str(info.value)


def test_a_bound_on_a_field_that_is_not_a_date_is_refused(tmp_path: Path) -> None:
    text = BOUNDED.replace("en: Amount}}", "en: Amount}, not_after: today}")
    with pytest.raises(
        FormFileError, match=r"fields\[1\]\(amount\)\.not_after: .* only to a `format: date` field"
    ):
        load_form(write(tmp_path, text))


def test_a_broken_bound_stops_the_server_in_one_line(tmp_path: Path) -> None:
    """`portal serve` on a pack whose form has a bad bound: one line naming file and field, exit 2."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("rules", "workflows", "pack.yaml"):
        (pack / name).symlink_to(REPO / name)
    (pack / "forms").mkdir()
    for form in (REPO / "forms").glob("*.yaml"):
        text = form.read_text(encoding="utf-8")
        (pack / "forms" / form.name).write_text(text.replace("not_after: today", "not_after: soon"), "utf-8")
    code, line = serve_refusal(pack, tmp_path)
    assert code == 2, line
    assert line.startswith("error: cannot start: ") and "/forms/" in line
    assert f"not_after: {MUST}, not `soon`" in line


# Validation


def test_today_is_accepted_and_tomorrow_refused_in_zh_and_en(tmp_path: Path) -> None:
    spec = bounded(tmp_path)
    assert messages(spec, "2026-12-06") == {}
    assert messages(spec, "2020-01-01") == {}
    assert messages(spec, "2026-12-07") == {"signed_on": "不能晚于今天（2026年12月6日）。"}
    assert messages(spec, "2031-03-01", "en") == {
        "signed_on": "Cannot be later than today (December 6, 2026)."
    }


def test_today_is_the_callers_not_the_system_clock(tmp_path: Path) -> None:
    spec = bounded(tmp_path)
    assert messages(spec, "2031-03-01", today=dt.date(2031, 3, 1)) == {}
    assert messages(spec, "2026-12-06", "en", today=dt.date(2026, 12, 5)) == {
        "signed_on": "Cannot be later than today (December 5, 2026)."
    }


def test_fixed_bounds_name_their_day(tmp_path: Path) -> None:
    spec = bounded(tmp_path, "not_before: 2024-01-19, not_after: 2028-01-18")
    assert messages(spec, "2024-01-19") == {} and messages(spec, "2028-01-18") == {}
    assert messages(spec, "2024-01-18") == {"signed_on": "不能早于2024年1月19日。"}
    assert messages(spec, "2028-01-19", "en") == {"signed_on": "Cannot be later than January 18, 2028."}
    assert spec.fields["signed_on"].date_range(TODAY) == (dt.date(2024, 1, 19), dt.date(2028, 1, 18))


def test_a_library_caller_without_a_day_keeps_the_fixed_bounds_only(tmp_path: Path) -> None:
    """`today` is an added keyword of a published method: a caller that gives none is held to
    the fixed days, never to a day it did not give (the portal's services always pass one)."""
    spec = bounded(tmp_path, "not_before: 2024-01-19, not_after: today")
    assert spec.validate({"signed_on": "2031-03-01"}) == []
    assert [e.path for e in spec.validate({"signed_on": "2024-01-18"})] == ["signed_on"]
    assert spec.fields["signed_on"].date_range(None) == (dt.date(2024, 1, 19), None)


def test_not_before_today(tmp_path: Path) -> None:
    spec = bounded(tmp_path, "not_before: today")
    assert messages(spec, "2026-12-06") == {}
    assert messages(spec, "2026-12-05", "en") == {
        "signed_on": "Cannot be earlier than today (December 6, 2026)."
    }


def test_a_malformed_date_is_told_its_format_not_its_bound(tmp_path: Path) -> None:
    spec = bounded(tmp_path)
    assert messages(spec, "2031-02-30", "en") == {"signed_on": "Enter a date as YYYY-MM-DD."}
    assert messages(spec, "20310301", "en") == {"signed_on": "Enter a date as YYYY-MM-DD."}


def test_the_fields_own_message_wins(tmp_path: Path) -> None:
    text = BOUNDED.replace(
        "not_after: today}",
        "not_after: today, messages: {not_after: {zh: 合同须已签订。, en: The contract must be signed.}}}",
    )
    spec = load_form(write(tmp_path, text))
    assert messages(spec, "2026-12-07", "en") == {"signed_on": "The contract must be signed."}


def test_a_draft_refuses_a_future_date_and_keeps_the_rest(tmp_path: Path) -> None:
    spec = bounded(tmp_path)
    typed, errors = spec.coerce_draft({"signed_on": "2026-12-07", "amount": "12"}, "en", today=TODAY)
    assert errors == [FieldError("signed_on", "Cannot be later than today (December 6, 2026).")]
    assert typed["amount"] == 12
    assert spec.coerce_draft({"signed_on": "2026-12-06"}, today=TODAY)[1] == []
    # A date still being typed is judged at the submission, as without a bound.
    assert spec.coerce_draft({"signed_on": "2026-12"}, today=TODAY)[1] == []


# A bound by another date field of the form (`not_before: {field: start_on}`)


PAIR = """
measure: demo.measure
title: {zh: 示例, en: Demo}
schema:
  $schema: https://json-schema.org/draft/2020-12/schema
  type: object
  properties:
    start_on: {type: string, format: date}
    end_on: {type: string, format: date}
    amount: {type: number}
ui:
  sections:
    - id: main
      title: {zh: 主要, en: Main}
      fields:
        - {name: start_on, label: {zh: 开始日期, en: Start date}, not_after: today}
        - {name: end_on, label: {zh: 完成日期, en: End date}, not_before: {field: start_on}, not_after: today}
    - id: money
      title: {zh: 金额, en: Money}
      fields:
        - {name: amount, label: {zh: 金额, en: Amount}}
"""
END_BOUND = "not_before: {field: start_on}"


def pair(tmp_path: Path, old: str = END_BOUND, new: str = END_BOUND) -> FormSpec:
    assert old in PAIR
    return load_form(write(tmp_path, PAIR.replace(old, new)))


def said(spec: FormSpec, lang: str = "zh", **answers: str) -> dict[str, str]:
    return {e.path: e.message for e in spec.validate(answers, lang, today=TODAY)}


def test_a_field_bound_loads_as_the_other_fields_name(tmp_path: Path) -> None:
    end = pair(tmp_path).fields["end_on"]
    assert (end.not_before, end.not_after) == (DateBound(None, "start_on"), DateBound(None))
    assert not end.not_before.is_today
    # Its day is the other field's answer; without answers (or without a date there) it is no limit.
    assert end.date_range(TODAY) == (None, TODAY)
    assert end.date_range(TODAY, {"start_on": "2026-03-01"}) == (dt.date(2026, 3, 1), TODAY)
    assert end.date_range(TODAY, {"start_on": "2026-03"}) == (None, TODAY)


def test_an_end_before_its_start_is_refused_naming_the_start_by_its_label(tmp_path: Path) -> None:
    spec = pair(tmp_path)
    assert said(spec, start_on="2026-03-01", end_on="2026-03-01") == {}  # inclusive: one-day projects
    assert said(spec, start_on="2026-03-01", end_on="2026-02-28") == {
        "end_on": "不能早于“开始日期”（2026年3月1日）。"
    }
    assert said(spec, "en", start_on="2026-03-01", end_on="2026-02-28") == {
        "end_on": "Cannot be earlier than the Start date (March 1, 2026)."
    }


def test_not_after_another_field(tmp_path: Path) -> None:
    text = PAIR.replace(END_BOUND + ", not_after: today", "not_after: today").replace(
        "en: Start date}, not_after: today}", "en: Start date}, not_after: {field: end_on}}"
    )
    spec = load_form(write(tmp_path, text))
    assert said(spec, start_on="2026-03-02", end_on="2026-03-01") == {
        "start_on": "不能晚于“完成日期”（2026年3月1日）。"
    }
    assert said(spec, "en", start_on="2026-03-02", end_on="2026-03-01") == {
        "start_on": "Cannot be later than the End date (March 1, 2026)."
    }


def test_an_end_is_not_measured_against_a_start_that_is_missing_or_wrong(tmp_path: Path) -> None:
    spec = pair(tmp_path)
    assert said(spec, end_on="2026-01-01").get("end_on") is None
    assert said(spec, "en", start_on="2026-02-30", end_on="2026-01-01") == {
        "start_on": "Enter a date as YYYY-MM-DD."
    }
    # A start in the future has its own message; the end is not also told it is before it.
    assert said(spec, "en", start_on="2027-01-01", end_on="2026-01-01") == {
        "start_on": "Cannot be later than today (December 6, 2026)."
    }
    # An end both after today and before its start is told about today, once.
    assert said(spec, "en", start_on="2026-12-01", end_on="2026-12-07") == {
        "end_on": "Cannot be later than today (December 6, 2026)."
    }


def test_a_draft_refuses_an_end_before_its_start_and_keeps_the_rest(tmp_path: Path) -> None:
    spec = pair(tmp_path)
    raw = {"start_on": "2026-03-01", "end_on": "2026-02-28", "amount": "12"}
    typed, errors = spec.coerce_draft(raw, "en", today=TODAY)
    assert errors == [FieldError("end_on", "Cannot be earlier than the Start date (March 1, 2026).")]
    assert typed["amount"] == 12 and typed["start_on"] == "2026-03-01"
    # A start not yet given, or still being typed, waits for the submission.
    assert spec.coerce_draft({"end_on": "2026-02-28"}, today=TODAY)[1] == []
    assert spec.coerce_draft({"start_on": "2026-03", "end_on": "2026-02-28"}, today=TODAY)[1] == []


def test_the_fields_own_message_wins_over_a_field_bound(tmp_path: Path) -> None:
    own = END_BOUND + ", messages: {not_before: {zh: 完成不能早于开始。, en: A project ends after it starts}}"
    spec = pair(tmp_path, END_BOUND, own)
    assert said(spec, "en", start_on="2026-03-01", end_on="2026-02-28") == {
        "end_on": "A project ends after it starts"
    }


@pytest.mark.parametrize(
    ("old", "new", "where", "needle"),
    [
        (END_BOUND, "not_before: {field: finish_on}", "fields[1](end_on).not_before.field",
         "`finish_on` is not a property of the schema"),
        (END_BOUND, "not_before: {field: amount}", "fields[1](end_on).not_before.field",
         "`amount` is not a `format: date` field"),
        (END_BOUND, "not_before: {field: end_on}", "fields[1](end_on).not_before.field",
         "a field cannot be bounded by itself"),
        (END_BOUND, "not_before: {feild: start_on}", "fields[1](end_on).not_before",
         "unknown key `feild`; use field"),
        (END_BOUND, "not_before: start_on", "fields[1](end_on).not_before",
         "to bound it by the field `start_on`, write `not_before: {field: start_on}`"),
        (END_BOUND + ", not_after: today", END_BOUND + ", not_after: {field: start_on}",
         "fields[1](end_on).not_before", "and `not_after` both name `start_on`: use one"),
        # start_on <= end_on and end_on <= start_on: only the same day would do.
        ("en: Start date}, not_after: today}", "en: Start date}, not_before: {field: end_on}}",
         "fields[0](start_on)", "its date bounds go round (end_on, start_on)"),
        # The end may be no later than 2025, after a start that may be no earlier than 2026.
        ("en: Start date}, not_after: today}", "en: Start date}, not_before: 2026-01-01}",
         "fields[0](start_on)", "contradict (through end_on): it must be on or after 2026-01-01 and on or "
         "before 2025-12-31"),
    ],
)  # fmt: skip
def test_a_bad_field_bound_names_the_file_and_field(
    tmp_path: Path, old: str, new: str, where: str, needle: str
) -> None:
    text = PAIR.replace(old, new)
    if "2026-01-01" in new:
        text = text.replace(END_BOUND + ", not_after: today", END_BOUND + ", not_after: 2025-12-31")
    path = write(tmp_path, text)
    with pytest.raises(FormFileError) as info:
        load_form(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ui.sections[0].{where}: ") and needle in message, message
    assert "\n" not in message


# The pack


PAST_DATES = {
    ("procurement.first_set_reward", "contract_on"),
    ("subsidy.model_filing", "filed_on"),
    ("subsidy.algorithm_filing", "filed_on"),
    ("subsidy.ai_scenario_demo", "start_on"),  # the measure funds projects already built and accepted
    ("subsidy.ai_scenario_demo", "end_on"),
}


def test_the_packs_dates_that_have_happened_are_not_after_today(forms: dict[str, FormSpec]) -> None:
    dates = {
        (spec.measure_id, f.name)
        for spec in forms.values()
        for f in spec.fields.values()
        if f.schema.get("format") == "date"
    }
    assert dates == PAST_DATES  # a new date field is decided on here: past, or a plan
    for measure, name in PAST_DATES:
        assert forms[measure].fields[name].not_after == DateBound(None)
    contract = forms["procurement.first_set_reward"]
    assert {e.path: e.message for e in contract.validate({"contract_on": "2031-01-01"}, today=TODAY)}[
        "contract_on"
    ] == "不能晚于今天（2026年12月6日）。"


def test_the_packs_ends_are_not_before_their_starts(forms: dict[str, FormSpec]) -> None:
    """Every pair of date fields `<x>start_on` / `<x>end_on` in a form orders them."""
    pairs = {
        (spec.measure_id, name, name.replace("start_on", "end_on"))
        for spec in forms.values()
        for name in spec.fields
        if name.endswith("start_on") and name.replace("start_on", "end_on") in spec.fields
    }
    assert ("subsidy.ai_scenario_demo", "start_on", "end_on") in pairs
    for measure, start, end in pairs:
        assert forms[measure].fields[end].not_before == DateBound(None, start), measure
    demo = forms["subsidy.ai_scenario_demo"]
    assert {
        e.path: e.message
        for e in demo.validate({"start_on": "2026-03-01", "end_on": "2026-02-27"}, today=TODAY)
    }["end_on"] == "不能早于“开始日期”（2026年3月1日）。"


def test_lint_asks_a_field_prefilled_from_a_past_fact_for_not_after_today(tmp_path: Path) -> None:
    facts = {"enterprise": {"registered_on": {"type": "date", "past": True}}}
    text = BOUNDED.replace("not_after: today}", "prefill: enterprise.registered_on}")
    spec = load_form(write(tmp_path, text))
    (problem,) = lint_forms({spec.measure_id: spec}, facts)
    assert "signed_on" in problem and "not_after: today" in problem
    bounded_spec = load_form(
        write(tmp_path, BOUNDED.replace("today}", "today, prefill: enterprise.registered_on}"))
    )
    assert lint_forms({spec.measure_id: bounded_spec}, facts) == []
