"""A settled payment batch is read-only over HTTP, and add-to-batch forms appear only where a case can
be added; on SQLite and PostgreSQL (one app per backend, fresh enterprises per test).

No test here leaves a case that could still join a batch: each page's forms depend on that.
"""

from __future__ import annotations

import html
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import client_of, csrf_of, login, portal_app

from portal.services import payments
from portal.services.context import Portal
from portal.services.payments_returns import import_return
from tests.support.payments import approved_case, footprint, payer

__all__ = ["portal_app"]


def _client(app: FastAPI, lang: str) -> TestClient:
    client = client_of(app)
    login(client, "pay_bureau")
    client.cookies.set("lang", lang)
    return client


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _csv(*lines: str) -> bytes:
    return ("\n".join(["业务参考号,金额（元）,状态,说明", *lines]) + "\n").encode()


def _post_file(client: TestClient, batch_id: int, content: bytes, page: str) -> object:
    token = csrf_of(client, page)
    return client.post(
        f"/payments/{batch_id}/returns",
        data={"csrf_token": token},
        files={"file": ("later.csv", content)},
        follow_redirects=False,
    )


def test_a_settled_batch_shows_no_return_form_and_refuses_a_further_file(portal_app: FastAPI) -> None:
    portal: Portal = portal_app.state.portal
    first, second = approved_case(portal, "智造结清甲有限公司"), approved_case(portal, "智造结清乙有限公司")
    bureau = payer(portal)
    batch = payments.create_batch(portal, bureau, [first, second])
    batch_id = int(batch.id or 0)
    payments.mark_sent(portal, bureau, batch_id, batch.version)
    # The first file pays one case and mismatches the other's amount: that line needs follow-up...
    import_return(
        portal, bureau, batch_id, "r1.csv", _csv(f"{first},200000.00,成功,", f"{second},1.00,成功,")
    )
    page = f"/payments/{batch_id}"
    zh = _client(portal_app, "zh")
    assert f'action="/payments/{batch_id}/returns"' in zh.get(page).text  # not settled yet
    assert "金额与批次不符，未处理" in _text(zh.get(page).text)
    # ... until a corrected file pays it: the batch is settled, and the stale line drops out.
    import_return(portal, bureau, batch_id, "r2.csv", _csv(f"{second},200000.00,成功,"))
    assert payments.batch_detail(portal, bureau, batch_id).follow_up == []

    for lang, closed, none in (
        ("zh", "本批次已办结", "没有需要跟进的回单行。"),
        ("en", "This batch is closed", "No return-file line needs follow-up."),
    ):
        client = _client(portal_app, lang)
        shown = client.get(page).text
        assert f'action="/payments/{batch_id}/returns"' not in shown and 'type="file"' not in shown
        assert closed in _text(shown) and none in _text(shown)
        before = footprint(portal)
        refused = _post_file(client, batch_id, _csv(f"{first},200000.00,成功,"), page)
        assert refused.status_code == 409  # type: ignore[attr-defined]
        said = _text(refused.text)  # type: ignore[attr-defined]
        assert ("批次已办结" if lang == "zh" else "This batch is closed") in said
        assert footprint(portal) == before
        # A file the batch could not read answers the same: the batch is closed, whatever it holds.
        garbled = _post_file(client, batch_id, b"not,a,return,file\n", page)
        assert garbled.status_code == 409  # type: ignore[attr-defined]


def test_add_forms_appear_only_where_a_case_can_be_added(portal_app: FastAPI) -> None:
    portal: Portal = portal_app.state.portal
    batched = approved_case(portal, "智造已入批次有限公司")
    bureau = payer(portal)
    batch = payments.create_batch(portal, bureau, [batched])
    batch_id = int(batch.id or 0)
    zh, en = _client(portal_app, "zh"), _client(portal_app, "en")

    # The only waiting case is in the open batch: listed with why, but no form, box or button.
    index = zh.get("/payments").text
    assert 'action="/payments"' not in index and 'name="case"' not in index
    assert "下列案件暂不能纳入拨付批次" in _text(index) and "已在未结清的拨付批次中" in _text(index)
    assert "None of these cases can join a payment batch now" in _text(en.get("/payments").text)
    assert f'action="/payments/{batch_id}/add"' not in zh.get(f"/payments/{batch_id}").text

    # A case that can be added brings the forms back, offering only that case.
    ready = approved_case(portal, "智造待入批次有限公司")
    index = zh.get("/payments").text
    assert 'action="/payments"' in index and f'value="{ready}"' in index
    assert f'value="{batched}"' not in index
    shown = zh.get(f"/payments/{batch_id}").text
    assert f'action="/payments/{batch_id}/add"' in shown
    assert f'value="{ready}"' in shown and f"#{batched}<" not in shown

    # Settle both, so that no case here is left to join a batch.
    batch = payments.add_cases(
        portal, bureau, batch_id, [ready], payments.batch_detail(portal, bureau, batch_id).batch.version
    )
    payments.mark_sent(portal, bureau, batch_id, batch.version)
    import_return(
        portal, bureau, batch_id, "r.csv", _csv(f"{batched},200000.00,成功,", f"{ready},200000.00,成功,")
    )
    assert 'action="/payments"' not in zh.get("/payments").text
