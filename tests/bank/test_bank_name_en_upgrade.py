"""0029 over a bank registered before it: the bank has no English name, and English pages name
it by its Chinese one until it is given one.

`migrated_engine` is overridden here: the bank world is built on a database that held bank
"old" at 0028 and was then upgraded to the head.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from portal.db import migrations
from portal.db.engine import make_engine
from portal.db.tables import Bank
from portal.services import banks, consents
from tests.bank.bank_world import ALL_PRODUCTS, BankWorld, loan
from tests.bank.test_consent_pages import sign_in

OLD_ZH = "戊银行广州分行"


@pytest.fixture
def migrated_engine(db_url: str) -> Iterator[Engine]:
    migrations.upgrade(db_url, "0028_access_call_kind")
    engine = make_engine(db_url, pooled=False)
    with engine.begin() as connection:
        row = {"code": "old", "name": OLD_ZH, "active": True, "created_at": datetime(2026, 11, 1, tzinfo=UTC)}
        connection.execute(insert(Bank.__table__), [row])  # type: ignore[attr-defined]
    migrations.upgrade(db_url)
    yield engine
    engine.dispose()


def test_a_bank_from_before_0029_has_no_english_name_and_english_pages_use_its_chinese_one(
    world: BankWorld,
) -> None:
    with Session(world.engine) as session:
        assert session.exec(select(col(Bank.name_en)).where(col(Bank.code) == "old")).all() == [None]
    key = banks.issue_key(world.portal, "old").key
    consents.grant_consent(world.portal, world.enterprise, bank_code="old", products=ALL_PRODUCTS)
    body = {"uscc": world.uscc, "product": "credit_risk_compensation", "loan": loan()}
    assert world.check(body, key=key).status_code == 200
    sign_in(world)
    world.client.cookies.set("lang", "en")
    for path in ("/consents", "/access-log"):
        page = world.client.get(path)
        assert page.status_code == 200 and OLD_ZH in page.text, path
    # Given an English name after the upgrade (`portal banks name-en`), English pages use it.
    banks.set_name_en(world.portal, "old", "Old Bank Guangzhou")
    for path in ("/consents", "/access-log"):
        page = world.client.get(path).text
        assert "Old Bank Guangzhou" in page and OLD_ZH not in page, path
