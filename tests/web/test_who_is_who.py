"""Who is who (issue 15): registration and sign-in reveal nothing, claims, and verified enterprises.

Everything goes through the real app on SQLite and PostgreSQL. The timing checks compare the
medians of many tries of each kind: a correctness check that every path does the same work
(one argon2 hash), not a benchmark, so no absolute time is asserted.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from portal.db.tables import AuditEvent, Enterprise, EnterpriseClaim, Notification, User
from portal.services import applications, consents
from portal.services.auth import hash_password, verify_password
from portal.services.enterprises import actor_for_username
from portal.services.errors import Refused
from tests.web.portal_helpers import (
    PASSWORD,
    PDF,
    client_of,
    csrf_of,
    login,
    new_uscc,
    portal_app,
    register,
    staff,
)

__all__ = ["portal_app"]

TRIES = 11
_REFERENCE = hash_password("a reference password")
_CSRF = re.compile(r'name="csrf_token" value="[^"]+"')


def _form(code: str, username: str, email: str = "clerk@example.cn") -> dict[str, str]:
    return {
        "uscc": code,
        "name": "广州身份测试科技有限公司",
        "district": "haizhu",
        "username": username,
        "display_name": "赵会计",
        "email": email,
        "password": PASSWORD,
        "password2": PASSWORD,
    }


def _register(client: TestClient, data: dict[str, str]) -> httpx.Response:
    token = csrf_of(client, "/register")
    return client.post("/register", data={**data, "csrf_token": token}, follow_redirects=False)


def _sign_in(client: TestClient, username: str, password: str) -> httpx.Response:
    token = csrf_of(client, "/login")
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=data, follow_redirects=False)


def _post(client: TestClient, path: str, data: dict[str, str]) -> Callable[[], httpx.Response]:
    """The form post, its CSRF token fetched beforehand so that only the answer is timed."""
    token = csrf_of(client, path)
    return partial(client.post, path, data={**data, "csrf_token": token}, follow_redirects=False)


def _timed(action: Callable[[], httpx.Response], hashes: list[float]) -> tuple[float, httpx.Response]:
    """The answer and its time; one argon2 check is timed alongside, under the same load."""
    started = time.perf_counter()
    verify_password("not-the-password", _REFERENCE)
    hashes.append(time.perf_counter() - started)
    started = time.perf_counter()
    response = action()
    return time.perf_counter() - started, response


def _close(times: dict[str, list[float]], hashes: list[float]) -> None:
    """The medians of the kinds differ by less than half an argon2 check: a path that skipped
    the hash (the oracle) would differ by a whole one."""
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    spread = max(medians.values()) - min(medians.values())
    assert spread < statistics.median(hashes) / 2, (medians, statistics.median(hashes))


def _unverified(client: TestClient, code: str | None = None) -> tuple[str, str]:
    """Register through the page and sign in, leaving the enterprise unverified."""
    code = code or new_uscc()
    username = f"unv{code[-8:].lower()}"
    assert _register(client, _form(code, username)).status_code == 303
    login(client, username)
    return username, code


@pytest.fixture
def recommended_cost(portal_app: FastAPI) -> Iterator[None]:
    """The timing tests measure against a check at the recommended cost (`_REFERENCE`): the portal
    hashes at that cost too, so a path that skipped the hash would differ by a whole check, not by
    the suite's cheap one (tests/conftest.py)."""
    portal = portal_app.state.portal
    saved = portal.password_cost
    portal.password_cost = None
    yield
    portal.password_cost = saved


