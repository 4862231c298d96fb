"""The demo data behind `make run`: seeded through the services, idempotent, every stage covered,
and every demo login reaches its own pages (and only its own cases)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

from fastapi.testclient import TestClient
from portal_helpers import login
from sqlmodel import col, select

from portal.db.audit import verify_chain
from portal.db.tables import Application, ApplicationAttachment, Enterprise, Listing, Transition, User
from portal.demo.seed import DEMO_PASSWORD, ENTERPRISES, demo_uscc, seed_demo
from portal.services import notices
from portal.services.enterprises import actor_for_username
from portal.services.experts import conflicts_of
from portal.settings import Settings
from portal.web.app import create_app

EVERY_STAGE = {
    "draft",
    "submitted",
    "district_review",
    "bureau_review",
    "expert_review",
    "returned_for_amendment",
    "public_notice",
    "approved",
    "disbursed",
    "rejected",
    "withdrawn",
}
HOME = {
    "enterprise": "/applications",
    "reviewer": "/review",
    "expert": "/expert",
    "supervisor": "/supervision",
    "admin": "/admin/users",
}


def _enterprise_id(companies: list[Enterprise], key: str) -> int:
    uscc = demo_uscc(next(e for e in ENTERPRISES if e.key == key))
    return next(c.id or 0 for c in companies if c.uscc == uscc)


def test_demo_seed_is_complete_idempotent_and_browsable(migrated_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=migrated_url,
        data_dir=tmp_path,
        secret_key="demo-test-key",
        login_ip_rate_limit_per_minute=10_000,
    )
    app = create_app(settings)
    portal = app.state.portal
    first = seed_demo(portal)
    second = seed_demo(portal)
    assert first.created and not second.created and first.logins == second.logins
    with portal.reading() as session:
        cases = session.exec(select(Application)).all()
        companies = session.exec(select(Enterprise)).all()
        assert verify_chain(session).ok
    assert 18 <= len(cases) <= 28 and {c.state for c in cases} >= EVERY_STAGE
    # Each case's history runs forward: no step (a payment) is dated before the one it follows.
    with portal.reading() as session:
        moves = session.exec(select(Transition).order_by(col(Transition.id))).all()
    last: dict[int, Transition] = {}
    for move in moves:
        before = last.get(move.application_id)
        assert before is None or before.at <= move.at, (move.application_id, before.event, move.event)
        last[move.application_id] = move
    assert sum(c.overdue for c in cases) == 1
    # The public notices, open and past, never list one enterprise's project twice (it reads as a
    # second grant for a project already paid), and each carries a formal number.
    public = notices.list_notices(portal) + notices.list_notices(portal, archived=True)
    titled = [(n.enterprise_name, n.measure_title.zh, n.title.value if n.title else "") for n in public]
    assert len(public) >= 2 and len(set(titled)) == len(titled), titled
    assert all(n.number and "公示〔" in n.number for n in public)
    # Numbers run with the days the notices opened, as they would have been taken live.
    serials: dict[str, list[tuple[dt.date, int]]] = {}
    for n in public:
        parts = re.fullmatch(r"(.+〔\d{4}〕)(\d+)号", n.number or "")
        assert parts, n.number
        serials.setdefault(parts[1], []).append((n.opened_on, int(parts[2])))
    for prefix, taken in serials.items():
        assert [serial for _, serial in sorted(taken)] == sorted(serial for _, serial in taken), (
            prefix,
            taken,
        )
    # The procurement catalogue holds listed, expiring (reminded), suspended and expired products,
    # and the first-set register one award.
    with portal.reading() as session:
        entries = session.exec(select(Listing)).all()
    statuses = {(e.register_kind, e.status) for e in entries}
    assert statuses >= {
        ("catalogue", "listed"),
        ("catalogue", "suspended"),
        ("catalogue", "expired"),
        ("awards", "listed"),
    }
    assert any(e.status == "listed" and e.reminded_for == e.expires_on for e in entries)
    assert len(companies) == 7 and {c.ai_track for c in companies} >= {"zao", "che", "jian", "cheng"}
    # Every firm has its track (the newcomer's was declared and never registered), so every case
    # counts under one: the dashboard's 未标注方向 row is for real gaps, not the demo's.
    assert None not in {c.ai_track for c in companies} and all(c.track for c in cases)
    # Every demo enterprise may submit but the newcomer, whose papers wait for its district.
    assert sorted(c.name for c in companies if c.verified_at is None) == ["广州新来智能科技有限公司"]
    assert all(demo_uscc(e).startswith("914401") for e in ENTERPRISES)
    # Each document of a case is a file of its own (uploads are kept once per content), and a
    # name is a name: 陈专家's tie to 健康智算 is her declared employer, which bars her from its cases.
    with portal.reading() as session:
        filed = session.exec(select(ApplicationAttachment)).all()
        chen = session.exec(select(User).where(User.username == "expert_chen")).one()
        jiankang = next(c for c in cases if c.enterprise_id == _enterprise_id(companies, "jiankang"))
        assert chen.display_name == "陈专家" and conflicts_of(session, chen, jiankang)
    slots = Counter((f.application_id, f.attachment_id) for f in filed)
    assert [pair for pair, times in slots.items() if times > 1] == []

    with TestClient(app, raise_server_exceptions=False) as client:
        for username, _ in first.logins:
            client.cookies.clear()
            login(client, username, DEMO_PASSWORD)
            home = HOME[actor_for_username(portal, username).role]
            assert client.get(home).status_code == 200, (username, home)
        # A Tianhe reviewer sees Tianhe cases only.
        client.cookies.clear()
        login(client, "tianhe_reviewer", DEMO_PASSWORD)
        haizhu_case = next(c for c in cases if c.district == "haizhu" and c.state != "draft")
        assert client.get(f"/review/{haizhu_case.id}").status_code == 404
        # Every demo enterprise's district has a reviewer whose queue holds its submitted case.
        waiting = {"huangpu": "广州黄埔机器人技术有限公司", "nansha": "广州南沙港智能驾驶有限公司"}
        for district, company in waiting.items():
            client.cookies.clear()
            login(client, f"{district}_reviewer", DEMO_PASSWORD)
            assert company in client.get("/review").text, district
        # The Haizhu reviewer has the newcomer's papers and the claim to 智瞳 waiting.
        client.cookies.clear()
        login(client, "haizhu_reviewer", DEMO_PASSWORD)
        assert "广州新来智能科技有限公司" in client.get("/verifications").text
        assert "zhitong_second" in client.get("/claims").text
        # The demo bank's key, printed once, works; 智瞳 consented and a loan is on the books.
        assert first.bank_key is not None and second.bank_key is None
        product = next(iter(portal.city.banking.products))
        zhitong = next(e for e in ENTERPRISES if e.key == "zhitong")
        answer = client.post(
            "/api/v1/bank/eligibility",
            json={
                "uscc": demo_uscc(zhitong),
                "product": product,
                "loan": {"amount": "1000000", "term_months": 12},
            },
            headers={"Authorization": f"Bearer {first.bank_key}"},
        )
        assert answer.status_code == 200, answer.text
        client.cookies.clear()
        login(client, "supervisor", DEMO_PASSWORD)
        loans = client.get("/supervision/bank-records?kind=loans")
        assert loans.status_code == 200 and zhitong.name in loans.text
    app.state.engine.dispose()
