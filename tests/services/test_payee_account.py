"""An enterprise's own account (收款账户) lets its ordinary approved cases be paid in a batch (issue 12 §3).

Only a 免申即享 case carries an account in its answers; every other case is paid into the
account the enterprise keeps on its profile.
"""

import pytest
from services_helpers import Driver, World
from sqlmodel import col, select

from portal.db.tables import AuditEvent, Enterprise
from portal.services import payments
from portal.services.context import Portal
from portal.services.errors import NotFound, ValidationFailed
from portal.services.payee import set_account
from tests.support.workflow_paths import kind


def test_a_kept_account_makes_an_approved_case_payable(portal: Portal, world: World) -> None:
    case = Driver(portal, world).advance_to(kind("decided"))
    bureau = world.actors[world.bureau]
    [waiting] = [c for c in payments.candidates(portal, bureau) if c.application.id == case.app_id]
    assert waiting.payee is None and waiting.problem is not None  # no account anywhere yet

    kept = set_account(portal, world.actors["ent_a"], " 中国工商银行广州天河支行 ", "6222 0202-0000 1234")
    assert (kept.bank_name, kept.account_number, kept.masked) == (
        "中国工商银行广州天河支行",
        "6222020200001234",
        "****1234",
    )
    [waiting] = [c for c in payments.candidates(portal, bureau) if c.application.id == case.app_id]
    assert waiting.problem is None and waiting.payee is not None
    assert (waiting.payee.account_number, waiting.payee.name) == ("6222020200001234", world.cast.names[0])
    batch = payments.create_batch(portal, bureau, [case.app_id])
    detail = payments.payment_file(portal, bureau, int(batch.id or 0), "csv")
    assert [line.account_number for line, _ in detail.lines] == ["6222020200001234"]
    with portal.reading() as session:
        [audit] = session.exec(select(AuditEvent).where(col(AuditEvent.event) == "payee_account_set")).all()
    assert audit.payload == {"account": "****1234"}  # the full number is not copied into the trail


@pytest.mark.parametrize(
    ("bank", "account", "wrong"),
    [
        ("", "62220202000012345", ["bank_name"]),
        ("工商银行", "12ab", ["account_number"]),
        ("x", "1", ["bank_name", "account_number"]),
    ],
)
def test_a_bad_account_names_each_field_and_keeps_nothing(
    portal: Portal, world: World, bank: str, account: str, wrong: list[str]
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        set_account(portal, world.actors["ent_a"], bank, account, "en")
    assert [p.path for p in refused.value.errors] == wrong
    assert all("请" not in p.message for p in refused.value.errors)  # in the reader's language
    with portal.reading() as session:
        row = session.get(Enterprise, world.enterprise_ids["a"])
        assert row is not None and row.payee_account_number is None


def test_only_the_enterprise_itself_sets_its_account(portal: Portal, world: World) -> None:
    with pytest.raises(NotFound):
        set_account(portal, world.actors[world.bureau], "工商银行", "62220202000012345")
