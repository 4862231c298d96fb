"""Server-side sessions: a logout, a timeout or a second instance all see the same truth.

Each test signs in through the real login page and replays cookies exactly as a browser (or an
attacker holding a copied cookie) would, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from portal.db.tables import WebSession
from portal.services.web_sessions import token_hash
from portal.settings import Settings
from portal.web.app import MissingSecretKey, create_app
from portal.web.session_store import SESSION_COOKIE
from tests.web.portal_helpers import client_of, csrf_of, portal_app, register

__all__ = ["portal_app"]


def _session_cookie(client: TestClient) -> str:
    value = client.cookies.get(SESSION_COOKIE)
    assert value, "no session cookie"
    return value


def _with_cookie(app: FastAPI, cookie: str) -> TestClient:
    replay = client_of(app)
    replay.cookies.set(SESSION_COOKIE, cookie)
    return replay


def _session_count(app: FastAPI) -> int:
    with Session(app.state.portal.engine) as session:
        return session.exec(select(func.count()).select_from(WebSession)).one()


def test_a_cookie_saved_before_logout_is_worthless_afterwards(portal_app: FastAPI) -> None:
    browser = client_of(portal_app)
    register(browser)
    saved = _session_cookie(browser)
    token = browser.get("/api/v1/session").json()["csrf_token"]

    browser.post("/logout", data={"csrf_token": csrf_of(browser, "/applications")})

    replay = _with_cookie(portal_app, saved)
    assert replay.get("/api/v1/session").status_code == 401
    created = replay.post(
        "/api/v1/applications",
        json={"measure_id": "subsidy.ai_scenario_demo"},
        headers={"X-CSRF-Token": token},
    )
    assert created.status_code in (401, 403)
    assert replay.get("/applications", follow_redirects=False).status_code == 303


def test_logout_on_one_instance_is_refused_on_another(portal_app: FastAPI) -> None:
    other_instance = create_app(
        Settings(database_url=str(portal_app.state.settings.database_url), secret_key="portal-pages-test-key")
    )
    try:
        browser = client_of(portal_app)
        register(browser)
        cookie = _session_cookie(browser)
        on_b = _with_cookie(other_instance, cookie)
        assert on_b.get("/api/v1/session").status_code == 200, "instance B must see A's session"

        browser.post("/logout", data={"csrf_token": csrf_of(browser, "/applications")})
        assert on_b.get("/api/v1/session").status_code == 401
    finally:
        other_instance.state.engine.dispose()


def test_sign_in_rotates_the_token(portal_app: FastAPI) -> None:
    browser = client_of(portal_app)
    browser.get("/login")
    planted = _session_cookie(browser)
    register(browser)
    assert _session_cookie(browser) != planted
    assert _with_cookie(portal_app, planted).get("/api/v1/session").status_code == 401


def _age_session(app: FastAPI, cookie: str, **back: timedelta) -> None:
    """Move the session's timestamps into the past, as if that much time had gone by."""
    with Session(app.state.portal.engine) as session:
        row = session.get(WebSession, token_hash(cookie))
        assert row is not None
        for column, delta in back.items():
            setattr(row, column, getattr(row, column) - delta)
        session.add(row)
        session.commit()


def test_an_idle_session_times_out(portal_app: FastAPI) -> None:
    browser = client_of(portal_app)
    register(browser)
    idle = timedelta(minutes=portal_app.state.settings.session_idle_minutes)
    _age_session(portal_app, _session_cookie(browser), last_seen_at=idle - timedelta(minutes=1))
    assert browser.get("/api/v1/session").status_code == 200
    _age_session(portal_app, _session_cookie(browser), last_seen_at=idle + timedelta(minutes=1))
    assert browser.get("/api/v1/session").status_code == 401


def test_an_active_session_ends_at_the_absolute_limit(portal_app: FastAPI) -> None:
    browser = client_of(portal_app)
    register(browser)
    limit = timedelta(hours=portal_app.state.settings.session_max_hours)
    _age_session(portal_app, _session_cookie(browser), created_at=limit + timedelta(minutes=1))
    assert browser.get("/api/v1/session").status_code == 401


def test_anonymous_visitors_write_no_session_rows(portal_app: FastAPI) -> None:
    before = _session_count(portal_app)
    visitor = client_of(portal_app)
    for path in ("/login", "/register", "/self-check", "/login"):
        assert visitor.get(path).status_code == 200
    assert _session_count(portal_app) == before


def test_the_app_refuses_to_start_without_a_secret_key(tmp_path: object) -> None:
    try:
        create_app(Settings(database_url="sqlite:///:memory:"))
    except MissingSecretKey as refused:
        assert "PORTAL_SECRET_KEY" in str(refused)
    else:
        raise AssertionError("an app without PORTAL_SECRET_KEY started")
