"""The self-check says which measures it answers from the enterprise's figures and which it leaves
to their own entity (a loan, a person, a product, a project), in the pack's words, before anyone
fills the form; and a result's version reads as the date it took effect, not as its key."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.web.i18n import Translator
from tests.support.page_checks import visible_text
from tests.web.conftest import ENTERPRISE, csrf_from

ON = dt.date(2026, 6, 1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_form_says_which_measures_it_covers_and_which_it_leaves_out(
    client: TestClient, app: FastAPI, lang: str
) -> None:
    pack, city = app.state.pack, app.state.portal.city
    today = app.state.portal.today()
    rules = [r for m in pack.measure_ids() if (r := pack.select(m, today)) is not None]
    others = [r for r in rules if r.applies_to != "enterprise"]
    assert others and len(others) < len(rules)
    client.cookies.set("lang", lang)
    html = client.get("/self-check").text
    block = html[html.index('id="check-coverage"') :]
    block = block[: block.index("</div>")]
    text = visible_text(block)
    own = city.entity_labels["enterprise"].get(lang)
    t = Translator(lang)
    assert t("check.coverage.own", total=len(rules), count=len(rules) - len(others), entity=own) in text
    for rule in others:
        assert rule.title.get(lang) in text and f'href="#entity-{rule.applies_to}"' in block
        label = city.entity_labels[rule.applies_to].get(lang)
        assert label in text
        words = text
        for title in (r.title.get(lang) for r in rules):
            words = words.replace(title, "")
        assert label == rule.applies_to or rule.applies_to not in words  # by its name, never its key
    # Narrowed to one measure, the page is about that measure only.
    one = client.get(f"/self-check?measure={rules[0].id}").text
    assert 'id="check-coverage"' not in one


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_result_names_its_version_by_the_date_it_took_effect(
    client: TestClient, app: FastAPI, lang: str
) -> None:
    client.cookies.set("lang", lang)
    facts = {
        f"enterprise.{k}": ("true" if v else "false") if isinstance(v, bool) else str(v)
        for k, v in ENTERPRISE.items()
    }
    token = csrf_from(client.get("/self-check").text)
    html = client.post("/self-check", data={"csrf_token": token, "on": ON.isoformat(), **facts}).text
    t = Translator(lang)
    rule = app.state.pack.select("tax.high_tech_enterprise", ON)
    assert rule is not None
    assert t("check.in_force_from", date=t.date(rule.effective_from)) in visible_text(html)
    assert f"{t('check.version')} {rule.version}" not in visible_text(html)