@pytest.mark.usefixtures("recommended_cost")
def test_registration_answers_alike_in_wording_and_time(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    client = client_of(portal_app)
    held_name, held_code = register(client_of(portal_app))
    kinds: dict[str, Callable[[int], dict[str, str]]] = {
        "new": lambda n: _form(new_uscc(), f"new{n}_{new_uscc()[-6:]}"),
        "code on record": lambda n: _form(held_code, f"claim{n}_{new_uscc()[-6:]}", f"c{n}@example.cn"),
        "name taken": lambda n: _form(new_uscc(), held_name, f"t{n}@example.cn"),
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    hashes: list[float] = []
    answers: dict[str, set[tuple[int, str, str]]] = {kind: set() for kind in kinds}
    for n in range(TRIES):
        for kind, make in kinds.items():
            took, response = _timed(_post(client, "/register", make(n)), hashes)
            times[kind].append(took)
            answers[kind].add((response.status_code, response.headers.get("location", ""), response.text))
    assert len({frozenset(a) for a in answers.values()}) == 1, answers
    assert answers["new"] == {(303, "/register/done", "")}
    _close(times, hashes)
    done = client.get("/register/done").text
    assert "注册申请已记录" in done and "已注册" not in done and "已被使用" not in done
    # Behind the one answer: accounts for the new, claims for the held code, nothing for the taken name.
    with portal.reading() as session:
        claims = session.exec(
            select(EnterpriseClaim).join(Enterprise).where(col(Enterprise.uscc) == held_code)
        ).all()
        taken = session.exec(select(Notification).where(col(Notification.email) == "t0@example.cn")).all()
    assert len(claims) == TRIES and all(claim.status == "pending" for claim in claims)
    assert [note.message for note in taken] == ["note.name_taken"]


@pytest.mark.usefixtures("recommended_cost")
def test_sign_in_answers_alike_for_unknown_wrong_and_locked(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    known, _ = register(client_of(portal_app))
    locked, _ = register(client_of(portal_app))
    client = client_of(portal_app)

    def attempt(username: str, password: str) -> Callable[[], httpx.Response]:
        return _post(client, "/login", {"username": username, "password": password})

    for _ in range(portal.login_max_failures):
        attempt(locked, "wrong-password-x")()
    kinds = {
        "unknown": lambda n: (f"nobody{n}_{new_uscc()[-6:]}", "wrong-password-x"),
        "wrong password": lambda n: (known, "wrong-password-x"),
        "locked, right password": lambda n: (locked, PASSWORD),
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    hashes: list[float] = []
    bodies: set[tuple[int, str]] = set()
    for n in range(TRIES):
        for kind, make in kinds.items():
            username, password = make(n)
            took, response = _timed(attempt(username, password), hashes)
            times[kind].append(took)
            bodies.add((response.status_code, _CSRF.sub("", response.text).replace(username, "NAME")))
            if kind == "wrong password" and n % 3 == 2:
                login(client_of(portal_app), known)  # stays below the lockout
    assert len(bodies) == 1 and next(iter(bodies))[0] == 401
    _close(times, hashes)


def test_a_claim_is_decided_by_the_holder_or_the_district(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    holder = client_of(portal_app)
    _, code = register(holder)
    anonymous = client_of(portal_app)
    assert _register(anonymous, _form(code, f"second_{code[-6:]}", "second@example.cn")).status_code == 303
    assert _register(anonymous, _form(code, f"third_{code[-6:]}", "third@example.cn")).status_code == 303
    # Not yet accepted: a wrong password fails like any other; the right one is told to wait.
    second = f"second_{code[-6:]}"
    assert _sign_in(anonymous, second, "wrong-password-x").status_code == 401
    waiting = _sign_in(anonymous, second, PASSWORD)
    assert waiting.status_code == 403 and "正等待该企业已有账号的管理人确认加入申请" in waiting.text
    assert "用户名或密码不正确" not in waiting.text
    anonymous.get("/lang/en?next=/login")
    assert "accept your request to join" in _sign_in(anonymous, second, PASSWORD).text
    anonymous.get("/lang/zh?next=/login")

    page = holder.get("/claims").text
    assert f"second_{code[-6:]}" in page and "second@example.cn" in page
    ids = [int(i) for i in re.findall(r'action="/claims/(\d+)"', page)]
    assert len(ids) == 2
    token = csrf_of(holder, "/claims")
    accepted = holder.post(
        f"/claims/{max(ids)}", data={"csrf_token": token, "decision": "agree"}, follow_redirects=False
    )
    assert accepted.status_code == 303
    # A refusal needs a reason; the district's reviewer may decide too.
    district = client_of(portal_app)
    login(district, staff(portal, "reviewer", district="haizhu"))
    assert f"third_{code[-6:]}" in district.get("/claims").text
    token = csrf_of(district, "/claims")
    no_reason = district.post(f"/claims/{min(ids)}", data={"csrf_token": token, "decision": "disagree"})
    assert no_reason.status_code == 422 and "此项为必填项" in no_reason.text
    refused_claim = district.post(
        f"/claims/{min(ids)}",
        data={"csrf_token": token, "decision": "disagree", "reason": "不是本企业员工"},
        follow_redirects=False,
    )
    assert refused_claim.status_code == 303
    # Another district's reviewer and another enterprise see nothing of it.
    elsewhere = client_of(portal_app)
    login(elsewhere, staff(portal, "reviewer", district="tianhe"))
    assert f"second_{code[-6:]}" not in elsewhere.get("/claims").text
    token = csrf_of(elsewhere, "/claims")
    assert (
        elsewhere.post(f"/claims/{min(ids)}", data={"csrf_token": token, "decision": "agree"}).status_code
        == 404
    )

    login(client_of(portal_app), f"third_{code[-6:]}")  # the accepted claimant now signs in
    refused_sign_in = _sign_in(anonymous, second, PASSWORD)
    assert refused_sign_in.status_code == 403 and "加入申请未获同意" in refused_sign_in.text
    with portal.reading() as session:
        second = session.exec(select(User).where(col(User.username) == f"second_{code[-6:]}")).one()
        assert not second.active  # refused: the account stays closed
        events = session.exec(select(AuditEvent.event).where(col(AuditEvent.event).like("claim_%"))).all()
    assert {"claim_filed", "claim_accepted", "claim_refused"} <= set(events)


def test_a_claimants_attempts_count_towards_the_lockout(portal_app: FastAPI) -> None:
    """Telling a claimant why is no oracle: wrong passwords lock the account like any other."""
    portal = portal_app.state.portal
    _, code = register(client_of(portal_app))
    claimant = f"locked_{code[-6:]}"
    client = client_of(portal_app)
    assert _register(client, _form(code, claimant, "locked@example.cn")).status_code == 303
    for _ in range(portal.login_max_failures):
        assert _sign_in(client, claimant, "wrong-password-x").status_code == 401
    locked = _sign_in(client, claimant, PASSWORD)
    assert locked.status_code == 401 and "用户名或密码不正确" in locked.text
    with portal.reading() as session:
        assert session.exec(select(User).where(col(User.username) == claimant)).one().locked_until


def test_an_unverified_enterprise_prepares_but_cannot_submit_or_consent(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    client = client_of(portal_app)
    username, _ = _unverified(client)
    for path in ("/applications", "/profile", "/catalogue", "/consents"):
        page = client.get(path).text
        assert "企业身份尚未核验" in page and 'href="/verification"' in page, path
    client.get("/lang/en?next=/applications")
    english = client.get("/applications").text
    assert "Your enterprise is not verified yet" in english and "Verification papers and progress" in english
    client.get("/lang/zh?next=/applications")

    actor = actor_for_username(portal, username)
    draft = applications.create_draft(portal, actor, "subsidy.ai_scenario_demo")
    with pytest.raises(Refused) as refused:
        applications.submit(portal, actor, draft.id or 0, draft.version)
    assert refused.value.code == "enterprise_unverified"
    token = csrf_of(client, "/consents")
    answer = client.post("/consents", data={"csrf_token": token, "bank": "x", "products": "y", "days": "30"})
    assert answer.status_code in (409, 422)
    with pytest.raises(Refused):
        consents.grant_consent(portal, actor, bank_code="none", products=["x"])


def test_verification_by_papers_in_the_district(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    client = client_of(portal_app)
    username, code = _unverified(client)
    page = client.get("/verification").text
    assert "营业执照" in page and "授权书" in page and "下一步" in page
    token = csrf_of(client, "/verification")
    missing = client.post(
        "/verification", data={"csrf_token": token}, files={"licence": ("l.pdf", PDF, "application/pdf")}
    )
    assert missing.status_code == 422 and 'id="field-authorisation-error"' in missing.text
    not_pdf = client.post(
        "/verification",
        data={"csrf_token": token},
        files={
            "licence": ("l.pdf", b"MZ\x90\x00", "application/pdf"),
            "authorisation": ("a.pdf", PDF, "application/pdf"),
        },
    )
    assert not_pdf.status_code == 422

    def send() -> None:
        token = csrf_of(client, "/verification")
        papers = {
            "licence": ("营业执照.pdf", PDF, "application/pdf"),
            "authorisation": ("授权书.pdf", PDF, "application/pdf"),
        }
        sent = client.post("/verification", data={"csrf_token": token}, files=papers, follow_redirects=False)
        assert sent.status_code == 303
        assert "等待所在区审核人员核验" in client.get("/verification").text

    send()
    reviewer = client_of(portal_app)
    login(reviewer, staff(portal, "reviewer", district="haizhu"))
    queue = reviewer.get("/verifications").text
    request_id = int(re.findall(rf'href="/verifications/(\d+)">[^<]*</a></td>\s*<td[^>]*>{code}', queue)[0])
    assert reviewer.get(f"/verifications/{request_id}/licence").content == PDF
    # The reviewer sees whom the letter must authorise: the account that sent the papers.
    case = reviewer.get(f"/verifications/{request_id}").text
    assert "授权书应授权此人" in case and "赵会计" in case
    assert username in case and "clerk@example.cn" in case
    reviewer.get(f"/lang/en?next=/verifications/{request_id}")
    assert "the letter must authorise this person" in reviewer.get(f"/verifications/{request_id}").text
    reviewer.get(f"/lang/zh?next=/verifications/{request_id}")
    other = client_of(portal_app)
    login(other, staff(portal, "reviewer", district="tianhe"))
    assert other.get(f"/verifications/{request_id}").status_code == 404
    assert other.get(f"/verifications/{request_id}/licence").status_code == 404
    assert client.get(f"/verifications/{request_id}").status_code == 403

    token = csrf_of(reviewer, f"/verifications/{request_id}")
    no_reason = reviewer.post(
        f"/verifications/{request_id}", data={"csrf_token": token, "event": "refuse_identity", "version": "1"}
    )
    assert no_reason.status_code == 422
    refused = reviewer.post(
        f"/verifications/{request_id}",
        data={"csrf_token": token, "event": "refuse_identity", "version": "1", "reason": "授权书未盖章"},
        follow_redirects=False,
    )
    assert refused.status_code == 303
    page = client.get("/verification").text
    assert "授权书未盖章" in page and "企业身份尚未核验" in client.get("/applications").text

    send()
    queue = reviewer.get("/verifications").text
    request_id = max(int(i) for i in re.findall(r'href="/verifications/(\d+)"', queue))
    token = csrf_of(reviewer, f"/verifications/{request_id}")
    verified = reviewer.post(
        f"/verifications/{request_id}",
        data={"csrf_token": token, "event": "verify_identity", "version": "1"},
        follow_redirects=False,
    )
    assert verified.status_code == 303
    assert "企业身份已核验" in client.get("/verification").text
    assert "企业身份尚未核验" not in client.get("/applications").text
    with portal.reading() as session:
        enterprise = session.exec(select(Enterprise).where(col(Enterprise.uscc) == code)).one()
        events = session.exec(
            select(AuditEvent.event).where(col(AuditEvent.subject_type).in_(["verification", "enterprise"]))
        ).all()
        notes = session.exec(
            select(Notification.message).where(col(Notification.enterprise_id) == enterprise.id)
        ).all()
    assert enterprise.verified_via == "documents"
    expected = {"verification_requested", "refuse_identity", "verify_identity", "enterprise_verified"}
    assert expected <= set(events)
    assert "note.verified" in notes
    with portal.reading() as session:
        assert session.exec(select(User).where(col(User.username) == username)).one().active


def test_twenty_concurrent_wrong_passwords_check_at_most_the_limit(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    username, _ = register(client_of(portal_app))
    user_id = actor_for_username(portal, username).user_id
    clients = [client_of(portal_app) for _ in range(20)]
    tokens = [csrf_of(client, "/login") for client in clients]

    def guess(pair: tuple[TestClient, str]) -> int:
        client, token = pair
        data = {"username": username, "password": "wrong-password-x", "csrf_token": token}
        return client.post("/login", data=data).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, zip(clients, tokens, strict=True)))
    assert statuses == [401] * 20
    with portal.reading() as session:
        checked = session.exec(
            select(AuditEvent.event).where(
                col(AuditEvent.subject_type) == "user", col(AuditEvent.subject_id) == str(user_id)
            )
        ).all()
    # Only `login_max_failures` passwords were checked; the last of them locked the account.
    assert sorted(e for e in checked if e != "login") == sorted(
        ["login_failed"] * (portal.login_max_failures - 1) + ["account_locked"]
    )
    token = csrf_of(clients[0], "/login")
    right = clients[0].post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert right.status_code == 401


def test_the_admin_cannot_open_an_account_whose_request_to_join_waits(portal_app: FastAPI) -> None:
    """Who joins an enterprise is its users' or its district's decision, not the admin's."""
    portal = portal_app.state.portal
    _, code = register(client_of(portal_app))
    claimant = f"joiner_{code[-6:]}"
    assert _register(client_of(portal_app), _form(code, claimant, "joiner@example.cn")).status_code == 303
    with portal.reading() as session:
        user_id = session.exec(select(User.id).where(col(User.username) == claimant)).one()
    admin = client_of(portal_app)
    login(admin, staff(portal, "admin"))
    row = admin.get(f"/admin/users?q={claimant}").text.split(f">{claimant}</td>", 1)[1].split("</tr>", 1)[0]
    assert "加入申请待同意" in row and f"/admin/users/{user_id}/enable" not in row
    token = csrf_of(admin, "/admin/users")
    forced = admin.post(f"/admin/users/{user_id}/enable", data={"csrf_token": token}, follow_redirects=False)
    assert forced.status_code == 409 and "不能在此启用" in forced.text
    with portal.reading() as session:
        assert not session.exec(select(User).where(col(User.id) == user_id)).one().active
