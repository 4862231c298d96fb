"""Hostile path, query and form parameters, and hostile body sizes: a clear 4xx, never a 500.

Ids past the database's integer range once reached SQLite as an OverflowError (a 500 page);
an upload post of any size was spooled to disk before it was refused.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from portal_helpers import (
    client_of,
    csrf_of,
    edit_target,
    enterprise_with_case,
    login,
    portal_app,
    register,
    staff,
    start_application,
)

from portal.web.routers.applications import MAX_FILES_PER_POST
from portal.web.uploads import MAX_UPLOAD_BYTES

__all__ = ["portal_app"]

HUGE_IDS = ["99999999999999999999", "9223372036854775808", "2147483648", "-9223372036854775809", "0"]


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_out_of_range_ids_are_refused_everywhere(portal_app: FastAPI, huge: str) -> None:
    portal = portal_app.state.portal
    enterprise, application_id = enterprise_with_case(portal_app)
    token = csrf_of(enterprise, "/applications")
    api = {"X-CSRF-Token": enterprise.get("/api/v1/session").json()["csrf_token"]}
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal, "reviewer", district="haizhu"))
    r_token = csrf_of(reviewer, "/review")
    answers = [
        enterprise.get(f"/applications/{huge}"),
        enterprise.get(f"/applications/{huge}/edit"),
        enterprise.get(f"/applications/{huge}/letters/1.pdf"),
        enterprise.get(f"/applications/{application_id}/letters/{huge}.pdf"),
        enterprise.post(f"/applications/{huge}/edit?v=1", data={"csrf_token": token}),
        enterprise.post(f"/applications/{application_id}/edit?v={huge}", data={"csrf_token": token}),
        enterprise.post(
            f"/applications/{huge}/withdraw", data={"csrf_token": token, "expected_version": "1"}
        ),
        enterprise.post(
            f"/applications/{application_id}/attachments/reuse",
            data={"csrf_token": token, "attachment_id": huge, "slot": "budget_sheet"},
        ),
        enterprise.post(f"/consents/{huge}/revoke", data={"csrf_token": token}),
        enterprise.post(f"/inbox/{huge}/read", data={"csrf_token": token}),
        enterprise.get(f"/api/v1/applications/{huge}"),
        enterprise.put(
            f"/api/v1/applications/{huge}/answers", json={"answers": {}, "expected_version": 1}, headers=api
        ),
        enterprise.post(f"/api/v1/applications/{huge}/submit", json={"expected_version": 1}, headers=api),
        enterprise.delete(f"/api/v1/applications/{huge}?expected_version=1", headers=api),
        enterprise.delete(f"/api/v1/applications/{application_id}?expected_version={huge}", headers=api),
        reviewer.get(f"/review/{huge}"),
        reviewer.get(f"/review/{application_id}/attachments/{huge}"),
        reviewer.post(
            f"/review/{huge}/transition",
            data={"csrf_token": r_token, "event": "accept", "expected_version": "1"},
        ),
        reviewer.post(
            f"/review/{application_id}/experts",
            data={"csrf_token": r_token, "expert_id": huge, "expected_version": "1"},
        ),
        reviewer.post(
            f"/api/v1/applications/{application_id}/transitions",
            json={"event": "accept", "expected_version": int(huge)},
            headers={"X-CSRF-Token": reviewer.get("/api/v1/session").json()["csrf_token"]},
        ),
    ]
    statuses = [(a.request.method, a.request.url.path, a.status_code) for a in answers]
    # 422 from the parameter's range; 404 where the path's `:int` convertor refuses a minus sign.
    assert all(status in (404, 422) for _, _, status in statuses), statuses
    assert enterprise.get(f"/api/v1/applications/{application_id}").json()["state"] == "submitted"


def test_staff_can_open_a_draft_that_has_no_submitted_facts(portal_app: FastAPI) -> None:
    """The case view once failed (500) rendering the re-evaluated trace of a never-submitted draft."""
    enterprise = client_of(portal_app)
    register(enterprise)
    application_id = start_application(enterprise)
    admin = client_of(portal_app)
    login(admin, staff(portal_app.state.portal, "admin"))
    page = admin.get(f"/review/{application_id}")
    assert page.status_code == 200, page.text[-500:]
    assert "—" in page.text


def test_an_oversized_upload_post_is_refused_before_it_is_read(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    register(client)
    application_id = start_application(client)
    action, token = edit_target(client, application_id)
    too_big = str(MAX_FILES_PER_POST * MAX_UPLOAD_BYTES + 1024 * 1024)
    declared = client.post(
        action,
        content=f"csrf_token={token}&action=save".encode(),
        headers={"content-type": "application/x-www-form-urlencoded", "content-length": too_big},
    )
    assert declared.status_code == 413
    chunked = client.post(
        action,
        content=iter([f"csrf_token={token}".encode()]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 411
    # The ordinary post still goes through.
    saved = client.post(action, data={"csrf_token": token, "action": "save"}, follow_redirects=False)
    assert saved.status_code == 303
