"""The procurement catalogue over HTTP, on SQLite and PostgreSQL: the whole life of a listing
(apply → approve → listed → reminder → renew, then revoke → archived), and the catalogue, its
exports and its API agreeing with each other.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import (
    PDF,
    case_form,
    client_of,
    csrf_of,
    edit_target,
    login,
    register,
    save_profile,
    staff,
    start_application,
)
from pypdf import PdfReader
from review_helpers import pass_to_experts
from sqlmodel import select

from portal.db.tables import Letter, Listing
from portal.services import sla
from portal.services.enterprises import actor_for_username
from portal.settings import Settings
from portal.web.app import create_app
from tests.support.rubrics import case_rubric


@pytest.fixture(
    scope="module", params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def portal_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One migrated database and app per backend. The journey signs a dozen people in again after
    each jump of the clock, all from the test client's one address: the per-address sign-in
    limit is raised for that, and only that."""
    databases: Any = request.getfixturevalue("databases")
    url = databases.migrated(request.param)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("procurement-data"),
        secret_key="procurement-test-key",
        PORTAL_LOGIN_IP_RATE_LIMIT=10_000,
    )
    app = create_app(settings)
    with TestClient(app):
        yield app
    app.state.engine.dispose()
    databases.drop(url)


LISTING = "procurement.ai_product_listing"
# Listed mid-2024, so the three-year term and its reminder fall inside the working-day calendar.
START = date(2024, 6, 3)


def _answers(code: str, name: str, **changes: str) -> dict[str, str]:
    return {
        "enterprise_name": "广州测试人工智能有限公司",
        "uscc": code,
        "contact_person": "张三",
        "contact_phone": "13800138000",
        "product_name": name,
        "product_kind": "platform",
        "track": "cheng",
        "model_number": "V2",
        "summary": "面向城市道路与桥梁的视觉巡检平台，自动识别病害并生成工单。",
        "specifications": "识别准确率 ≥ 98%\n单路视频延迟 ≤ 200 毫秒",
        "is_ai_product": "true",
        "manufacturer_in_guangzhou": "true",
        "mass_produced": "true",
        "invention_patent": "true",
        "patent_number": "ZL202110000001.X",
        "self_reliance_rate": "0.8",
        **changes,
    }


def _files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        (f"attachment:{slot}", (f"{slot}.pdf", PDF, "application/pdf"))
        for slot in ("product_brochure", "patent_certificate", "sales_evidence")
    ]


def _submit(client: TestClient, application_id: int, answers: dict[str, str]) -> None:
    action, token = edit_target(client, application_id)
    data = {**answers, "csrf_token": token, "action": "submit"}
    response = client.post(action, data=data, files=_files(), follow_redirects=False)
    assert response.status_code == 303, response.text[-3000:]


def _signed_in(app: FastAPI, username: str) -> TestClient:
    """A fresh session: moving the clock by days ends the sessions opened before."""
    client = client_of(app)
    login(client, username)
    return client


class Staff:
    """The reviewers and experts a listing application meets."""

    def __init__(self, app: FastAPI) -> None:
        portal = app.state.portal
        self.app = app
        self.district_name = staff(portal, "reviewer", district="haizhu")
        self.bureau_name = staff(portal, "reviewer", bureau="gzczj")
        self.expert_names = [staff(portal, "expert") for _ in range(3)]
        self.sign_in()

    def sign_in(self) -> None:
        portal = self.app.state.portal
        self.district = _signed_in(self.app, self.district_name)
        self.bureau = _signed_in(self.app, self.bureau_name)
        self.experts = [
            (actor_for_username(portal, name).user_id, _signed_in(self.app, name))
            for name in self.expert_names
        ]

    def approve(self, application_id: int) -> None:
        """Through every page a reviewer and an expert use, then the notice period runs out."""
        self.sign_in()
        portal = self.app.state.portal
        pass_to_experts(portal, application_id, {"district": self.district, "bureau": self.bureau}, "同意。")
        for expert_id, _ in self.experts:
            version, token = case_form(self.bureau, f"/review/{application_id}")
            assigned = self.bureau.post(
                f"/review/{application_id}/experts",
                data={"csrf_token": token, "expert_id": str(expert_id), "expected_version": str(version)},
                follow_redirects=False,
            )
            assert assigned.status_code == 303
        portal = self.app.state.portal
        for _, expert in self.experts:
            version, token = case_form(expert, f"/expert/{application_id}")
            declared = expert.post(
                f"/expert/{application_id}/declare",
                data={"csrf_token": token, "expected_version": str(version), "confirm": "true"},
                follow_redirects=False,
            )
            assert declared.status_code == 303
            version, token = case_form(expert, f"/expert/{application_id}")
            scores = {f"score:{c.id}": "85" for c in case_rubric(portal, application_id).criteria}
            scored = expert.post(
                f"/expert/{application_id}/score",
                data={"csrf_token": token, "expected_version": str(version), **scores},
            )
            assert scored.status_code == 200
        today = portal.today()
        portal.today_override = today + timedelta(days=8)
        sla.sweep(portal)  # the nightly job closes the public notice


