"""An "any one of" group in the enterprise's results reads as on the reviewer's page and in the
letter (`trace_rows`): a numbered row with its own result, its options under it (2.1, 2.2), and an
option the group did not need read as "not met (another option is met)", never a bare "not met".
The public self-check, and the enterprise's measure page and catalogue on both backends."""

from __future__ import annotations

import html
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import csrf_from
from tests.web.portal_helpers import client_of, portal_app, register, save_profile

__all__ = ["portal_app"]

VOUCHER = "subsidy.compute_voucher"  # in Guangzhou, and any one of: AI R&D, AI revenue, AI staff
SCENARIO = "subsidy.ai_scenario_demo"  # the same group, for an enterprise in Haizhu


def _rows(page: str) -> list[tuple[str, str, str]]:
    """(number, result, words) of each criterion row, as read."""
    found = re.findall(
        r'<span class="criterion-number">([^<]*)</span>\s*<span class="criterion-outcome">([^<]*)</span>\s*'
        r'<span class="criterion-message">(.*?)</span>',
        page,
        flags=re.S,
    )
    return [(n, html.unescape(o), html.unescape(re.sub(r"<[^>]+>", "", m))) for n, o, m in found]


def _check(client: TestClient) -> str:
    token = csrf_from(client.get(f"/self-check?measure={VOUCHER}").text)
    fields = {
        "enterprise.district": "tianhe",
        "enterprise.ai_rd_expense": "30000000",  # met: the group is met by it
        "enterprise.ai_revenue": "1000000",  # not met, and not needed
        "enterprise.certified_ai_staff": "2",  # not met, and not needed
        "enterprise.compute_purchase": "1000000",
    }
    page = client.post(
        "/self-check", data={"csrf_token": token, "measure": VOUCHER, "on": "2026-06-01", **fields}
    )
    assert page.status_code == 200
    return page.text


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_the_self_check_draws_an_any_of_group_with_its_own_result(client: TestClient) -> None:
    text = _text(_check(client))
    assert "不符合 上年度人工智能业务收入超过500万元" not in text
    assert "未满足（已由其他条件满足） 上年度人工智能业务收入超过500万元" in text
    assert _rows(_check(client)) == [
        ("1", "符合", "企业注册在广州市"),
        ("2", "符合", "满足下列任一项即可"),
        ("2.1", "符合", "上年度人工智能研发投入超过500万元"),
        ("2.2", "未满足（已由其他条件满足）", "上年度人工智能业务收入超过500万元"),
        ("2.3", "未满足（已由其他条件满足）", "持证人工智能人员不少于6人"),
        ("3", "符合", "上年度向公共算力平台购买了算力服务"),
    ]
    page = _check(client)
    assert "逐项条件（5）" in page  # the criteria, not the group's heading
    assert 'class="criterion criterion-fail_covered criterion-depth-1"' in page

    client.cookies.set("lang", "en")
    english = _rows(_check(client))
    assert english[1] == ("2", "Met", "Any one of the following")
    assert english[3] == (
        "2.2",
        "Not met (another option is met)",
        "AI revenue above 5 million yuan last year",
    )
    assert all(outcome != "Not met" for _, outcome, _ in english)


def test_the_enterprise_measure_page_and_catalogue_draw_the_group_alike(portal_app: FastAPI) -> None:
    enterprise = client_of(portal_app)
    register(enterprise)
    save_profile(enterprise, **{"enterprise.ai_revenue": "1000000", "enterprise.certified_ai_staff": "2"})
    expected = [
        ("2", "符合", "满足下列任一项即可"),
        ("2.1", "符合", "上年度人工智能研发投入超过500万元"),
        ("2.2", "未满足（已由其他条件满足）", "上年度人工智能业务收入超过500万元"),
        ("2.3", "未满足（已由其他条件满足）", "持证人工智能人员不少于6人"),
    ]
    haizhu = ("1", "符合", "企业注册在海珠区")
    assert _rows(enterprise.get(f"/catalogue/{SCENARIO}").text)[:5] == [haizhu, *expected]
    catalogue = enterprise.get("/catalogue").text
    card = catalogue.split(f'href="/catalogue/{SCENARIO}"')[1]
    assert _rows(card)[:5] == [haizhu, *expected]
    enterprise.cookies.set("lang", "en")
    english = _rows(enterprise.get(f"/catalogue/{SCENARIO}").text)
    assert english[2] == ("2.1", "Met", "AI R&D above 5 million yuan last year")
    assert english[4] == ("2.3", "Not met (another option is met)", "At least 6 certified AI staff")
