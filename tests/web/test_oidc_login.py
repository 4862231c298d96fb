"""Sign-in through a real OpenID Connect provider: `oidc-provider` from npm, run by node on loopback.

The whole authorization-code flow with PKCE goes over real HTTP: the portal's redirect, the
provider's login and consent forms, the code back to the portal, and the portal's own calls to
the provider (discovery, token, keys, userinfo). Nothing of the protocol is faked.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from portal.db.tables import Enterprise, User
from portal.settings import Settings
from portal.web.app import create_app
from tests.web.portal_helpers import PASSWORD, client_of, csrf_of, login, new_uscc

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "support" / "oidc_provider.mjs"
PORTAL = "http://testserver"
CODES = {"boss": new_uscc(), "clerk": new_uscc(), "stranger": new_uscc(), "linker": new_uscc()}
ACCOUNTS = {
    "boss": {
        "uscc": CODES["boss"],
        "role": "legal_representative",
        "name": "钱董事长",
        "email": "boss@example.cn",
    },
    "clerk": {"uscc": CODES["clerk"], "role": "employee", "name": "孙职员"},
    "stranger": {"uscc": CODES["stranger"], "role": "authorised_agent", "name": "李经办"},
    "linker": {"uscc": CODES["linker"], "role": "authorised_agent", "name": "周经办"},
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def provider() -> Iterator[dict[str, str]]:
    """The node provider with one client (a secret made here) and the accounts above."""
    node = shutil.which("node")
    assert node is not None and (ROOT / "node_modules" / "oidc-provider").is_dir(), "run `make node`"
    port = _free_port()
    config = {
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": "portal-tests",
        "OIDC_CLIENT_SECRET": secrets.token_urlsafe(32),
        "OIDC_REDIRECT_URI": f"{PORTAL}/login/oidc/callback",
        "OIDC_COOKIE_KEY": secrets.token_urlsafe(32),
        "OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
    }
    process = subprocess.Popen(
        [node, str(SCRIPT)],
        env={**os.environ, **config},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"READY {port}", "the provider did not start"
        yield {**config, "issuer": f"http://127.0.0.1:{port}"}
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(
    scope="module", params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def oidc_app(
    request: pytest.FixtureRequest, provider: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    databases: Any = request.getfixturevalue("databases")
    settings = Settings(
        database_url=databases.migrated(request.param),
        data_dir=tmp_path_factory.mktemp("oidc-data"),
        secret_key="oidc-test-key",
        public_base_url=PORTAL,
        oidc_issuer=provider["issuer"],
        oidc_client_id=provider["OIDC_CLIENT_ID"],
        oidc_client_secret=provider["OIDC_CLIENT_SECRET"],
        login_ip_rate_limit_per_minute=10_000,
    )
    app = create_app(settings)
    with TestClient(app):
        yield app


def _through_provider(start: httpx.Response, account: str) -> str:
    """Follow the provider's pages as a browser would (log in, consent); the portal URL it sends us to."""
    assert start.status_code == 303
    location = start.headers["location"]
    assert "code_challenge=" in location and "code_challenge_method=S256" in location and "nonce=" in location
    with httpx.Client(follow_redirects=False, timeout=30) as browser:
        response = browser.get(location)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(PORTAL):
                    return location
                response = browser.get(location)
                continue
            form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', response.text, re.S)
            assert form is not None, response.text[:2000]
            fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
            if fields.get("prompt") == "login":
                fields.update(login=account, password="any-password")
            response = browser.post(urljoin(str(response.url), html.unescape(form.group(1))), data=fields)
    raise AssertionError("the provider never sent the browser back")


def _sign_in(client: TestClient, account: str) -> httpx.Response:
    back = _through_provider(client.get("/login/oidc", follow_redirects=False), account)
    parts = urlsplit(back)
    assert parts.path == "/login/oidc/callback"
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def _register_unverified(app: FastAPI, code: str) -> tuple[TestClient, str]:
    client = client_of(app)
    username = f"oidc{code[-8:].lower()}"
    data = {
        "uscc": code,
        "name": "广州统一认证测试科技有限公司",
        "district": "haizhu",
        "username": username,
        "display_name": "测试",
        "email": "t@example.cn",
        "password": PASSWORD,
        "password2": PASSWORD,
        "csrf_token": csrf_of(client, "/register"),
    }
    assert client.post("/register", data=data, follow_redirects=False).status_code == 303
    return client, username


def _enterprise(app: FastAPI, code: str) -> Enterprise:
    with app.state.portal.reading() as session:
        return session.exec(select(Enterprise).where(col(Enterprise.uscc) == code)).one()


def test_the_legal_representative_signs_in_and_the_enterprise_is_verified(oidc_app: FastAPI) -> None:
    _register_unverified(oidc_app, CODES["boss"])
    assert _enterprise(oidc_app, CODES["boss"]).verified_at is None
    assert "使用统一身份认证登录" in client_of(oidc_app).get("/login").text
    browser = client_of(oidc_app)
    answer = _sign_in(browser, "boss")
    assert answer.status_code == 303 and answer.headers["location"] == "/applications"
    enterprise = _enterprise(oidc_app, CODES["boss"])
    assert enterprise.verified_via == "oidc"
    page = browser.get("/verification").text
    assert "企业身份已核验" in page and "统一身份认证" in page
    # The provider's account stays linked: signing in again is the same user.
    again = client_of(oidc_app)
    assert _sign_in(again, "boss").status_code == 303
    with oidc_app.state.portal.reading() as session:
        users = session.exec(select(User).where(col(User.oidc_subject).is_not(None))).all()
    linked = [u for u in users if u.enterprise_id == enterprise.id]
    assert len(linked) == 1 and linked[0].display_name == "钱董事长" and linked[0].email == "boss@example.cn"


def test_a_signed_in_user_verifies_by_the_provider(oidc_app: FastAPI) -> None:
    client, username = _register_unverified(oidc_app, CODES["linker"])
    login(client, username)
    assert 'href="/login/oidc"' in client.get("/verification").text
    assert _sign_in(client, "linker").status_code == 303
    assert "企业身份已核验" in client.get("/verification").text
    with oidc_app.state.portal.reading() as session:
        user = session.exec(select(User).where(col(User.username) == username)).one()
    assert user.oidc_subject is not None and user.oidc_subject.endswith(" linker")


def test_the_provider_must_vouch_for_a_role_and_a_registered_code(oidc_app: FastAPI) -> None:
    _register_unverified(oidc_app, CODES["clerk"])
    refused = _sign_in(client_of(oidc_app), "clerk")
    assert refused.status_code == 401 and "有权代表企业" in refused.text
    assert _enterprise(oidc_app, CODES["clerk"]).verified_at is None
    unregistered = _sign_in(client_of(oidc_app), "stranger")
    assert unregistered.status_code == 401 and "请先注册企业账号" in unregistered.text


def test_a_callback_without_this_browsers_flow_is_refused(oidc_app: FastAPI) -> None:
    victim = client_of(oidc_app)
    back = _through_provider(victim.get("/login/oidc", follow_redirects=False), "boss")
    parts = urlsplit(back)
    # Another browser (no flow cookie) presents the code: login CSRF and code injection fail.
    attacker = client_of(oidc_app)
    stolen = attacker.get(f"{parts.path}?{parts.query}", follow_redirects=False)
    assert stolen.status_code == 401 and "统一身份认证登录未完成" in stolen.text
    # The right browser with a changed state fails too.
    tampered = re.sub(r"state=[^&]+", "state=forged", parts.query)
    assert victim.get(f"{parts.path}?{tampered}", follow_redirects=False).status_code == 401