def _ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-listing-id="(\d+)"', html)]


def _api_ids(client: TestClient, **params: str) -> list[int]:
    response = client.get("/api/v1/procurement/listings", params={"per_page": "100", **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def _listing_row(app: FastAPI, listing_id: int) -> Listing:
    with app.state.portal.reading() as session:
        row = session.get(Listing, listing_id)
        assert row is not None
        return row


def test_the_life_of_a_listing(portal_app: FastAPI, tmp_path: Path) -> None:
    portal = portal_app.state.portal
    pinned, portal.today_override = portal.today_override, START
    try:
        _life(portal_app, tmp_path)
    finally:
        portal.today_override = pinned


def _life(app: FastAPI, tmp_path: Path) -> None:
    portal = app.state.portal
    people = Staff(app)
    enterprise = client_of(app)
    username, code = register(enterprise, district="haizhu")
    save_profile(enterprise)
    name = f"穗智巡检平台{code[-4:]}"
    application_id = start_application(enterprise, LISTING)
    _submit(enterprise, application_id, _answers(code, name))
    people.approve(application_id)

    # Listed: in the catalogue, at its own URL, in the API, with the letter's number and /verify link.
    public = client_of(app)
    catalogue = public.get("/procurement", params={"q": name}).text
    (listing_id,) = _ids(catalogue)
    assert name in catalogue and code in catalogue and "有效" in catalogue
    entry = public.get(f"/procurement/{listing_id}").text
    row = _listing_row(app, listing_id)
    assert row.doc_number in entry and f"/verify/{row.verification_code}" in entry
    assert public.get(f"/verify/{row.verification_code}").status_code == 200
    assert row.expires_on == date(2027, 6, 11)
    assert _api_ids(public, q=name) == [listing_id]
    item = public.get(f"/api/v1/procurement/listings/{listing_id}").json()
    assert item["reference_number"] == row.doc_number and item["kind"]["label"]["en"] == "Platform"
    assert item["enterprise"]["district"] == {"code": "haizhu", "label": {"zh": "海珠区", "en": "Haizhu"}}

    # Reminded 60 days before expiry by the nightly sweep; the enterprise's inbox links to the entry.
    portal.today_override = row.expires_on - timedelta(days=60)
    assert sla.sweep(portal).reminded_listings == [listing_id]
    enterprise = _signed_in(app, username)
    inbox = enterprise.get("/inbox").text
    assert "即将到期" in inbox and f"/procurement/{listing_id}" in inbox

    # Renewal: a new application prefilled from the entry; its approval extends the same entry.
    entry = enterprise.get(f"/procurement/{listing_id}").text
    assert f'action="/procurement/{listing_id}/renew"' in entry
    token = re.search(r'name="csrf_token" value="([^"]+)"', entry)
    assert token is not None
    started = enterprise.post(
        f"/procurement/{listing_id}/renew", data={"csrf_token": token.group(1)}, follow_redirects=False
    )
    assert started.status_code == 303
    renewal_id = int(started.headers["location"].split("/")[2])
    form = enterprise.get(f"/applications/{renewal_id}/edit").text
    assert f'value="{name}"' in form and "ZL202110000001.X" in form
    _submit(
        enterprise,
        renewal_id,
        _answers(code, name, summary="面向城市道路、桥梁与隧道的视觉巡检平台，自动识别病害并生成工单。"),
    )
    people.approve(renewal_id)
    people.sign_in()
    enterprise = _signed_in(app, username)
    renewed = _listing_row(app, listing_id)
    assert renewed.expires_on == date(2030, 6, 11) and renewed.doc_number != row.doc_number
    assert _ids(public.get("/procurement", params={"q": name}).text) == [listing_id]

    # Revoked by the lead unit with reasons: a letter to the enterprise, the entry moves to the archive.
    bureau_page = people.bureau.get(f"/procurement/{listing_id}").text
    version = re.search(r'name="expected_version" value="(\d+)"', bureau_page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', bureau_page)
    assert version and token
    empty = people.bureau.post(
        f"/procurement/{listing_id}/actions",
        data={
            "csrf_token": token.group(1),
            "expected_version": version.group(1),
            "action": "revoke",
            "reasons": "",
        },
    )
    assert empty.status_code == 422 and _listing_row(app, listing_id).status == "listed"
    reasons = "经抽查，产品自主化率低于申报数值。"
    revoked = people.bureau.post(
        f"/procurement/{listing_id}/actions",
        data={
            "csrf_token": token.group(1),
            "expected_version": version.group(1),
            "action": "revoke",
            "reasons": reasons,
        },
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert _ids(public.get("/procurement", params={"q": name}).text) == []
    assert _ids(public.get("/procurement/archive", params={"q": name}).text) == [listing_id]
    assert _api_ids(public, q=name, status="archive") == [listing_id]
    entry = public.get(f"/procurement/{listing_id}").text
    assert "已撤销" in entry and reasons in entry
    assert [e for e in re.findall(r'data-event="(\w+)"', entry)] == [
        "listed", "reminded", "renewal_started", "renewed", "revoked",
    ]  # fmt: skip
    assert "目录条目状态变更" in enterprise.get("/inbox").text

    # The revocation letter: the enterprise downloads it from the renewal's case.
    with portal.reading() as session:
        letter = session.exec(select(Letter).where(Letter.kind == "revocation")).one()
    assert f"/verify/{letter.verification_code}" in public.get(f"/procurement/{listing_id}").text
    pdf = enterprise.get(f"/applications/{renewal_id}/letters/{letter.id}.pdf")
    assert pdf.status_code == 200 and pdf.content == letter.pdf
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(letter.pdf)).pages)
    assert "撤销" in text and name in text and reasons in text and "行政复议" in text
    (tmp_path / "revocation.pdf").write_bytes(letter.pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            str(tmp_path / "revocation.pdf"),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    assert list(tmp_path.glob("p*.png"))


def test_catalogue_exports_and_api_agree(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    pinned, portal.today_override = portal.today_override, START
    try:
        people = Staff(portal_app)
        enterprise = client_of(portal_app)
        username, code = register(enterprise, district="haizhu")
        save_profile(enterprise)
        names = [f"穗智算法{code[-4:]}-{n}" for n in range(2)]
        for number, name in enumerate(names):
            enterprise = _signed_in(portal_app, username)
            application_id = start_application(enterprise, LISTING)
            kind = ("technology", "project")[number]
            # The first product's specifications would run as a formula in a spreadsheet, unescaped.
            specs = '=HYPERLINK("http://evil.example","x")' if number == 0 else "识别准确率 ≥ 99%"
            _submit(
                enterprise,
                application_id,
                _answers(code, name, product_kind=kind, track="zao", specifications=specs),
            )
            people.approve(application_id)
    finally:
        portal.today_override = pinned
    people.sign_in()
    public = client_of(portal_app)
    for params in (
        {"q": code},
        {"q": code, "kind": "technology"},
        {"q": code, "track": "zao", "district": "haizhu"},
    ):
        page_ids = _ids(public.get("/procurement", params=params).text)
        assert page_ids and page_ids == _api_ids(public, **params)
    assert _api_ids(public, q=code, kind="project") == _ids(
        public.get("/procurement", params={"q": code, "kind": "project"}).text
    )

    public.cookies.set("lang", "en")
    exported = public.get("/procurement/export.csv", params={"q": code})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "Kind", "AI track"]
    assert sorted(r[0] for r in rows[1:]) == sorted(names)
    assert {r[1] for r in rows[1:]} == {"Technology", "Project"} and {r[5] for r in rows[1:]} == {"Haizhu"}
    # A cell that would run as a formula in a spreadsheet is made inert.
    assert {r[0]: r[7] for r in rows[1:]}[names[0]].startswith("'=HYPERLINK")
    workbook = public.get("/procurement/export.xlsx", params={"q": code})
    assert workbook.status_code == 200
    with zipfile.ZipFile(io.BytesIO(workbook.content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet and "Key specifications" in strings and names[0] in strings
    assert "technology" not in strings and "haizhu" not in strings  # labels, never codes

    public.cookies.set("lang", "zh")
    zh_rows = list(
        csv.reader(
            io.StringIO(public.get("/procurement/export.csv", params={"q": code}).content.decode("utf-8-sig"))
        )
    )
    assert zh_rows[0][:3] == ["名称", "类别", "人工智能赛道"]

    bad = public.get("/api/v1/procurement/listings", params={"per_page": "1000"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    missing = public.get("/api/v1/procurement/listings/2147483000")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert public.get("/api/v1/procurement/listings", params={"q": "a\x00b"}).status_code == 422
    schema = public.get("/openapi.json").json()
    assert "/api/v1/procurement/listings" in schema["paths"]
    assert "/procurement" not in schema["paths"]

    # Only the lead unit manages an entry; renewing needs the listed enterprise's session.
    listing_id = _ids(public.get("/procurement", params={"q": code}).text)[0]
    listing = _listing_row(portal_app, listing_id)
    other = client_of(portal_app)
    login(other, staff(portal, "reviewer", bureau="gzsti"))
    page = other.get(f"/procurement/{listing_id}").text
    assert f'action="/procurement/{listing_id}/actions"' not in page
    assert (
        f'action="/procurement/{listing_id}/actions"' in people.bureau.get(f"/procurement/{listing_id}").text
    )
    token = csrf_of(other, f"/procurement/{listing_id}")
    refused = other.post(
        f"/procurement/{listing_id}/actions",
        data={
            "csrf_token": token,
            "expected_version": str(listing.version),
            "action": "suspend",
            "reasons": "x",
        },
    )
    assert refused.status_code == 403 and _listing_row(portal_app, listing_id).status == "listed"
    anonymous = client_of(portal_app)
    token = csrf_of(anonymous, "/login")
    response = anonymous.post(
        f"/procurement/{listing_id}/renew", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
