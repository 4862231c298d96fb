"""/screening over real HTTP: upload, follow the progress, read and download what a run found.

On SQLite the run goes to a thread of the app (PORTAL_JOBS in-process); on PostgreSQL to
procrastinate, and a real `portal worker --drain` process runs it. Every wait is bounded.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import FACTS, client_of, csrf_of, login, portal_app, register, save_profile, staff
from sqlmodel import select

from portal.db.tables import Enterprise, ScreeningRun
from portal.rules.criteria import leaves
from portal.services import screening_runs
from portal.services.enterprises import actor_for_username
from portal.web.i18n import Translator
from portal.web.screening_reasons import reworded

__all__ = ["portal_app"]

PORTAL = str(Path(sys.executable).parent / "portal")
MEASURE = "qualification.st_sme"  # the demo firm's facts make it eligible
MEASURE_ZH = "科技型中小企业评价入库"


def _text(value: object) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def upload_csv(rows: int = 3, bad_row: int | None = None) -> bytes:
    """The demo firm `rows` times; `bad_row` (1-based) has a BEL character in a fact the measure reads."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    facts = {k: v for k, v in FACTS["enterprise"].items() if k != "name"}
    writer.writerow(["row_id", *facts])
    for n in range(1, rows + 1):
        values = [_text(v) for v in facts.values()]
        if n == bad_row:
            values[list(facts).index("employees")] = "18\x070"
        writer.writerow([f"R{n}", *values])
    return buffer.getvalue().encode("utf-8")


def _start(client: TestClient, **fields: object) -> object:
    token = csrf_of(client, "/screening")
    data: dict[str, object] = {"csrf_token": token, "source": "file", "measures": [MEASURE]}
    upload = fields.pop("upload", ("register.csv", upload_csv(3, bad_row=2)))
    data.update(fields)
    files = {"file": (*upload, "text/csv")} if upload else None  # type: ignore[misc]
    return client.post("/screening", data=data, files=files, follow_redirects=False)


def _finish(app: FastAPI, client: TestClient, run_id: int) -> dict[str, object]:
    """Let the run end: a worker process on PostgreSQL; on SQLite the app's own thread."""
    settings = app.state.settings
    if settings.jobs_runner == "worker":
        env = {**os.environ, "DATABASE_URL": settings.database_url}
        env.pop("PORTAL_JOBS", None)
        worker = subprocess.run(
            [PORTAL, "worker", "--drain"], env=env, capture_output=True, timeout=180, check=False
        )
        assert worker.returncode == 0, worker.stdout.decode() + worker.stderr.decode()
    pause = threading.Event()
    for _ in range(600):  # bounded: a few seconds at most on this machine
        state = client.get(f"/screening/{run_id}.json").json()
        if state["finished"]:
            return dict(state)
        pause.wait(0.1)
    raise AssertionError(f"run {run_id} did not finish: {state}")


def _admin(app: FastAPI) -> TestClient:
    return _signed_in(app)[0]


def _signed_in(app: FastAPI) -> tuple[TestClient, str]:
    client = client_of(app)
    username = staff(app.state.portal, "admin")
    login(client, username)
    return client, username


