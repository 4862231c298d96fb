"""`portal banks ...` and `portal audit verify` over a real database."""

import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from portal.cli import app
from portal.db.access_log import verify_access_log
from portal.db.engine import make_engine
from portal.db.tables import Bank
from portal.settings import get_settings
from tests.bank.bank_world import BankWorld, loan
from tests.db.tampering import tamper

runner = CliRunner()


@pytest.fixture
def cli_db(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def portal_cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_banks_commands(cli_db: str) -> None:
    assert portal_cli("banks", "add", "丙银行", "--code", "gamma")[0] == 0
    code, out, err = portal_cli("banks", "add", "again", "--code", "gamma")
    assert code == 1 and "already exists" in err and "Traceback" not in err + out
    code, key, err = portal_cli("banks", "key", "gamma", "--scopes", "eligibility:read")
    assert code == 0 and key.startswith("pbk_") and "shown only this once" in err
    prefix = key.split("_")[1]
    assert portal_cli("banks", "key", "gamma", "--scopes", "loans:delete")[0] == 1
    code, rotated, _ = portal_cli("banks", "rotate", prefix)
    assert code == 0 and rotated != key
    code, listing, _ = portal_cli("banks", "list")
    assert code == 0 and prefix in listing and "revoked" in listing and "never used" in listing
    assert key.strip() not in listing and rotated.strip() not in listing
    new_prefix = rotated.split("_")[1]
    assert portal_cli("banks", "revoke", new_prefix)[0] == 0
    code, _, err = portal_cli("banks", "revoke", new_prefix)
    assert code == 1 and "already revoked" in err


def _english_names(url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(url, pooled=False)
    with Session(engine) as session:
        named = session.exec(select(Bank.code, Bank.name_en).order_by(col(Bank.code))).all()
    engine.dispose()
    return [(code, name_en) for code, name_en in named]


def test_banks_add_takes_an_english_name(cli_db: str) -> None:
    code, out, _ = portal_cli("banks", "add", "丁银行广州分行", "--code", "delta", "--name-en", "Delta Bank")
    assert code == 0 and out.strip() == "bank delta added: 丁银行广州分行 (Delta Bank)"
    assert (
        portal_cli("banks", "add", "戊银行", "--code", "epsilon")[1].strip() == "bank epsilon added: 戊银行"
    )
    assert _english_names(cli_db) == [("delta", "Delta Bank"), ("epsilon", None)]
    assert "--name-en TEXT" in re.sub(r"[\s│]+", " ", portal_cli("banks", "add", "--help")[1])
    # A bank without one is given one later; given nothing, it has none again.
    assert portal_cli("banks", "name-en", "epsilon", "Epsilon Bank")[1].strip() == (
        "bank epsilon: English name Epsilon Bank"
    )
    assert portal_cli("banks", "name-en", "delta")[1].strip() == "bank delta: no English name"
    assert _english_names(cli_db) == [("delta", None), ("epsilon", "Epsilon Bank")]
    assert portal_cli("banks", "name-en", "zeta", "Zeta")[0] == 1  # no such bank


def test_audit_verify_catches_a_tampered_access_log_row(
    world: BankWorld, migrated_engine: Engine, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        world.check({"uscc": world.uscc, "product": "credit_risk_compensation", "loan": loan()})
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    try:
        code, out, _ = portal_cli("audit", "verify")
        assert code == 0 and "bank_access_log: ok, 3 rows" in out
        # Hide a refused query from the enterprise by rewriting its outcome.
        tamper(migrated_engine, "UPDATE bank_access_log SET outcome = 'ineligible' WHERE seq = 2")
        code, _, err = portal_cli("audit", "verify")
        assert code == 1 and "bank_access_log: BROKEN at seq 2" in err
    finally:
        get_settings.cache_clear()


def test_a_rewritten_checked_amount_breaks_the_chain(world: BankWorld, migrated_engine: Engine) -> None:
    world.check({"uscc": world.uscc, "product": "credit_risk_compensation", "loan": loan("3000000")})
    with Session(migrated_engine) as session:
        assert verify_access_log(session).ok
    # Raising the checked amount would let a larger loan pass the registration check.
    sql = "UPDATE bank_access_log SET loan_facts = :facts WHERE seq = 1"
    if migrated_engine.dialect.name == "postgresql":
        sql = sql.replace(":facts", "CAST(:facts AS jsonb)")
    tamper(migrated_engine, sql, facts=json.dumps({**loan("20000000"), "bank_is_partner": True}))
    with Session(migrated_engine) as session:
        report = verify_access_log(session)
    assert not report.ok and report.first_broken_seq == 1


def test_clearing_a_checks_open_benefit_breaks_the_chain(world: BankWorld, migrated_engine: Engine) -> None:
    # Eligible with the ratio left open (no pledge kind, no policy tool): no loan may rest on it.
    world.check({"uscc": world.uscc, "product": "credit_risk_compensation", "loan": {"amount": "3000000"}})
    assert world.log()[0].benefit_undetermined == ["compensation_ratio"]
    with Session(migrated_engine) as session:
        assert verify_access_log(session).ok
    # Emptying the list would let a loan be registered on the check.
    sql = "UPDATE bank_access_log SET benefit_undetermined = :open WHERE seq = 1"
    if migrated_engine.dialect.name == "postgresql":
        sql = sql.replace(":open", "CAST(:open AS jsonb)")
    tamper(migrated_engine, sql, open="[]")
    with Session(migrated_engine) as session:
        report = verify_access_log(session)
    assert not report.ok and report.first_broken_seq == 1


def test_banks_list_prints_times_in_the_packs_zone_with_its_offset(
    cli_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pinned day is noon in the pack's zone (04:00 UTC): the listing says 12:00 +08:00, never a
    bare wall time a reader in another zone would misread."""
    monkeypatch.setenv("PORTAL_TODAY", "2026-12-07")
    get_settings.cache_clear()
    assert portal_cli("banks", "add", "丁银行", "--code", "delta")[0] == 0
    code, key, _ = portal_cli("banks", "key", "delta")
    assert code == 0
    assert portal_cli("banks", "revoke", key.split("_")[1])[0] == 0
    code, listing, _ = portal_cli("banks", "list")
    assert code == 0
    assert "issued 2026-12-07 12:00 +08:00\trevoked 2026-12-07 12:00 +08:00\tnever used" in listing
