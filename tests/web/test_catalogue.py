"""The public policy catalogue (政策库, issue 11 §1): found without an account, read in words.

Anyone reads each measure's summary, what it gives in units (50%, 20万元 / CNY 200,000: money as
the check's hints write it), who may apply, how, with which documents, its source and lead unit;
the measure page leads to a check of that one measure. Codes (measure ids, unit codes, benefit
names) appear only in URLs and values.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ALGORITHM = "subsidy.algorithm_filing"


def visible(html: str) -> str:
    """The page's text without tags and attributes: what a reader sees."""
    return re.sub(r"<[^>]+>", " ", html)


def test_the_catalogue_is_public_and_links_every_measure(client: TestClient) -> None:
    page = client.get("/catalogue", follow_redirects=False)
    assert page.status_code == 200
    assert "政策库" in page.text and f'href="/catalogue/{ALGORITHM}"' in page.text
    text = visible(page.text)
    assert "算法备案奖励" in text and "免申即享" in text and "最高奖励" in text and "20万元" in text
    assert ALGORITHM not in text and "max_award" not in text and "hzkgxj" not in text
    # The home page leads there too, and its titles open the measure pages.
    home = client.get("/").text
    assert 'href="/catalogue"' in home and f'href="/catalogue/{ALGORITHM}"' in home


def test_a_measure_page_says_what_who_how_which_documents_and_on_what_authority(client: TestClient) -> None:
    text = visible(client.get(f"/catalogue/{ALGORITHM}").text)
    for words in (
        "完成国家算法备案的人工智能企业给予一次性奖励",  # the summary
        "最高奖励",
        "20万元",
        "谁可以申请",
        "在海珠区注册",
        "备案公告截图或备案通知",  # a document the form asks for
        "海科工商信规字",  # the legal source
        "广州市海珠区科技工业商务和信息化局",  # the lead unit by name
        "登录后申报",
    ):
        assert words in text, words
    assert "hzkgxj" not in text and "max_award" not in text
    page = client.get(f"/catalogue/{ALGORITHM}").text
    assert f'href="/self-check?measure={ALGORITHM}"' in page

    client.get(f"/lang/en?next=/catalogue/{ALGORITHM}")
    english = visible(client.get(f"/catalogue/{ALGORITHM}").text)
    assert "Award of up to" in english and "CNY 200,000" in english and "Documents required" in english
    assert "Check if you qualify" in english and "Haizhu District Bureau" in english
    assert "：" not in english


@pytest.mark.parametrize(
    ("lang", "row"),
    [
        ("zh", "<dt>适用政策版本</dt><dd>2023年1月1日起施行</dd>"),
        ("en", "<dt>Policy version</dt><dd>in force from January 1, 2023</dd>"),
    ],
)
def test_a_measure_page_names_its_version_by_the_date_it_took_effect(
    client: TestClient, lang: str, row: str
) -> None:
    """As the check's result does (适用政策版本：…起施行), not by its key ("2023")."""
    client.cookies.set("lang", lang)
    page = client.get("/catalogue/tax.rd_super_deduction").text
    assert row in page
    assert not re.search(r"<dd>\s*2023\s*</dd>", page)


def test_english_pages_cite_the_law_in_english(client: TestClient) -> None:
    """The pack's `source.en` on the home page, the measure page and each criterion of a check;
    the document number stays as issued."""
    cited = "Normative Document of the Haizhu District Bureau of Science, Technology, Industry, Commerce"
    client.get("/lang/en?next=/")
    home = visible(client.get("/").text)
    measure = visible(client.get(f"/catalogue/{ALGORITHM}").text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/self-check").text)
    assert token is not None
    data = {
        "csrf_token": token.group(1),
        "measure": ALGORITHM,
        "on": "2026-11-27",
        "enterprise.district": "haizhu",
    }
    check = visible(client.post("/self-check", data=data).text)
    for text in (home, measure, check):
        assert cited in text and "海科工商信规字〔2024〕1号" in text
        assert "规范性文件" not in text and "奖励条款" not in text
    assert "Source: " + cited in check


def test_ratios_and_ceilings_read_in_units(client: TestClient) -> None:
    bank = visible(client.get("/catalogue/finance.ip_pledge_compensation").text)
    assert "不良本金损失补偿比例" in bank and "50%" in bank and "最高 1,000万元" in bank
    assert "compensation_ratio" not in bank and "0.5" not in bank


def test_a_card_and_a_check_hint_write_an_amount_alike(client: TestClient) -> None:
    """One formatter for what a measure gives: the card's ceiling reads as the self-check's hint
    reads it (the rule engine's 万元 in Chinese, CNY in English, never ¥ that could be yen)."""
    measure = "procurement.first_set_reward"
    for lang, said in (("zh", "最高 500万元"), ("en", "up to CNY 5,000,000")):
        client.get(f"/lang/{lang}?next=/catalogue")
        assert said in visible(client.get("/catalogue").text)
        assert said in visible(client.get(f"/catalogue/{measure}").text)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/self-check").text)
        assert token is not None
        data = {"csrf_token": token.group(1), "measure": measure, "on": "2026-11-27"}
        answer = visible(client.post("/self-check", data=data).text)
        hint = next(line for line in answer.splitlines() if ("可享" in line or "grants" in line))
        assert said in hint, hint
        assert "¥" not in answer


def test_an_unknown_or_lapsed_measure_is_not_found(client: TestClient) -> None:
    assert client.get("/catalogue/subsidy.nothing_like_it").status_code == 404


def test_the_check_of_one_measure_asks_only_for_its_facts_and_leads_back(client: TestClient) -> None:
    page = client.get(f"/self-check?measure={ALGORITHM}").text
    assert "只检查一项政策：算法备案奖励" in page and f'name="measure" value="{ALGORITHM}"' in page
    assert 'name="enterprise.algorithm_filed"' in page and 'name="enterprise.revenue"' not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/self-check",
        data={
            "csrf_token": token.group(1),
            "measure": ALGORITHM,
            "on": "2026-11-27",
            "enterprise.district": "tianhe",
            "enterprise.algorithm_filed": "true",
        },
    )
    assert answer.status_code == 200
    text = visible(answer.text)
    assert "不符合" in text and "注册地所在区 为 天河区，需为 海珠区" in text
    assert "tianhe" not in text and "haizhu" not in text
    assert f'href="/catalogue/{ALGORITHM}"' in answer.text
    assert text.count("计算结果") == 1 and "人工智能算力券" not in text  # this measure only
