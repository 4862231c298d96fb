"""Engine settings, transactions and column round trips, on SQLite and PostgreSQL."""

import contextlib
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from portal.db.canonical import NotStorableError
from portal.db.engine import DatabaseURLError, make_engine, parse_database_url, session_scope
from portal.db.tables import (
    Application,
    Bank,
    BankAccessLog,
    Enterprise,
    EnterpriseProfile,
    Loan,
    Notification,
    User,
)


def test_sqlite_engine_creates_its_directory_and_sets_wal_foreign_keys_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/a/b/portal.db")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 15_000
        assert (tmp_path / "a" / "b" / "portal.db").is_file()
    finally:
        engine.dispose()


def test_sqlite_writers_queue_instead_of_failing(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a read-then-write transaction waits for the other writer."""
    engine = make_engine(f"sqlite:///{tmp_path}/portal.db")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(20):
                with engine.begin() as connection:
                    n = connection.exec_driver_sql("SELECT n FROM counter").scalar_one()
                    connection.exec_driver_sql(f"UPDATE counter SET n = {n + 1}")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar_one() == 80
    engine.dispose()
    assert errors == []


def test_a_process_hands_the_sqlite_write_lock_on_in_turn(tmp_path: Path) -> None:
    """A second read-write session waits in the process before BEGIN, while a reader goes on.

    Events, not clocks: the writer is held open until the second one is seen waiting.
    """
    engine = make_engine(f"sqlite:///{tmp_path}/portal.db")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    inside, release, second_done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with session_scope(engine) as session:
            session.connection().exec_driver_sql("UPDATE counter SET n = n + 1")
            inside.set()
            release.wait(timeout=60)

    def second() -> None:
        with session_scope(engine) as session:
            session.connection().exec_driver_sql("UPDATE counter SET n = n * 10")
        second_done.set()

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(timeout=60)
    waiter = threading.Thread(target=second)
    waiter.start()
    with session_scope(engine, read_only=True) as session:  # readers never queue
        assert session.connection().exec_driver_sql("SELECT n FROM counter").scalar_one() == 0
    assert not second_done.is_set()
    release.set()
    holder.join()
    waiter.join()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar_one() == 10  # in turn
    engine.dispose()


def test_database_urls() -> None:
    assert parse_database_url("postgresql://u@h/portal").drivername == "postgresql+psycopg"
    assert parse_database_url("postgresql+psycopg://u@h/portal").drivername == "postgresql+psycopg"
    assert parse_database_url("sqlite:///./var/portal.db").database == "./var/portal.db"
    with pytest.raises(DatabaseURLError, match="psycopg"):
        parse_database_url("postgresql+psycopg2://u:secret@h/portal")
    with pytest.raises(DatabaseURLError, match="only sqlite"):
        parse_database_url("mysql://u:secret@h/portal")
    with pytest.raises(DatabaseURLError, match="not a database URL"):
        parse_database_url("portal.db")


def test_mysql_password_is_not_shown() -> None:
    with pytest.raises(DatabaseURLError) as raised:
        parse_database_url("mysql://u:secret@h/portal")
    assert "secret" not in str(raised.value)


def test_session_scope_writes_nothing_when_the_block_fails(migrated_engine: Engine) -> None:
    with pytest.raises(RuntimeError, match="injected"), session_scope(migrated_engine) as session:
        session.add(Enterprise(uscc="91350100M000100Y43", name="半途而废", district="tianhe"))
        session.flush()
        raise RuntimeError("injected after the insert")
    with Session(migrated_engine) as session:
        assert session.exec(select(Enterprise)).all() == []


def test_chinese_text_decimal_money_and_utc_times_round_trip(
    migrated_engine: Engine, enterprise_id: int
) -> None:
    granted_at = datetime(2026, 3, 1, 1, 2, 3, 456789, tzinfo=UTC)
    with session_scope(migrated_engine) as session:
        bank = Bank(code="gzbank", name="广州银行股份有限公司")
        session.add(bank)
        session.flush()
        assert bank.id is not None
        log = BankAccessLog(
            seq=1, prev_hash="0" * 64, hash="1" * 64, outcome="eligible", http_status=200, query_id="q1"
        )
        session.add(log)
        session.add(
            Loan(
                bank_id=bank.id,
                enterprise_id=enterprise_id,
                product="credit_risk_compensation",
                amount=Decimal("12345678.90"),
                granted_on=date(2026, 3, 1),
                term_months=24,
                query_id="q1",
                workflow="bank_loan",
                state="registered",
                created_at=granted_at,
            )
        )
        session.add(
            EnterpriseProfile(
                enterprise_id=enterprise_id,
                version=2,
                facts={
                    "enterprise": {"revenue": Decimal("50000000.00"), "名称": "广州智算科技（黄埔）有限公司"}
                },
            )
        )
    with Session(migrated_engine) as session:
        enterprise = session.get_one(Enterprise, enterprise_id)
        assert enterprise.name == "广州智算科技有限公司"
        assert session.exec(select(Bank)).one().name == "广州银行股份有限公司"
        loan = session.exec(select(Loan)).one()
        assert loan.amount == Decimal("12345678.90")
        assert isinstance(loan.amount, Decimal)
        assert loan.created_at == granted_at
        assert loan.created_at.tzinfo is not None
        profile = session.exec(select(EnterpriseProfile).where(EnterpriseProfile.version == 2)).one()
        assert profile.facts == {
            "enterprise": {"revenue": "50000000.00", "名称": "广州智算科技（黄埔）有限公司"}
        }


def test_naive_datetimes_and_floats_are_refused(migrated_engine: Engine, enterprise_id: int) -> None:
    with pytest.raises(StatementError, match="naive datetime"), session_scope(migrated_engine) as session:
        session.add(
            Enterprise(uscc="91440101MA5CXXXX0X", name="x", district="y", created_at=datetime(2026, 1, 1))
        )
    with pytest.raises(StatementError) as raised, session_scope(migrated_engine) as session:
        session.add(EnterpriseProfile(enterprise_id=enterprise_id, version=3, facts={"ratio": 0.1}))
    assert isinstance(raised.value.orig, NotStorableError)


def _application(enterprise_id: int, profile_version: int = 1) -> Application:
    return Application(
        enterprise_id=enterprise_id,
        measure_id="tax.high_tech_enterprise",
        rule_version="2016-01",
        workflow="municipal",
        state="draft",
        profile_version=profile_version,
        lead_unit="gzsti",
        district="tianhe",
    )


def test_stale_application_version_is_refused(migrated_engine: Engine, enterprise_id: int) -> None:
    with session_scope(migrated_engine) as session:
        application = _application(enterprise_id)
        session.add(application)
    assert application.version == 1
    with Session(migrated_engine, expire_on_commit=False) as late:
        theirs = late.get_one(Application, application.id)
        late.commit()  # the page was rendered; no lock is held while the user thinks
        with session_scope(migrated_engine) as first:
            first.get_one(Application, application.id).state = "submitted"
        theirs.state = "withdrawn"
        with pytest.raises(StaleDataError):
            late.commit()
    with Session(migrated_engine) as session:
        stored = session.get_one(Application, application.id)
        assert (stored.state, stored.version) == ("submitted", 2)


def test_read_only_scope_neither_blocks_writers_nor_writes(
    migrated_engine: Engine, enterprise_id: int
) -> None:
    with session_scope(migrated_engine, read_only=True) as reader:
        assert reader.get_one(Enterprise, enterprise_id).name == "广州智算科技有限公司"
        with session_scope(migrated_engine) as writer:  # would wait for the lock if the reader held it
            writer.get_one(Enterprise, enterprise_id).name = "广州智算科技股份有限公司"
    # PostgreSQL refuses the write; SQLite's read-only scope rolls it back.
    refused = (
        pytest.raises(DBAPIError)
        if migrated_engine.dialect.name == "postgresql"
        else contextlib.nullcontext()
    )
    with refused, session_scope(migrated_engine, read_only=True) as reader:
        reader.get_one(Enterprise, enterprise_id).name = "只读会话不应写入"
        reader.flush()
    with Session(migrated_engine) as session:
        assert session.get_one(Enterprise, enterprise_id).name == "广州智算科技股份有限公司"


def test_constraints_hold(migrated_engine: Engine, enterprise_id: int) -> None:
    bad_rows: list[object] = [
        User(username="u1", display_name="企业用户", password_hash="x", role="enterprise"),  # no enterprise
        User(username="u2", display_name="x", password_hash="x", role="superuser"),
        _application(enterprise_id, profile_version=99),  # no such profile snapshot
        Notification(kind="k", title="t", body="b"),  # nobody to tell
        Enterprise(uscc="91350100M000100Y43", name="重复", district="tianhe"),  # duplicate USCC
    ]
    for row in bad_rows:
        with pytest.raises(IntegrityError), session_scope(migrated_engine) as session:
            session.add(row)


def test_notification_dedupe_key_is_unique(migrated_engine: Engine, enterprise_id: int) -> None:
    def notify() -> None:
        with session_scope(migrated_engine) as session:
            session.add(
                Notification(
                    enterprise_id=enterprise_id,
                    kind="auto_grant",
                    title="您可享受高新技术企业优惠",
                    body="…",
                    dedupe_key=f"screen:tax.high_tech_enterprise:{enterprise_id}",
                )
            )

    notify()
    with pytest.raises(IntegrityError):
        notify()
    with migrated_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM notification")).scalar_one() == 1
