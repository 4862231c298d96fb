"""The enterprise's consent page and "谁查询了我的信息", through the real pages with CSRF."""

import re

from tests.bank.bank_world import BankWorld, loan

PASSWORD = "correct horse battery staple"


def csrf_of(world: BankWorld, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', world.client.get(path).text)
    assert match is not None, path
    return match.group(1)


def sign_in(world: BankWorld) -> None:
    token = csrf_of(world, "/login")
    response = world.client.post(
        "/login",
        data={"username": "firm1", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_grant_and_revoke_through_the_page(world: BankWorld) -> None:
    assert world.client.get("/consents", follow_redirects=False).status_code == 303  # sign in first
    sign_in(world)
    page = world.client.get("/consents")
    assert page.status_code == 200 and "乙银行广州分行" in page.text
    form = {"bank": "beta", "products": ["guarantee_fee"], "days": "90"}
    before = world.counts()
    forged = world.client.post("/consents", data=form, follow_redirects=False)
    assert forged.status_code == 403
    assert world.counts() == before
    token = csrf_of(world, "/consents")
    bad = world.client.post("/consents", data={**form, "products": [], "csrf_token": token})
    assert bad.status_code == 422
    granted = world.client.post("/consents", data={**form, "csrf_token": token}, follow_redirects=False)
    assert granted.status_code == 303
    body = {"uscc": world.uscc, "product": "guarantee_fee", "loan": loan(government_guarantee=True)}
    assert world.check(body, key=world.other_key).status_code == 200
    listing = world.client.get("/consents").text
    consent_id = max(int(i) for i in re.findall(r"/consents/(\d+)/revoke", listing))
    revoked = world.client.post(
        f"/consents/{consent_id}/revoke", data={"csrf_token": token}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert world.check(body, key=world.other_key).status_code == 403


def test_access_log_page_shows_every_query(world: BankWorld) -> None:
    world.check({"uscc": world.uscc, "product": "credit_risk_compensation", "loan": loan()})
    world.check({"uscc": world.uscc, "product": "guarantee_fee", "loan": loan()}, key=world.other_key)
    sign_in(world)
    page = world.client.get("/access-log")
    assert page.status_code == 200
    text = page.text
    assert "谁查询了我的信息" in text
    assert "甲银行广州分行" in text and "乙银行广州分行" in text
    assert "符合条件" in text and "未获授权，已拒绝" in text
    # The facts the bank read, by their labels: never a fact name (issue 11 §4).
    assert "属于中小企业（工信部联企业〔2011〕300号）" in text and "enterprise.is_sme" not in text
    # The refused query read nothing, and says so rather than leaving the cell empty.
    assert "未读取任何信息" in text and 'data-label="读取的信息"></td>' not in text


def test_a_consent_lists_its_products_as_each_language_does(world: BankWorld) -> None:
    sign_in(world)
    token = csrf_of(world, "/consents")
    both = {"bank": "beta", "products": ["guarantee_fee", "credit_risk_compensation"], "days": "90"}
    granted = world.client.post("/consents", data={**both, "csrf_token": token}, follow_redirects=False)
    assert granted.status_code == 303
    world.client.cookies.set("lang", "en")
    english = world.client.get("/consents").text
    cell = re.search(r'data-label="Products">([^<]+)</td>', english)
    assert cell is not None and "; " in cell.group(1) and "、" not in cell.group(1), cell
    world.client.cookies.set("lang", "zh")
    assert "、" in world.client.get("/consents").text
