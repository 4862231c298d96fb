"""免申即享: `portal screen db: --notify` over a migrated database, on SQLite and PostgreSQL."""

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select
from typer.testing import CliRunner

from portal.cli import app
from portal.db.tables import Application, Enterprise, EnterpriseProfile, Notification
from portal.jobs.queue import OUTBOX_TASK
from portal.settings import default_pack_dir, get_settings

HIGH_TECH = {
    "hightech_certified": True,
    "registered_on": "2018-05-10",
    "core_ip": True,
    "tech_in_key_fields": True,
    "employees": 100,
    "st_staff": 30,
    "revenue": "80000000",
    "revenue_3y": "200000000",
    "rd_expense_3y": "10000000",
    "rd_expense_domestic_3y": "9000000",
    "hightech_revenue": "70000000",
    "innovation_score": 80,
    "major_violation_last_year": False,
    "is_small_micro": True,
}


@pytest.fixture
def register(migrated_engine: Engine, migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Three enterprises: A eligible (old profile was not), B eligible but already applied, C not eligible."""
    with Session(migrated_engine) as session:
        ids = []
        for n, (uscc, district) in enumerate(
            [
                ("914401040000000011", "tianhe"),
                ("91440105000000002J", "huangpu"),
                ("914401060000000034", "nansha"),
            ]
        ):
            enterprise = Enterprise(uscc=uscc, name=f"企业{n}", district=district)
            session.add(enterprise)
            session.flush()
            assert enterprise.id is not None
            ids.append(enterprise.id)
        a, b, c = ids
        session.add(EnterpriseProfile(enterprise_id=a, version=1, facts={"enterprise": {"core_ip": False}}))
        session.add(EnterpriseProfile(enterprise_id=a, version=2, facts={"enterprise": HIGH_TECH}))
        session.add(EnterpriseProfile(enterprise_id=b, version=1, facts={"enterprise": HIGH_TECH}))
        session.add(
            EnterpriseProfile(
                enterprise_id=c,
                version=1,
                facts={"enterprise": {**HIGH_TECH, "core_ip": False, "is_small_micro": False}},
            )
        )
        session.flush()
        application = Application(
            enterprise_id=b,
            measure_id="tax.high_tech_enterprise",
            rule_version="2016",
            workflow="municipal",
            state="draft",
            profile_version=1,
            lead_unit="gzsti",
            district="huangpu",
        )
        session.add(application)
        session.commit()
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    monkeypatch.setenv("PORTAL_PACK_DIR", str(default_pack_dir()))
    get_settings.cache_clear()
    yield migrated_engine
    get_settings.cache_clear()


def _notices(engine: Engine) -> list[tuple[int | None, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Notification.enterprise_id, Notification.dedupe_key)).all()
    return sorted((e, k or "") for e, k in rows)


def test_screen_register_and_notify_once(register: Engine, tmp_path: Path) -> None:
    out = tmp_path / "nightly.csv"
    measures = ["--measure", "tax.high_tech_enterprise", "--measure", "procurement.sme_price_deduction"]
    args = ["screen", "db:", "--out", str(out), "--on", "2026-06-30", "--notify", *measures]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.stderr
    with out.open(encoding="utf-8") as fh:
        rows = {(r["row_id"], r["measure"]): r["outcome"] for r in csv.DictReader(fh)}
    with Session(register) as session:
        a, b, c = session.exec(select(Enterprise.id).order_by(Enterprise.id)).all()
    assert rows[(str(a), "tax.high_tech_enterprise")] == "eligible"  # the latest profile counts
    assert rows[(str(c), "tax.high_tech_enterprise")] == "ineligible"
    assert _notices(register) == [
        (a, f"screening:procurement.sme_price_deduction:2022:{a}"),
        (a, f"screening:tax.high_tech_enterprise:2016:{a}"),
        (b, f"screening:procurement.sme_price_deduction:2022:{b}"),  # B applied for high-tech only
    ]
    assert "3 notification(s) written" in first.stderr
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.stderr
    assert "0 notification(s) written" in again.stderr
    assert len(_notices(register)) == 3
    if register.dialect.name == "postgresql":  # the worker is asked to e-mail them now, once
        assert _queued_outbox_runs(register) == 1


def _queued_outbox_runs(engine: Engine) -> int:
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t AND status = 'todo'"),
            {"t": OUTBOX_TASK},
        )
        return int(found.scalar_one())


def test_notify_needs_the_register(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("revenue\n1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["screen", str(source), "--out", str(tmp_path / "o.csv"), "--notify"])
    assert result.exit_code == 2
    assert "--notify needs INPUT db:" in result.stderr


def test_an_unreadable_register_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no' / 'such' / 'portal.sqlite'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["screen", "db:", "--out", str(tmp_path / "o.csv"), "--on", "2026-06-30"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("error: cannot read the enterprise register (")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o.csv").exists()