def test_an_upload_runs_and_its_page_shows_progress_results_and_rejects(portal_app: FastAPI) -> None:
    client = _admin(portal_app)
    page = client.get("/screening")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert MEASURE_ZH in page.text and MEASURE not in page.text.replace(f'value="{MEASURE}"', "")

    started = _start(client)
    assert started.status_code == 303  # type: ignore[attr-defined]
    location = started.headers["location"]  # type: ignore[attr-defined]
    run_id = int(location.rsplit("/", 1)[1])

    state = _finish(portal_app, client, run_id)
    assert state == {
        "id": run_id,
        "status": "succeeded",
        "status_label": "已完成",
        "rows_done": 3,
        "rows_total": 3,
        "rows_rejected": 1,
        "percent": 100,
        "text": "已处理 3 / 3 行",
        "finished": True,
    }
    page = client.get(location)
    assert page.status_code == 200
    assert 'http-equiv="refresh"' not in page.text and "screening-progress.js" not in page.text
    assert MEASURE_ZH in page.text and MEASURE not in page.text
    # The rejected row: the fact's label, the problem in words, the value with its BEL escaped.
    assert "职工总数：不是整数（18\\u00070）" in page.text and "\x07" not in page.text
    assert "第 1 行为列名" in page.text and ">第 3 行</td>" in page.text
    assert "employees" not in page.text
    assert "register.csv" in page.text

    hits = client.get(f"{location}/hits.csv")
    assert hits.status_code == 200 and hits.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(hits.content.decode("utf-8-sig"))))
    assert rows[0] == [
        *("行标识", "统一社会信用代码", "企业名称", "政策", "政策版本", "测算结果"),
        "表格中的行号（第 1 行为列名）",  # added last: the row as the spreadsheet shows it
    ]
    assert [(r[0], r[3]) for r in rows[1:]] == [("R1", MEASURE_ZH), ("R3", MEASURE_ZH)]
    rejects = client.get(f"{location}/rejects.csv").content.decode("utf-8-sig")
    # Numbered as a spreadsheet shows the upload: its second data row is the file's third line.
    assert rejects.splitlines() == ["行号,原因", "第 3 行,职工总数：不是整数（18\\u00070）"]

    client.cookies.set("lang", "en")
    english = client.get(f"{location}/hits.csv").content.decode("utf-8-sig")
    assert english.splitlines()[0] == (
        "Row id,USCC,Enterprise name,Measure,Measure version,Computed benefits,"
        "Row in the spreadsheet (row 1 is the header)"
    )
    page = client.get(location).text
    assert "Screening run #" in page and "Finished" in page and "已完成" not in page
    assert "Total staff: not a whole number (18\\u00070)" in page
    assert "row 1 is the header" in page and ">Row 3</td>" in page
    assert (
        client.get(f"{location}/rejects.csv").content.decode("utf-8-sig").splitlines()[1].startswith("Row 3,")
    )
    listing = client.get("/screening").text
    assert f'href="/screening/{run_id}"' in listing and "3 of 3 rows done" in listing


def test_a_running_run_refreshes_itself_without_inline_script(portal_app: FastAPI) -> None:
    """A run nobody has picked up yet: the page polls (script from /static) or refreshes (noscript)."""
    client, username = _signed_in(portal_app)
    run = screening_runs.start_run(
        portal_app.state.portal,
        actor_for_username(portal_app.state.portal, username),
        upload=screening_runs.Upload("later.csv", upload_csv(1)),
        measures=[],
        notify=False,
    )
    page = client.get(f"/screening/{run.id}")
    assert page.status_code == 200
    assert '<noscript><meta http-equiv="refresh" content="4"></noscript>' in page.text
    assert '<script src="/static/js/screening-progress.js" defer></script>' in page.text
    assert f'data-poll="/screening/{run.id}.json"' in page.text
    assert "<script>" not in page.text and "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/js/screening-progress.js").status_code == 200
    state = client.get(f"/screening/{run.id}.json").json()
    assert (state["status"], state["finished"], state["text"]) == ("queued", False, "已处理 0 行")


def test_bad_input_names_each_field_in_a_summary_and_writes_nothing(portal_app: FastAPI) -> None:
    client = _admin(portal_app)
    before = client.get("/screening").text.count('href="/screening/')
    unknown = _start(client, upload=("colours.csv", b"row_id,colour\nA,red\n"), notify="on")
    assert unknown.status_code == 422  # type: ignore[attr-defined]
    html = unknown.text  # type: ignore[attr-defined]
    assert "表单有 2 处需要修改" in html
    # The summary names each field, then says what is wrong with it.
    assert '<a href="#field-file">企业数据文件：文件中有无法识别的列：colour。' in html
    assert '<a href="#field-notify">通知符合条件的企业：通知只适用于本平台企业库' in html
    missing = _start(client, upload=None)
    assert missing.status_code == 422 and "请选择要上传的文件。" in missing.text  # type: ignore[attr-defined]
    no_source = _start(client, source="")
    assert no_source.status_code == 422 and '<a href="#field-source">' in no_source.text  # type: ignore[attr-defined]
    client.cookies.set("lang", "en")
    wrong = _start(client, upload=("data.xlsx", b"PK\x03\x04"))
    assert "The file must be a CSV (.csv) or Parquet (.parquet) file" in wrong.text  # type: ignore[attr-defined]
    assert client.get("/screening").text.count('href="/screening/') == before


