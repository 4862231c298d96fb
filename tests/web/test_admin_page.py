"""The administrator's account page: field errors in the reader's language that name the field
and say the limit, an explicit whole-city choice, and a message after every action naming the
account acted on."""

from __future__ import annotations

import html
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.services.enterprises import actor_for_username
from tests.web.portal_helpers import PASSWORD, client_of, csrf_of, login, portal_app, register, staff

__all__ = ["portal_app"]


def _admin(app: FastAPI, lang: str = "zh") -> TestClient:
    return _admin_named(app, lang)[0]


def _admin_named(app: FastAPI, lang: str = "zh") -> tuple[TestClient, str]:
    client = client_of(app)
    client.cookies.set("lang", lang)
    name = staff(app.state.portal, "admin")
    login(client, name)
    return client, name


def _create(client: TestClient, **fields: str) -> object:
    token = csrf_of(client, "/admin/users")
    data = {"display_name": "新同事", "password": PASSWORD, **fields}
    return client.post("/admin/users", data={"csrf_token": token, **data}, follow_redirects=False)


def _last_used(page: str, prefix: str) -> str:
    """The "Last used" cell of the key row with `prefix`."""
    row = next(r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if prefix in r)
    cell = re.search(r'<td data-label="Last used">(.*?)</td>', row)
    assert cell is not None
    return html.unescape(cell.group(1))


def _summary(page: str) -> list[str]:
    block = re.search(r'<div class="alert alert-error".*?</div>', page, re.S)
    assert block is not None
    items = re.findall(r"<li>(.*?)</li>", block.group(0), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)) for item in items]


def test_bad_fields_are_named_with_their_limits_in_chinese(portal_app: FastAPI) -> None:
    admin = _admin(portal_app)
    page = _create(admin, username="x" * 300, role="reviewer")
    assert page.status_code == 422  # type: ignore[attr-defined]
    assert _summary(page.text) == [  # type: ignore[attr-defined]
        "用户名：用户名须为 3 至 40 个字符。",
        "所在区：审核人员须选择所在区或牵头单位（或两者）。",
    ]
    spaced = _create(
        admin, username="张 三", role="supervisor", bureau=next(iter(portal_app.state.portal.pack.units))
    )
    assert _summary(spaced.text) == [  # type: ignore[attr-defined]
        "用户名：用户名只能使用英文字母、数字、点、下划线和连字符，并以字母或数字开头。",
        "牵头单位：监管人员按全市或某一区监管，不按牵头单位，请清空“牵头单位”。",
    ]


def test_errors_and_messages_in_english(portal_app: FastAPI) -> None:
    admin = _admin(portal_app, "en")
    taken = staff(portal_app.state.portal, "expert")
    page = _create(admin, username=taken, role="expert")
    assert _summary(page.text) == ["Username: This user name is taken: choose another."]  # type: ignore[attr-defined]
    assert not re.search(r"[\u4e00-\u9fff]", "".join(_summary(page.text)))  # type: ignore[attr-defined]
    made = _create(admin, username="lin.city-2026", role="supervisor")
    assert made.status_code == 303  # type: ignore[attr-defined]
    listing = admin.get("/admin/users").text
    assert "Account lin.city-2026 (Supervisor) is created." in listing
    assert "The whole city (no district)" in listing


