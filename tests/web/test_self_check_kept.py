"""What a self-check leaves behind: each measure's outcome (for the supervision funnel), never the
answers; the enterprise only when one is signed in."""

from fastapi import FastAPI
from sqlalchemy import text

from portal.web.ratelimit import SlidingWindowLimiter
from tests.web.portal_helpers import client_of, csrf_of, portal_app, register

__all__ = ["portal_app"]


def _check(app: FastAPI, client: object) -> list[tuple[object, ...]]:
    portal = app.state.portal
    with portal.engine.connect() as connection:
        before = connection.execute(text("SELECT coalesce(max(id), 0) FROM self_check_result")).scalar_one()
    token = csrf_of(client, "/self-check")  # type: ignore[arg-type]
    page = client.post(  # type: ignore[attr-defined]
        "/self-check",
        data={
            "csrf_token": token,
            "on": "2026-06-01",
            "enterprise.revenue": "12345678",
            "enterprise.district": "haizhu",
        },
    )
    assert page.status_code == 200
    assert "您填写的内容不会保存" in page.text
    with portal.engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text("SELECT * FROM self_check_result WHERE id > :before ORDER BY id"), {"before": before}
            )
        ]


def test_an_anonymous_check_keeps_outcomes_only(portal_app: FastAPI) -> None:
    rows = _check(portal_app, client_of(portal_app))
    measures = portal_app.state.portal.pack.measure_ids()
    assert rows and {r[2] for r in rows} <= set(measures)
    assert {r[3] for r in rows} <= {"eligible", "ineligible", "undetermined", "not_in_force"}
    assert {r[4] for r in rows} == {None}
    assert all("12345678" not in str(r) and "haizhu" not in str(r) for r in rows)
    columns = {"id", "checked_at", "measure_id", "outcome", "enterprise_id"}
    with portal_app.state.portal.engine.connect() as connection:
        kept = set(connection.execute(text("SELECT * FROM self_check_result LIMIT 0")).keys())
    assert kept == columns


def test_a_signed_in_enterprise_check_names_the_enterprise(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    _, uscc = register(client)
    rows = _check(portal_app, client)
    with portal_app.state.portal.engine.connect() as connection:
        mine = connection.execute(text("SELECT id FROM enterprise WHERE uscc = :u"), {"u": uscc}).scalar_one()
    assert rows and {r[4] for r in rows} == {mine}


def test_a_burst_of_checks_is_refused_before_anything_is_written(portal_app: FastAPI) -> None:
    """The page writes a row per measure, so it shares the check API's per-address quota."""
    kept = portal_app.state.check_limiter
    portal_app.state.check_limiter = SlidingWindowLimiter(1, 60.0, name="self-check-test")
    try:
        client = client_of(portal_app)
        assert _check(portal_app, client)
        with portal_app.state.portal.engine.connect() as connection:
            before = connection.execute(text("SELECT count(*) FROM self_check_result")).scalar_one()
        data = {"csrf_token": csrf_of(client, "/self-check"), "on": "2026-06-01", "enterprise.revenue": "99"}
        busy = client.post("/self-check", data=data)
        assert busy.status_code == 429 and 1 <= int(busy.headers["retry-after"]) <= 60
        assert "测评过于频繁，请稍后再试。" in busy.text and 'value="99"' in busy.text
        client.cookies.set("lang", "en")
        english = client.post("/self-check", data=data)
        assert "Too many checks from this address" in english.text
        with portal_app.state.portal.engine.connect() as connection:
            after = connection.execute(text("SELECT count(*) FROM self_check_result")).scalar_one()
        assert after == before
    finally:
        portal_app.state.check_limiter = kept
