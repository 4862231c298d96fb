"""The anonymous self-check page: facts in, a badge per measure with explanations out."""

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import ENTERPRISE, csrf_from

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def submit(client: TestClient, fields: dict[str, str]) -> str:
    token = csrf_from(client.get("/self-check").text)
    response = client.post("/self-check", data={"csrf_token": token, "on": "2026-06-01", **fields})
    return response.text


def as_form(facts: dict[str, object]) -> dict[str, str]:
    return {
        f"enterprise.{k}": ("true" if v else "false") if isinstance(v, bool) else str(v)
        for k, v in facts.items()
    }


def test_form_lists_suppliable_facts_with_labels(client: TestClient, app: FastAPI) -> None:
    html = client.get("/self-check").text
    facts = app.state.pack.facts
    revenue = facts.get("enterprise.revenue")
    assert f'<label for="f-enterprise-revenue">{revenue.label.zh}' in html
    assert 'name="enterprise.district"' in html
    assert "天河区" in html  # enum values carry readable labels
    derived = [s for s in facts.specs.values() if s.derived]
    assert derived and all(f'name="{s.qualified}"' not in html for s in derived)


def test_results_show_badges_explanations_and_hints(client: TestClient, app: FastAPI) -> None:
    html = submit(client, as_form(ENTERPRISE))
    badges = re.findall(r'class="badge badge-(\w+)">([^<]+)<', html)
    assert badges
    words = {
        "eligible": "可申报",
        "ineligible": "不符合",
        "undetermined": "需补充信息",
        "not_in_force": "未生效",
    }
    assert all(words[outcome] == text for outcome, text in badges)
    assert "需补充信息" in html  # with partial facts some measures stay undetermined
    assert "逐项条件" in html
    assert "如何满足条件" in html
    pack = app.state.pack
    title = pack.select("tax.high_tech_enterprise", __import__("datetime").date(2026, 6, 1))
    if title is not None:
        assert title.title.zh in html


def test_results_in_english(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    html = submit(client, as_form(ENTERPRISE))
    assert "More information needed" in html
    assert re.search(r"Criteria \(\d+\)", html)
    assert re.search(r"Source: \S", html)
    assert "需补充信息" not in html
    assert "Criteria（" not in html and "Source：" not in html  # ASCII punctuation in en
    assert "{'zh'" not in html and "{&#39;zh" not in html  # no raw zh/en dict


def test_criteria_count_and_source_in_chinese(client: TestClient) -> None:
    html = submit(client, as_form(ENTERPRISE))
    assert re.search(r"逐项条件（\d+）", html)
    assert "依据：" in html


def test_bad_values_are_reported_next_to_their_fields(client: TestClient) -> None:
    token = csrf_from(client.get("/self-check").text)
    response = client.post(
        "/self-check",
        data={
            "csrf_token": token,
            "on": "2026-06-01",
            "enterprise.revenue": "-5",
            "enterprise.employees": "many",
        },
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="f-enterprise-revenue-error"' in html
    assert 'aria-describedby="f-enterprise-revenue-error" aria-invalid="true"' in html
    assert "不能为负数" in html  # -5: the sign is what is wrong
    assert 'id="f-enterprise-employees-error"' in html
    assert 'value="many"' in html  # the applicant's text is kept for correction


def test_xss_payload_is_escaped_when_echoed(client: TestClient) -> None:
    token = csrf_from(client.get("/self-check").text)
    response = client.post(
        "/self-check", data={"csrf_token": token, "on": "2026-06-01", "enterprise.employees": XSS}
    )
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_bad_evaluation_date_is_reported(client: TestClient) -> None:
    html = submit(client, {"on": "not-a-date"})
    assert 'id="f-on-error"' in html


def test_blank_form_gives_no_results_message(client: TestClient) -> None:
    html = submit(client, {})
    assert "计算结果" in html


def test_measures_judged_on_another_entity_are_named_with_the_section_to_fill(
    client: TestClient, app: FastAPI
) -> None:
    """A check of the enterprise's figures answers only the enterprise measures; the others (a
    product's, a project's, a person's) are named with the form section that brings them in, so
    nobody reads a catalogue of twenty as one of nine."""
    pack = app.state.pack
    on = __import__("datetime").date(2026, 6, 1)
    others = {m: r for m in pack.measure_ids() if (r := pack.select(m, on)) and r.applies_to != "enterprise"}
    assert others  # the pack has measures judged on something else
    for lang in ("zh", "en"):
        client.cookies.set("lang", lang)
        page = submit(client, as_form(ENTERPRISE))
        block = page[page.index('id="check-unchecked"') :]
        block = block[: block.index("</div>")]
        count = "本次未测算的政策：" if lang == "zh" else "Measures not checked this time: "
        assert f"{count}{len(others)}" in block
        for measure_id, rule in others.items():
            assert f'<a href="/catalogue/{measure_id}">{rule.title.get(lang)}</a>' in block
            assert f'href="#entity-{rule.applies_to}"' in block
            assert f'id="entity-{rule.applies_to}"' in page  # the section the link opens
    # Filling a product's figures brings its measures in, and out of the list.
    product = next(r for r in others.values() if r.applies_to == "product")
    page = submit(client, {**as_form(ENTERPRISE), "product.unit_price": "100000"})
    block = page.split('id="check-unchecked"')[-1].split("</div>")[0]
    assert f'<a href="/catalogue/{product.id}">' not in block