def test_each_account_action_says_whose_account(portal_app: FastAPI) -> None:
    admin = _admin(portal_app)
    name = staff(portal_app.state.portal, "reviewer", district="haizhu")
    target = actor_for_username(portal_app.state.portal, name).user_id
    for path, said in (
        ("sign-out", f"账号 {name} 已在所有设备上退出登录"),
        ("disable", f"账号 {name} 已停用"),
        ("enable", f"账号 {name} 已启用。"),
        ("unlock", f"已解除账号 {name} 的锁定。"),
    ):
        token = csrf_of(admin, "/admin/users")
        answer = admin.post(
            f"/admin/users/{target}/{path}", data={"csrf_token": token}, follow_redirects=False
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/admin/users"
        page = admin.get("/admin/users").text
        assert said in page, path
        assert said not in admin.get("/admin/users").text  # shown once


def test_enterprise_users_name_their_enterprise_and_the_list_is_searched(portal_app: FastAPI) -> None:
    one, one_code = register(client_of(portal_app), name="广州搜索甲科技有限公司")
    other, _ = register(client_of(portal_app), name="广州查找乙智能有限公司")
    admin = _admin(portal_app)
    page = admin.get("/admin/users").text
    assert f'<a href="/enterprises/{one_code}">广州搜索甲科技有限公司</a>' in page
    assert admin.get(f"/enterprises/{one_code}").status_code == 200
    by_enterprise = admin.get("/admin/users", params={"q": "搜索甲"}).text
    assert one in by_enterprise and other not in by_enterprise
    assert "与“搜索甲”匹配的账号：1 个。" in by_enterprise and 'value="搜索甲"' in by_enterprise
    by_username = admin.get("/admin/users", params={"q": other.upper()}).text
    assert other in by_username and one not in by_username
    by_name = admin.get("/admin/users", params={"q": "张会计"}).text
    assert one in by_name and other in by_name
    assert "匹配的账号：0 个" in admin.get("/admin/users", params={"q": "100%_"}).text
    english = _admin(portal_app, "en").get("/admin/users", params={"q": "搜索甲"}).text
    assert "Search by user name, name or enterprise name" in english
    assert "Accounts matching “搜索甲”: 1." in english and ">Enterprise</th>" in english


def test_registration_summary_names_each_field_and_its_limit(portal_app: FastAPI) -> None:
    client = client_of(portal_app)
    token = csrf_of(client, "/register")
    page = client.post(
        "/register",
        data={"csrf_token": token, "username": "u" * 300, "name": "企" * 101, "display_name": "张会计"},
    )
    assert page.status_code == 422
    summary = _summary(page.text)
    assert "统一社会信用代码：此项为必填项。" in summary
    assert "企业名称：内容过长：最多 100 个字。" in summary
    assert "用户名：用户名须为 3 至 40 个字符。" in summary
    assert len(summary) == len(set(summary))  # no two items alike: each names its field


def test_an_admin_edits_a_staff_account_and_its_new_scope_applies_at_next_sign_in(
    portal_app: FastAPI,
) -> None:
    portal = portal_app.state.portal
    admin, admin_name = _admin_named(portal_app)
    name = staff(portal, "reviewer", district="haizhu")
    target = actor_for_username(portal, name).user_id
    reviewer = client_of(portal_app)
    login(reviewer, name)
    page = admin.get(f"/admin/users/{target}").text
    assert f"编辑账号 {name}" in page and 'value="haizhu" selected' in page
    token = csrf_of(admin, f"/admin/users/{target}")
    bad = admin.post(
        f"/admin/users/{target}", data={"csrf_token": token, "display_name": "", "role": "reviewer"}
    )
    assert bad.status_code == 422
    assert _summary(bad.text) == [
        "姓名：此项为必填项。",
        "所在区：审核人员须选择所在区或牵头单位（或两者）。",
    ]
    moved = admin.post(
        f"/admin/users/{target}",
        data={"csrf_token": token, "display_name": "天河审核员", "role": "reviewer", "district": "tianhe"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert f"账号 {name} 已更新" in admin.get("/admin/users").text
    edited = actor_for_username(portal, name)
    assert (edited.district, edited.role) == ("tianhe", "reviewer")
    assert reviewer.get("/review", follow_redirects=False).status_code == 303  # signed out: a new scope
    own = actor_for_username(portal, admin_name).user_id
    token = csrf_of(admin, f"/admin/users/{own}")
    kept = admin.post(
        f"/admin/users/{own}", data={"csrf_token": token, "display_name": "x", "role": "expert"}
    )
    assert kept.status_code == 422 and "管理员不能更改自己的角色" in kept.text


def test_partner_banks_and_keys_from_the_web(portal_app: FastAPI) -> None:
    admin = _admin(portal_app, "en")
    token = csrf_of(admin, "/admin/banks")
    refused = admin.post("/admin/banks", data={"csrf_token": token, "code": "Bad Code", "name": ""})
    assert refused.status_code == 422
    assert _summary(refused.text) == [
        "Code: A code has 2–32 lower-case letters, digits, '-' or '_', starting with a letter or digit.",
        "Chinese name: This field is required.",
    ]
    added = admin.post(
        "/admin/banks", data={"csrf_token": token, "code": "webbank-gz", "name": "Web Bank Guangzhou"}
    )
    assert "Partner bank Web Bank Guangzhou is registered." in added.text
    again = admin.post("/admin/banks", data={"csrf_token": token, "code": "webbank-gz", "name": "x"})
    assert again.status_code == 422 and "A bank already has this code." in again.text
    issued = admin.post(
        "/admin/banks/keys", data={"csrf_token": token, "bank": "webbank-gz", "scopes": ["eligibility:read"]}
    )
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    key = re.search(r'<code class="secret">(pbk_[0-9a-f]{12}_[A-Za-z0-9_-]{43})</code>', issued.text)
    assert key is not None and "Check eligibility" in issued.text
    prefix = key.group(1).split("_")[1]
    listing = admin.get("/admin/banks").text
    assert prefix in listing and key.group(1) not in listing  # the secret is shown once
    assert _last_used(listing, prefix) == "Never"
    api = client_of(portal_app)
    headers = {"Authorization": f"Bearer {key.group(1)}", "Content-Type": "application/json"}
    assert (
        api.post("/api/v1/bank/eligibility", content="{}", headers=headers).status_code == 422
    )  # accepted key
    # The refused call is in the access log, and so is the key's last use: the pinned instant.
    assert _last_used(admin.get("/admin/banks").text, prefix) == "November 27, 2026, 12:00"
    asked = admin.post(f"/admin/banks/keys/{prefix}/revoke", data={"csrf_token": token})
    assert f"Revoke key {prefix}?" in asked.text and "cannot be undone" in asked.text.lower()
    assert api.post("/api/v1/bank/eligibility", content="{}", headers=headers).status_code == 422  # not yet
    revoked = admin.post(f"/admin/banks/keys/{prefix}/revoke", data={"csrf_token": token, "confirm": "yes"})
    assert f"Key {prefix} is revoked" in revoked.text
    assert api.post("/api/v1/bank/eligibility", content="{}", headers=headers).status_code == 401
    expert = client_of(portal_app)
    login(expert, staff(portal_app.state.portal, "expert"))
    assert expert.get("/admin/banks", follow_redirects=False).status_code == 403
