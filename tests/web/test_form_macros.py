"""The form macros render a FormSpec accessibly: labels, errors tied by aria-describedby, escaping."""

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi import FastAPI

from portal.forms import FormSpec, load_forms
from portal.forms.errors import errors_by_path
from portal.web.i18n import Translator

REPO = Path(__file__).parents[2]
PAGE = """{% import "macros/forms.html" as forms with context %}
{{ forms.render_form(spec, values, errors, action="/apply", reopen=reopen, comments=comments) }}"""


@pytest.fixture(scope="module")
def spec() -> FormSpec:
    return load_forms(REPO / "forms")["tax.high_tech_enterprise"]


def render(
    app: FastAPI, spec: FormSpec, lang: str = "zh", reopen: set[str] | None = None, **values: object
) -> str:
    errors = errors_by_path(spec.validate(values, lang, today=dt.date(2026, 11, 27)))
    template = app.state.jinja.from_string(PAGE)
    return str(
        template.render(
            spec=spec,
            values=values,
            errors=errors,
            reopen=reopen,
            comments={"finance": "请补充<b>审计报告</b>"},
            t=Translator(lang),
            lang=lang,
            csrf_field="csrf_token",
            csrf_token=lambda: "tok",
        )
    )


def test_every_field_has_a_label_and_the_form_a_csrf_token(app: FastAPI, spec: FormSpec) -> None:
    html = render(app, spec)
    for name, f in spec.fields.items():
        if f.widget == "radio":
            continue
        assert f'<label for="field-{name}"' in html or f'for="field-{name}">' in html
        assert f'id="field-{name}"' in html
    assert '<input type="hidden" name="csrf_token" value="tok">' in html
    assert 'enctype="multipart/form-data"' in html


def test_errors_sit_next_to_their_field(app: FastAPI, spec: FormSpec) -> None:
    html = render(app, spec, revenue="-1")
    assert '<p class="field-error" id="field-revenue-error">不能小于 0。</p>' in html
    tag = re.search(r'<input[^>]*id="field-revenue"[^>]*>', html, re.S)
    assert tag is not None
    assert 'aria-invalid="true"' in tag.group(0)
    assert "field-revenue-error" in tag.group(0)
    assert 'href="#field-revenue"' in html  # the summary links to the field


def test_english_rendering(app: FastAPI, spec: FormSpec) -> None:
    html = render(app, spec, "en", revenue="-1")
    assert "Must be at least 0." in html
    assert "Revenue of the latest year (yuan)" in html


def test_values_and_comments_are_escaped(app: FastAPI, spec: FormSpec) -> None:
    html = render(app, spec, enterprise_name='"><script>alert(1)</script>')
    assert "<script>" not in html
    assert "&#34;&gt;&lt;script&gt;" in html or "&quot;&gt;&lt;script&gt;" in html
    assert "<b>审计报告</b>" not in html


def test_amendment_reopens_only_requested_sections(app: FastAPI, spec: FormSpec) -> None:
    html = render(app, spec, reopen={"finance"})
    sections = dict(re.findall(r'<fieldset class="form-section[^"]*" id="section-(\w+)"([^>]*)>', html))
    assert "disabled" not in sections["finance"]
    assert all("disabled" in attrs for sid, attrs in sections.items() if sid != "finance")
    assert "审核意见" in html
