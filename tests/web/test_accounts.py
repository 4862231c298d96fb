"""Password change and reset as people use them: real pages, a real SMTP sink, both databases."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from portal.db.tables import PasswordReset
from portal.services.context import SmtpConfig
from tests.support.smtp_sink import Sink, running_sink
from tests.web.portal_helpers import PASSWORD, client_of, csrf_of, login, portal_app, register

__all__ = ["portal_app"]
NEW_PASSWORD = "quiet lantern over harbour"


@pytest.fixture
def mailed_app(portal_app: FastAPI) -> Iterator[tuple[FastAPI, Sink]]:
    with running_sink() as (sink, port):
        original = portal_app.state.portal
        portal_app.state.portal = dataclasses.replace(
            original, smtp=SmtpConfig("127.0.0.1", port, "noreply@portal.test")
        )
        try:
            yield portal_app, sink
        finally:
            portal_app.state.portal = original


def _post(client: TestClient, path: str, data: dict[str, str], form_path: str | None = None) -> object:
    return client.post(
        path, data={"csrf_token": csrf_of(client, form_path or path), **data}, follow_redirects=False
    )


def test_changing_the_password_signs_out_the_other_sessions(portal_app: FastAPI) -> None:
    laptop = client_of(portal_app)
    username, _ = register(laptop)
    phone = client_of(portal_app)
    login(phone, username)
    assert phone.get("/api/v1/session").status_code == 200

    wrong = _post(
        laptop,
        "/account/password",
        {"current_password": "nope", "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert 'href="#field-current_password">当前密码：当前密码不正确。' in wrong.text  # type: ignore[attr-defined]

    weak = _post(
        laptop,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "123456789012", "new_password2": "123456789012"},
    )
    assert weak.status_code == 422  # type: ignore[attr-defined]
    assert "新密码：" in weak.text  # type: ignore[attr-defined]

    done = _post(
        laptop,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 200 and "密码已修改" in done.text  # type: ignore[attr-defined]
    assert laptop.get("/api/v1/session").status_code == 200, "the session that changed it stays"
    assert phone.get("/api/v1/session").status_code == 401, "every other session ended"
    login(client_of(portal_app), username, NEW_PASSWORD)


def test_reset_by_e_mail_end_to_end(mailed_app: tuple[FastAPI, Sink]) -> None:
    app, sink = mailed_app
    owner = client_of(app)
    username, _ = register(owner)
    visitor = client_of(app)
    for _ in range(app.state.portal.login_max_failures):  # lock the account: a reset lifts it
        assert _post(visitor, "/login", {"username": username, "password": "wrong guess"}).status_code == 401  # type: ignore[attr-defined]

    # Known and unknown names get the same page; only the known one gets mail.
    known = _post(visitor, "/password/reset", {"identifier": username})
    unknown = _post(client_of(app), "/password/reset", {"identifier": "no-such-user-anywhere"})
    assert known.status_code == unknown.status_code == 200  # type: ignore[attr-defined]
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)  # type: ignore[attr-defined]
    assert len(sink.messages) == 1
    mail = message_from_bytes(sink.messages[0], policy=policy.default)
    assert mail["To"] == "clerk@example.cn"
    link = re.search(r"http://\S+/password/reset/(\S+)", mail.get_content())
    assert link is not None
    path = f"/password/reset/{link.group(1)}"

    assert visitor.get(path).status_code == 200
    mismatch = _post(visitor, path, {"new_password": NEW_PASSWORD, "new_password2": "other"})
    assert mismatch.status_code == 422  # type: ignore[attr-defined]
    done = _post(visitor, path, {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/login?reset=done"  # type: ignore[attr-defined]
    assert owner.get("/api/v1/session").status_code == 401, "a reset ends every session"
    assert visitor.get(path).status_code == 404, "the link works once"
    login(client_of(app), username, NEW_PASSWORD)


def test_an_expired_link_is_refused(mailed_app: tuple[FastAPI, Sink]) -> None:
    app, sink = mailed_app
    username, _ = register(client_of(app))
    visitor = client_of(app)
    _post(visitor, "/password/reset", {"identifier": username})
    token = re.search(
        r"/password/reset/(\S+)", message_from_bytes(sink.messages[-1], policy=policy.default).get_content()
    )
    assert token is not None
    with Session(app.state.portal.engine) as session:
        for row in session.exec(select(PasswordReset)).all():
            row.expires_at -= timedelta(minutes=31)
            session.add(row)
        session.commit()
    path = f"/password/reset/{token.group(1)}"
    assert visitor.get(path).status_code == 404
    refused = _post(
        visitor, path, {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, "/password/reset"
    )
    assert refused.status_code == 404  # type: ignore[attr-defined]
