"""Home page, language switch, catalogue completeness and health probes."""

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.db import migrations
from portal.messages import catalogue
from portal.settings import Settings
from portal.web.app import create_app

TEMPLATES = Path(__file__).parents[2] / "portal" / "web" / "templates"


def test_home_lists_the_measures_in_force(client: TestClient, app: FastAPI) -> None:
    html = client.get("/").text
    assert "政策清单" in html
    assert html.count("<tr>") - 1 >= 1
    pack = app.state.pack
    first = pack.measure_ids()[0]
    assert pack.versions(first)[-1].title.zh in html
    # Titles, never ids, where people read (issue 11 §4): an id appears only in a link to its page.
    read = re.sub(r'href="/catalogue/[a-z0-9_.]+"', "", html)
    assert not any(measure in read for measure in pack.measure_ids())
    assert f'href="/catalogue/{first}"' in html or not pack.select(first, app.state.portal.today())
    # Signed out, the way in is offered.
    assert 'href="/login"' in html and 'href="/register"' in html


def test_language_switch_sets_cookie_and_returns(client: TestClient) -> None:
    response = client.get("/lang/en?next=/self-check", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/self-check"
    assert "lang=en" in response.headers["set-cookie"]
    page = client.get("/self-check").text
    assert '<html lang="en">' in page
    assert "Policy calculator" in page
    assert 'href="/lang/zh?next=%2Fself-check"' in page


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_language_switch_is_not_an_open_redirect(client: TestClient, target: str) -> None:
    response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_unknown_language_falls_back_to_chinese(client: TestClient) -> None:
    client.cookies.set("lang", "xx")
    assert '<html lang="zh-CN">' in client.get("/").text


def test_catalogue_keys_used_by_templates_exist() -> None:
    used: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        used |= set(
            re.findall(
                r"""\bt\(\s*["']([a-z0-9_.]+[a-z0-9_])["']\s*[,)]""", template.read_text(encoding="utf-8")
            )
        )
    assert used
    assert sorted(used - set(catalogue())) == []


def test_healthz_needs_no_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_readyz_on_each_backend_needs_the_migration_head(db_url: str, web_settings: Settings) -> None:
    app = create_app(web_settings.model_copy(update={"database_url": db_url}))
    with TestClient(app, raise_server_exceptions=False) as c:
        behind = c.get("/readyz")
        assert behind.status_code == 503
        assert "migration" in behind.json()["detail"]
        migrations.upgrade(db_url)
        assert c.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_readyz_checks_redis_when_configured(web_settings: Settings) -> None:
    up = create_app(web_settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/0"}))
    with TestClient(up) as c:
        assert c.get("/readyz").json() == {"status": "ok", "database": "ok", "redis": "ok"}
    down = create_app(web_settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}))
    with TestClient(down, raise_server_exceptions=False) as c:
        assert c.get("/readyz").status_code == 503


def test_readyz_is_503_when_the_database_is_down(web_settings: Settings) -> None:
    # Port 9 (discard) on loopback refuses connections: a database that is not there.
    down = web_settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    with TestClient(create_app(down), raise_server_exceptions=False) as c:
        response = c.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == 503
        assert c.get("/healthz").status_code == 200