def test_an_unreadable_file_gives_a_failed_run_with_a_readable_message(portal_app: FastAPI) -> None:
    client = _admin(portal_app)
    broken = upload_csv(1) + b"R9,only,three\n"
    started = _start(client, upload=("broken.csv", broken), measures=[])
    run_id = int(started.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    assert _finish(portal_app, client, run_id)["status"] == "failed"
    page = client.get(f"/screening/{run_id}").text
    assert "筛查未能完成" in page and "文件无法读取：upload.csv: cannot be read" in page
    client.cookies.set("lang", "en")
    assert "The file cannot be read: upload.csv: cannot be read" in client.get(f"/screening/{run_id}").text


def test_the_form_needs_its_csrf_token(portal_app: FastAPI) -> None:
    client = _admin(portal_app)
    response = client.post(
        "/screening",
        data={"source": "register"},
        files={"file": ("x.csv", b"row_id\n", "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 403


PAGES = [
    "/screening",
    "/screening/{id}",
    "/screening/{id}.json",
    "/screening/{id}/rejects.csv",
    "/screening/columns",
    "/screening/template.csv",
]
# role (and district) → (may read the pages, may start a run)
MATRIX = {
    ("admin", None): (True, True),
    ("supervisor", None): (True, True),
    ("supervisor", "tianhe"): (False, False),  # a run's rows carry no district: outside their scope
    ("reviewer", "tianhe"): (False, False),
    ("reviewer", None): (False, False),
    ("expert", None): (False, False),
    ("enterprise", None): (False, False),
}


@pytest.mark.parametrize(("who", "allowed"), MATRIX.items(), ids=lambda v: str(v))
def test_who_may_see_and_start_screening_runs(
    portal_app: FastAPI, who: tuple[str, str | None], allowed: tuple[bool, bool]
) -> None:
    portal = portal_app.state.portal
    admin = _admin(portal_app)
    run_id = int(_start(admin).headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    _finish(portal_app, admin, run_id)
    role, district = who
    client = client_of(portal_app)
    if role == "enterprise":
        register(client)
    else:
        login(client, staff(portal, role, district=district, bureau="gzdev" if role == "reviewer" else None))
    may_read, may_start = allowed
    for page in PAGES:
        status = client.get(page.format(id=run_id), follow_redirects=False).status_code
        assert status == (200 if may_read else 403), (page, status)
    if not may_read:
        return
    listing = client.get("/screening").text
    assert ('action="/screening"' in listing) is may_start
    token = csrf_of(client, "/screening")
    posted = client.post(
        "/screening",
        data={"csrf_token": token, "source": "file", "measures": [MEASURE]},
        files={"file": ("r.csv", upload_csv(1), "text/csv")},
        follow_redirects=False,
    )
    assert posted.status_code == (303 if may_start else 403)


def test_signed_out_visitors_go_to_the_login_page(portal_app: FastAPI) -> None:
    response = client_of(portal_app).get("/screening", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("lang", "reason", "shown"),
    [
        ("zh", "revenue: negative money (-1); district: not one of tianhe, haizhu (x; y)",
         "上年度销售（营业）收入：金额不能为负数（-1）；注册地所在区：不是允许的取值（x; y）"),
        ("en", "uscc: invalid USCC (12\\u202e3)",
         "Unified social credit code: not a valid USCC (12\\u202e3)"),
        ("en", "rd_expense: more than 6 decimal places or too large (0.1234567)",
         "R&D expense of the latest year: too many decimal places or too large (0.1234567)"),
        ("zh", "innovation_score: outside the allowed range (150)",
         "高新技术企业创新能力评价得分（满分100）：超出该项允许的取值范围（150）"),
        ("zh", "a reason in no known shape", "a reason in no known shape"),
    ],
)  # fmt: skip
def test_a_reject_reason_names_facts_by_their_labels(
    portal_app: FastAPI, lang: str, reason: str, shown: str
) -> None:
    assert reworded(reason, portal_app.state.portal.pack.facts, Translator(lang)) == shown  # type: ignore[arg-type]


def test_the_register_with_notify_says_how_many_were_told(portal_app: FastAPI) -> None:
    client = _admin(portal_app)
    enterprise = client_of(portal_app)
    register(enterprise)
    save_profile(enterprise)  # the register screens each enterprise's latest profile
    token = csrf_of(client, "/screening")
    started = client.post(
        "/screening", data={"csrf_token": token, "source": "register", "notify": "on"}, follow_redirects=False
    )
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert _finish(portal_app, client, int(location.rsplit("/", 1)[1]))["status"] == "succeeded"
    page = client.get(location).text
    told = re.search(r"已通知 (\d+) 项（企业 × 政策）", page)
    assert "本平台企业库" in page and told is not None and int(told.group(1)) >= 1
    exported = client.get(f"{location}/hits.csv").content.decode("utf-8-sig")
    header, *hits = list(csv.reader(io.StringIO(exported)))
    assert header == ["统一社会信用代码", "企业名称", "政策", "政策版本", "测算结果"]  # by USCC, not our ids
    # Each row names the registered enterprise, and a benefit reads as people write it.
    with portal_app.state.portal.reading() as session:
        names = {e.uscc: e.name for e in session.exec(select(Enterprise)).all()}
    assert hits and all(row[1] == names[row[0]] for row in hits)
    benefits = [row[4] for row in hits if row[4]]
    assert benefits and all("：" in b and not re.search(r"\b0\.\d", b) for b in benefits), benefits


def test_the_form_links_the_columns_and_a_filled_template_runs_clean(portal_app: FastAPI) -> None:
    client = _admin(portal_app)
    assert 'href="/screening/columns"' in client.get("/screening").text
    page = client.get("/screening/columns").text
    # The header to type, its meaning and its format in words; an enumeration's values with labels.
    assert "<kbd>employees</kbd>" in page and "职工总数" in page and "不小于 0 的整数" in page
    assert "<kbd>tianhe</kbd>（天河区）" in page and "YYYY-MM-DD" in page
    assert "金额（元）" in page and "true（是）或 false（否）" in page
    assert "不小于 0 的整数。请填写 0 至 100 之间的数。" in page  # the range as the check words it
    client.cookies.set("lang", "en")
    english = client.get("/screening/columns").text
    assert "Columns of a screening file" in english and "<kbd>tianhe</kbd> (Tianhe)" in english
    assert "An amount in yuan" in english and "职工总数" not in english
    assert "A whole number, not negative. Enter a number from 0 to 100." in english
    client.cookies.set("lang", "zh")

    template = client.get("/screening/template.csv")
    assert template.headers["content-type"].startswith("text/csv")
    assert template.content.startswith("\ufeff".encode())
    header, example = list(csv.reader(io.StringIO(template.content.decode("utf-8-sig"))))
    assert header[:2] == ["row_id", "uscc"] and "employees" in header and "name" not in header
    # One example row, marked in its row_id: a valid value in every column, as the page says.
    assert example[0] == "#example" and len(example) == len(header)
    shown = dict(zip(header, example, strict=True))
    assert shown["employees"] == "10" and shown["revenue"] == "1500000.00"
    assert shown["registered_on"] == "2024-03-01" and shown["hightech_certified"] == "true"
    assert "#example" in page and "不会被读取" in page and "never reads it" in english
    assert "不会被读取" in client.get("/screening").text
    # Filled in as a clerk would, in the template's own column order: every row reads, none is refused.
    facts = {k: _text(v) for k, v in FACTS["enterprise"].items()}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerow(example)  # kept, as a clerk may: never read as an enterprise
    writer.writerow(["R1", *(facts.get(name, "") for name in header[1:])])
    started = _start(client, upload=("template.csv", "\ufeff".encode() + buffer.getvalue().encode()))
    location = started.headers["location"]  # type: ignore[attr-defined]
    state = _finish(portal_app, client, int(location.rsplit("/", 1)[1]))
    assert state["status"] == "succeeded" and state["rows_rejected"] == 0
    hits = list(csv.reader(io.StringIO(client.get(f"{location}/hits.csv").content.decode("utf-8-sig"))))
    assert [row[0] for row in hits[1:]] == ["R1"]
    # Its values all read: the same row under an ordinary row_id is screened, nothing refused.
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, ["X1", *example[1:]]])
    started = _start(client, upload=("example.csv", buffer.getvalue().encode()))
    state = _finish(portal_app, client, int(started.headers["location"].rsplit("/", 1)[1]))  # type: ignore[attr-defined]
    assert state["status"] == "succeeded" and state["rows_done"] == 1 and state["rows_rejected"] == 0


def _visible(html: str, start: str) -> str:
    """The text a reader sees from the element with id `start` to the end of its section."""
    part = html.split(f'id="{start}">', 1)[1].split("</section>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part))


def test_the_run_page_says_which_criteria_kept_enterprises_out(portal_app: FastAPI) -> None:
    """Four rows: one eligible, two over the staff limit (one also over the sales limit), one
    without its staff number. The page names the criteria in words, most enterprises first."""
    facts = {k: _text(v) for k, v in FACTS["enterprise"].items() if k != "name"}
    changes: list[dict[str, str]] = [
        {},
        {"employees": "600"},
        {"employees": "600", "revenue": "300000000"},
        {"employees": ""},
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row_id", *facts])
    for n, changed in enumerate(changes, start=1):
        writer.writerow([f"R{n}", *(changed.get(k, v) for k, v in facts.items())])
    client = _admin(portal_app)
    started = _start(client, upload=("reasons.csv", buffer.getvalue().encode()))
    location = started.headers["location"]  # type: ignore[attr-defined]
    assert _finish(portal_app, client, int(location.rsplit("/", 1)[1]))["status"] == "succeeded"
    rule = portal_app.state.portal.pack.select(MEASURE, portal_app.state.portal.today())
    codes = [leaf.id for leaf in leaves(rule.criteria)] + ["enterprise.", "failed", "unknown"]

    page = client.get(location).text
    why = _visible(page, "run-reasons-title")
    assert why.startswith("不符合的原因 ") and "一家企业可能同时不满足多项条件" in why
    assert f"{MEASURE_ZH} 不符合 2 家，待补充信息 1 家" in why
    assert "未满足的条件 条件 企业数 职工总数不超过500人 2 年销售收入不超过2亿元 1 " in why
    assert "无法判断的条件（缺少信息） 条件 判断所需信息 企业数 职工总数不超过500人 职工总数 1 " in why
    assert not [code for code in codes if code in why]

    client.cookies.set("lang", "en")
    why = _visible(client.get(location).text, "run-reasons-title")
    assert why.startswith("Why not eligible ") and "One enterprise can fail several criteria" in why
    assert "2 not eligible, 1 needing more facts" in why
    assert "Criteria not met Criterion Enterprises No more than 500 staff 2 Annual sales of no" in why
    assert "Information it needs Enterprises No more than 500 staff Total staff 1 " in why
    assert not [code for code in codes if re.search(rf"\b{re.escape(code)}\b", why)]
    assert "职工" not in why


def test_a_run_stored_before_reasons_were_counted_shows_none(portal_app: FastAPI) -> None:
    client = _admin(portal_app)
    location = _start(client).headers["location"]  # type: ignore[attr-defined]
    run_id = int(location.rsplit("/", 1)[1])
    _finish(portal_app, client, run_id)
    portal = portal_app.state.portal
    with portal.transaction() as session:
        run = session.get(ScreeningRun, run_id)
        assert run is not None and run.reasons == {MEASURE: {"failed": {}, "unknown": {}}}
        run.reasons = None
    page = client.get(location)
    assert page.status_code == 200 and "筛查结果" in page.text
    assert "不符合的原因" not in page.text and 'id="run-reasons-title"' not in page.text


def _demo_firm_and(
    app: FastAPI, client: TestClient, name: str, changed: dict[str, str]
) -> tuple[str, list[str]]:
    """A finished run over two rows, the demo firm (R1) and it with `changed` (R2): its page and
    the measure's criterion ids, which the page must never show."""
    facts = {k: _text(v) for k, v in FACTS["enterprise"].items() if k != "name"}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row_id", *facts])
    writer.writerow(["R1", *facts.values()])
    writer.writerow(["R2", *(changed.get(k, v) for k, v in facts.items())])
    started = _start(client, upload=(name, buffer.getvalue().encode()))
    location = started.headers["location"]  # type: ignore[attr-defined]
    assert _finish(app, client, int(location.rsplit("/", 1)[1]))["status"] == "succeeded"
    rule = app.state.portal.pack.select(MEASURE, app.state.portal.today())
    return location, [leaf.id for leaf in leaves(rule.criteria)]


def test_an_any_one_of_group_is_one_reason_and_no_count_of_none_is_said(portal_app: FastAPI) -> None:
    """Two rows: one eligible, one that meets none of the measure's "any one of" ways in (no
    certificate, award, institute or standard, and no S&T staff). The page shows the group once,
    with its alternatives in the criteria's words beneath; and with no undetermined row, the
    measure's line says how many are not eligible and nothing about "0 needing more facts"."""
    none_met = {"hightech_certified": "false", "provincial_rd_institution": "false", "st_staff": "0"}
    client = _admin(portal_app)
    location, codes = _demo_firm_and(portal_app, client, "any.csv", none_met)

    why = _visible(client.get(location).text, "run-reasons-title")
    assert f"{MEASURE_ZH} 不符合 1 家 未满足的条件" in why and "0 家" not in why
    assert (
        "以下条件均不满足（满足其一即可）： 持有有效期内高新技术企业资格证书，可直接确认入库 "
        "近五年获得国家级科技奖励并在获奖单位中排名前三，可直接确认入库 "
        "拥有经认定的省部级以上研发机构，可直接确认入库 "
        "近五年主导制定过国际标准、国家标准或行业标准，可直接确认入库 "
        "科技人员指标得分不得为0分（科技人员占比不低于10%）；"
        "科技人员、研发投入、科技成果三项指标综合评价得分不低于60分 1 "
    ) in why
    assert why.count("持有有效期内高新技术企业资格证书") == 1
    assert not [code for code in codes if re.search(rf"\b{re.escape(code)}\b", why)]

    client.cookies.set("lang", "en")
    why = _visible(client.get(location).text, "run-reasons-title")
    assert "1 not eligible Criteria not met" in why and "0 needing" not in why
    assert (
        "None of these was met (any one suffices): A valid high-tech certificate qualifies directly " in why
    )
    assert "The S&amp;T staff score must not be zero (a share of at least 10%); The combined score" in why
    assert "A valid high-tech" in why and why.count("A valid high-tech certificate") == 1


def test_an_any_one_of_group_that_cannot_be_judged_is_one_reason(portal_app: FastAPI) -> None:
    """A row that meets none of the "any one of" ways in and has no high-tech certificate answer
    is undetermined for the group: the page shows the group once, its alternatives beneath in
    the criteria's words and the facts it needs, not each alternative as its own row."""
    unjudged = {"hightech_certified": "", "provincial_rd_institution": "false", "st_staff": "0"}
    client = _admin(portal_app)
    location, codes = _demo_firm_and(portal_app, client, "unknown-any.csv", unjudged)

    why = _visible(client.get(location).text, "run-reasons-title")
    assert f"{MEASURE_ZH} 待补充信息 1 家 无法判断的条件" in why
    assert (
        "以下条件无一确认满足，其中有的因缺少信息无法判断（满足其一即可）： "
        "持有有效期内高新技术企业资格证书，可直接确认入库 "
        "近五年获得国家级科技奖励并在获奖单位中排名前三，可直接确认入库 "
    ) in why
    assert why.count("持有有效期内高新技术企业资格证书") == 1
    # What judging it needs: the facts of the alternatives it could not judge, the missing one.
    assert "综合评价得分不低于60分 持有有效期内的高新技术企业证书 1 " in why
    assert not [code for code in codes if re.search(rf"\b{re.escape(code)}\b", why)]

    client.cookies.set("lang", "en")
    why = _visible(client.get(location).text, "run-reasons-title")
    assert "1 needing more facts Criteria that could not be judged" in why
    # A run counted before kept each alternative it could not judge under its own id: still read.
    run_id = int(location.rsplit("/", 1)[1])
    with portal_app.state.portal.transaction() as session:
        run = session.get(ScreeningRun, run_id)
        assert run is not None and run.reasons is not None
        [group] = run.reasons[MEASURE]["unknown"]
        run.reasons = {MEASURE: {"failed": {}, "unknown": {group.split(":", 1)[1]: 1}}}
    older = _visible(client.get(location).text, "run-reasons-title")
    assert "Information it needs Enterprises A valid high-tech certificate qualifies directly " in older
    assert "any one suffices" not in older
    assert (
        "None of these was found met, and some could not be judged for want of information "
        "(any one suffices): A valid high-tech certificate qualifies directly "
    ) in why
    assert why.count("A valid high-tech certificate") == 1
    # "score" and "revenue" are ids and English words too: the ids no sentence holds stay out.
    assert not [code for code in codes if "_" in code and code in why]


def test_progress_counts_firms_and_the_hits_say_the_row_a_spreadsheet_shows(portal_app: FastAPI) -> None:
    """A filled-in template (its example row kept, an empty line between firms): the progress
    counts the three firms, and the download adds the row each hit is on in the spreadsheet,
    under a header that says so; the page says what the numbers mean. Its other columns stay."""
    lines = upload_csv(3).decode("utf-8").splitlines(keepends=True)
    example = lines[1].replace("R1", "#example", 1)
    content = "".join([lines[0], example, lines[1], "\n", lines[2], lines[3]]).encode("utf-8")
    client = _admin(portal_app)
    location = _start(client, upload=("filled.csv", content)).headers["location"]  # type: ignore[attr-defined]
    state = _finish(portal_app, client, int(location.rsplit("/", 1)[1]))
    assert (state["rows_done"], state["rows_total"], state["text"]) == (3, 3, "已处理 3 / 3 行")
    page = client.get(location).text
    assert "已处理 3 / 3 行" in page and "“表格中的行号”与用表格软件" in page
    hits = list(csv.reader(io.StringIO(client.get(f"{location}/hits.csv").content.decode("utf-8-sig"))))
    assert hits[0][0] == "行标识" and hits[0][-1] == "表格中的行号（第 1 行为列名）"
    assert [(row[0], row[-1]) for row in hits[1:]] == [("R1", "3"), ("R2", "5"), ("R3", "6")]

    # Without a row_id, the first column keeps the data row; the last is the spreadsheet's row.
    plain = "".join(line.split(",", 1)[1] for line in [lines[0], lines[1], "(empty),\n", lines[2]])
    location = _start(client, upload=("plain.csv", plain.encode())).headers["location"]  # type: ignore[attr-defined]
    _finish(portal_app, client, int(location.rsplit("/", 1)[1]))
    client.cookies.set("lang", "en")
    assert "last column, Row in the spreadsheet, is the row a spreadsheet" in client.get(location).text
    hits = list(csv.reader(io.StringIO(client.get(f"{location}/hits.csv").content.decode("utf-8-sig"))))
    assert hits[0][0] == "Row" and hits[0][-1] == "Row in the spreadsheet (row 1 is the header)"
    assert [(row[0], row[-1]) for row in hits[1:]] == [("1", "2"), ("2", "4")]
    client.cookies.set("lang", "zh")
