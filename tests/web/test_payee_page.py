"""The profile's 收款账户 section: the enterprise keeps the account its grants are paid into."""

from __future__ import annotations

from fastapi import FastAPI
from portal_helpers import client_of, csrf_of, portal_app, register

__all__ = ["portal_app"]


def test_the_enterprise_keeps_its_account_on_the_profile(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    english = client.post(
        "/profile/payee",
        data={"csrf_token": csrf_of(client, "/profile"), "bank_name": "", "account_number": "12ab"},
        cookies={"lang": "en"},
    )
    assert english.status_code == 422
    assert "Bank and branch: Enter the bank and branch." in english.text
    assert 'id="field-account_number"' in english.text and 'aria-invalid="true"' in english.text
    assert 'value="12ab"' in english.text  # what was typed stays to be corrected

    saved = client.post(
        "/profile/payee",
        data={
            "csrf_token": csrf_of(client, "/profile"),
            "bank_name": "中国银行广州海珠支行",
            "account_number": "6217 8570 0000 9876",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/profile#payee"
    page = client.get(saved.headers["location"]).text
    assert "收款账户已保存。" in page and "中国银行广州海珠支行" in page and "****9876" in page
    assert "621785700000" not in page  # the full number is not shown back


def test_the_account_form_needs_the_csrf_token_and_an_enterprise(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    assert client.post("/profile/payee", data={"bank_name": "x", "account_number": "1"}).status_code == 403
    anonymous = client_of(portal_app)
    token = csrf_of(anonymous, "/login")
    refused = anonymous.post(
        "/profile/payee", data={"csrf_token": token, "bank_name": "x"}, follow_redirects=False
    )
    assert refused.status_code in (303, 401, 403)
