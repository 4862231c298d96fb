"""免申即享 end to end over the real CLI and HTTP (issue 10 §6): `portal screen db: --notify` opens
a case; the enterprise finds it in its applications and inbox and confirms it in one step."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI
from portal_helpers import client_of, csrf_of, portal_app, register, save_profile
from sqlalchemy import func
from sqlmodel import select

from portal.db.tables import Application

__all__ = ["portal_app"]


def _screen(app: FastAPI, out: Path) -> None:
    """The nightly job as an operator runs it, on the app's own database."""
    env = {
        **os.environ,
        "DATABASE_URL": str(app.state.portal.engine.url.render_as_string(hide_password=False)),
        "PORTAL_DATA_DIR": str(app.state.portal.data_dir),
    }
    command = [str(Path(sys.executable).with_name("portal")), "screen", "db:", "--out", str(out), "--notify"]
    command += ["--measure", "subsidy.algorithm_filing"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_screening_opens_a_case_the_enterprise_confirms_in_one_step(
    portal_app: FastAPI, tmp_path: Path
) -> None:
    client = client_of(portal_app)
    register(client, name="广州免申即享科技有限公司")
    save_profile(client)
    _screen(portal_app, tmp_path / "first.parquet")
    listing = client.get("/applications").text
    assert "免申即享待企业确认" in listing
    inbox = client.get("/inbox").text
    link = re.search(r'href="(/applications/(\d+)/confirm)"', inbox)
    assert link is not None, inbox[-3000:]
    application_id = int(link.group(2))
    page = client.get(link.group(1)).text
    assert "免申即享确认" in page and "收款账户" in page
    token = csrf_of(client, link.group(1))
    version = re.search(r'name="expected_version" value="(\d+)"', page)
    assert version is not None
    data = {"csrf_token": token, "expected_version": version.group(1), "bank_name": "", "account_number": "x"}
    refused = client.post(link.group(1), data=data, follow_redirects=False)
    assert refused.status_code == 422 and "请填写8至30位数字的银行账号" in refused.text
    # The summary names each field and links to it (issue 11 §3).
    assert re.search(r'href="#field-account_number">银行账号：请填写8至30位', refused.text)
    assert 'href="#field-bank_name">开户银行（含支行）：' in refused.text
    data.update(bank_name="中国银行广州海珠支行", account_number="6217857000001234567")
    done = client.post(link.group(1), data=data, follow_redirects=False)
    assert done.status_code == 303
    case = client.get(f"/applications/{application_id}").text
    assert "已提交待受理" in case
    # The nightly re-run opens nothing new.
    _screen(portal_app, tmp_path / "second.parquet")
    with portal_app.state.portal.reading() as session:
        total = session.exec(
            select(func.count()).select_from(Application).where(Application.id == application_id)
        ).one()
        mine = session.exec(
            select(func.count())
            .select_from(Application)
            .where(Application.measure_id == "subsidy.algorithm_filing")
            .where(Application.enterprise_id == session.get(Application, application_id).enterprise_id)  # type: ignore[union-attr]
        ).one()
    assert (total, mine) == (1, 1)
    client.get("/lang/en?next=/applications")
    english = client.get(f"/applications/{application_id}").text
    assert "Offer without application" in english and "Confirm and receive" in english
