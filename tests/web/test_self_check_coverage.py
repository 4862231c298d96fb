"""The self-check says which measures it answers from the enterprise's figures and which it leaves
to their own entity (a loan, a person, a product, a project), in the pack's words, before anyone
fills the form; and a result's version reads as the date it took effect, not as its key."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.web.i18n import Translator
from portal.web.self_check import entity_heading, entity_label
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
    assert f"{t('catalogue.version')} {rule.version}" not in visible_text(html)


@pytest.mark.parametrize(
    ("lang", "own", "person", "hint"),
    [
        ("zh", "企业情况", "人才个人（可选）", "仅在查询按人才个人判断的政策时填写。"),
        ("en", "Enterprise", "Person (optional)", "Only for measures judged on a person."),
    ],
)
def test_the_form_heads_each_entity_with_the_packs_name_for_it(
    client: TestClient, lang: str, own: str, person: str, hint: str
) -> None:
    client.cookies.set("lang", lang)
    html = client.get("/self-check").text
    assert f"<legend>{own} · " in html
    assert f"<summary>{person}</summary>" in html and hint in visible_text(html)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", ("本单位", "本单位情况", "其他对象", "其他对象（可选）")),
        ("en", ("organisation", "Organisation", "separate item", "Separate item (optional)")),
    ],
)
def test_a_pack_that_names_no_entity_gets_plain_words_not_keys(
    app: FastAPI, lang: str, words: tuple[str, str, str, str]
) -> None:
    city = replace(app.state.portal.city, entity_labels={})
    t = Translator(lang)
    said = (
        entity_label(city, "enterprise", t),
        entity_heading(city, "enterprise", t),
        entity_label(city, "talent", t),
        entity_heading(city, "talent", t),
    )
    assert said == words


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_empty_check_lists_what_it_could_not_check_with_links_that_land(
    client: TestClient, app: FastAPI, lang: str
) -> None:
    """Nothing filled: the enterprise's measures are among those not checked, so the list does not
    say they are "not judged on the enterprise", and each group's link lands on its section."""
    client.cookies.set("lang", lang)
    token = csrf_from(client.get("/self-check").text)
    html = client.post("/self-check", data={"csrf_token": token, "on": ON.isoformat()}).text
    block = html[html.index('id="check-unchecked"') :]
    block = block[: block.index("</div>")]
    assert 'href="#entity-enterprise"' in block
    assert "不按企业情况判断" not in block and "not judged on the enterprise" not in block
    for target in set(re.findall(r'href="#(entity-[a-z_]+)"', block)):
        assert html.count(f'id="{target}"') == 1, target
