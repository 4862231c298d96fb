"""Who reads /supervision (监管评估): supervisors and the admin; a district supervisor their district only.

Every role against every supervision route over real HTTP, on SQLite and PostgreSQL: the routes
× roles matrix of issue 12 §7 for the dashboard, its CSV, the cases and the bank records behind a
figure.
"""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from portal_helpers import client_of, enterprise_with_case, login, portal_app, register, staff
from sqlalchemy import update
from sqlmodel import col

from portal.db.tables import Application

__all__ = ["portal_app"]

ROUTES = (
    "/supervision",
    "/supervision.csv?figure=received_by_measure",
    "/supervision/cases?set=received",
    "/supervision/bank-records?kind=queries",
    "/supervision/bank-records?kind=exposure",
)


@pytest.mark.parametrize(
    ("role", "scope", "allowed"),
    [
        ("supervisor", {}, True),
        ("supervisor", {"district": "haizhu"}, True),
        ("admin", {}, True),
        ("reviewer", {"district": "haizhu"}, False),
        ("reviewer", {"bureau": "gzsti"}, False),
        ("expert", {}, False),
        ("enterprise", {}, False),
    ],
)
def test_routes_by_role(portal_app: FastAPI, role: str, scope: dict[str, str], allowed: bool) -> None:
    client = client_of(portal_app)
    if role == "enterprise":
        register(client)
    else:
        login(client, staff(portal_app.state.portal, role, **scope))
    for route in ROUTES:
        answer = client.get(route, follow_redirects=False)
        assert answer.status_code == (200 if allowed else 403), (role, route, answer.status_code)


def test_anonymous_is_sent_to_sign_in(portal_app: FastAPI) -> None:
    for route in ROUTES:
        answer = client_of(portal_app).get(route, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), route


def test_district_supervisor_sees_only_their_district(portal_app: FastAPI) -> None:
    """A Haizhu supervisor's figures count Haizhu cases; asking for another district is refused."""
    tianhe = client_of(portal_app)
    register(tianhe, district="tianhe", name="广州天河监管测试科技有限公司")
    client = client_of(portal_app)
    login(client, staff(portal_app.state.portal, "supervisor", district="haizhu"))
    page = client.get("/supervision").text
    assert "范围：海珠区" in page and "天河区" not in page
    assert client.get("/supervision/cases?set=received&district=tianhe").status_code == 403
    city = client_of(portal_app)
    login(city, staff(portal_app.state.portal, "supervisor"))
    assert "范围：全市" in city.get("/supervision").text


def test_bad_dates_are_field_errors(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    login(client, staff(portal_app.state.portal, "supervisor"))
    answer = client.get("/supervision?from=2026-02-30&to=20261127")
    assert answer.status_code == 422
    assert answer.text.count("请按“年-月-日”填写日期") == 4  # in the summary and at each field
    reversed_ = client.get("/supervision?from=2026-11-01&to=2026-10-01")
    assert reversed_.status_code == 422 and "截止日期不能早于起始日期" in reversed_.text


_TRACK_CELL = re.compile(r'<a href="(/supervision/cases\?[^"]*track=[^"]*)">([\d,]+)</a>')
_TOTAL = re.compile(r"案件总数</dt><dd>([\d,]+)</dd>")


def test_each_track_row_drills_down_to_the_cases_it_counts(portal_app: FastAPI) -> None:
    """A case counts under the track its form names (造, from a firm registered under 城), and the
    untagged row's link lists the untagged cases only, not every case (the reviewer's run)."""
    portal = portal_app.state.portal
    _, tagged = enterprise_with_case(portal_app, track="zao")
    _, untagged = enterprise_with_case(portal_app)
    with portal.transaction() as session:  # as a case of a firm with no track, under a form asking none
        session.execute(update(Application).where(col(Application.id) == untagged).values(track=None))
    admin = client_of(portal_app)
    login(admin, staff(portal, "admin"))
    cells = _TRACK_CELL.findall(admin.get("/supervision").text)
    drills = {html.unescape(href): int(n.replace(",", "")) for href, n in cells}
    assert any("track=zao" in href for href in drills) and any("track=-" in href for href in drills)
    for href, n in drills.items():
        listed = admin.get(href).text
        total = _TOTAL.search(listed)
        assert total is not None and int(total.group(1).replace(",", "")) == n, href
        if "track=-" in href:
            assert f"#{untagged}<" in listed and f"#{tagged}<" not in listed
        if "track=zao" in href:
            assert f"#{tagged}<" in listed
