"""Payment batches through the services, on SQLite and PostgreSQL (issue 12 §3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from services_helpers import Driver, World
from services_helpers import state_of as state_and_version
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from portal.db.audit import verify_chain
from portal.db.tables import (
    AuditEvent,
    PaymentLine,
)
from portal.services import applications, payments
from portal.services.context import Portal
from portal.services.errors import Forbidden, NotFound, Refused, ValidationFailed
from portal.services.payments_returns import import_return, parse_return_file
from tests.support.payments import approved_case, footprint, letter_kinds, payer, staff_actor, state_of


def _csv(*lines: str) -> bytes:
    return ("\n".join(["业务参考号,金额（元）,状态,说明", *lines]) + "\n").encode()


def test_a_batch_is_paid_from_the_banks_return_file_once(portal: Portal) -> None:
    paid, failed, short = (approved_case(portal, f"海珠拨付测试{i}有限公司") for i in range(3))
    bureau = payer(portal)
    disbursing = payments.disbursement_edges(portal)["municipal"]
    waiting = {c.application.id: c for c in payments.candidates(portal, bureau)}
    assert {paid, failed, short} <= waiting.keys()
    assert all(waiting[i].problem is None for i in (paid, failed, short))
    assert waiting[paid].amount == Decimal("200000.00")  # the stored decision's granted amount
    assert waiting[paid].payee is not None and waiting[paid].payee.account_number == "6217857000001234567"

    batch = payments.create_batch(portal, bureau, [paid, failed, short])
    assert batch.status == "open" and batch.version == 1
    # A case is in one open batch only: the service says why, and the database refuses it too.
    with pytest.raises(ValidationFailed) as again:
        payments.create_batch(portal, bureau, [paid])
    assert again.value.errors[0].path == f"case-{paid}" and "未结清" in again.value.errors[0].message
    with pytest.raises(IntegrityError), portal.transaction() as session:
        line = session.exec(select(PaymentLine).where(col(PaymentLine.application_id) == paid)).one()
        session.add(PaymentLine(**{**line.model_dump(), "id": None, "batch_id": batch.id}))
        session.flush()
    # A batched case is not disbursed by hand: the bank's return file does it.
    with pytest.raises(Refused) as by_hand:
        applications.transition(
            portal, bureau, paid, disbursing.event, None, state_and_version(portal, paid)[1]
        )
    assert by_hand.value.code == "in_payment_batch"
    # ... and no page offers it as a button, while a case outside any batch still has it.
    assert disbursing.event not in {e.name for e in applications.allowed_events(portal, bureau, paid)}
    # Not sent yet: no return file; once sent, no more changes to its cases.
    with pytest.raises(Refused):
        import_return(portal, bureau, int(batch.id or 0), "r.csv", _csv(f"{paid},200000.00,成功,"))
    detail = payments.payment_file(portal, bureau, int(batch.id or 0), "csv")
    assert detail.total == Decimal("600000.00")
    batch = payments.mark_sent(portal, bureau, int(batch.id or 0), batch.version)
    with pytest.raises(Refused):
        payments.remove_case(portal, bureau, int(batch.id or 0), short, batch.version)

    content = _csv(
        f"{paid},200000.00,成功,",
        f"{failed},200000.00,失败,账户已销户",
        f"{short},199999.99,成功,",
        "99999,1.00,成功,",
    )
    outcome = import_return(portal, bureau, int(batch.id or 0), "../上传/回\x07单.csv", content)
    assert not outcome.again and outcome.imported.file_name == "回单.csv"  # no path, no control character
    assert [line.result for line in outcome.lines] == ["paid", "failed", "amount_mismatch", "unmatched"]
    assert state_of(portal, paid) == disbursing.target
    assert letter_kinds(portal, paid)[-1] == "disbursement"
    for case_id in (failed, short):
        assert state_of(portal, case_id) == disbursing.source
        assert "disbursement" not in letter_kinds(portal, case_id)
    follow_up = payments.batch_detail(portal, bureau, int(batch.id or 0)).follow_up
    assert [line.result for _, line in follow_up] == ["failed", "amount_mismatch", "unmatched"]

    # The same file again: the earlier import, and nothing else.
    before = footprint(portal)
    repeat = import_return(portal, bureau, int(batch.id or 0), "again.csv", content)
    assert repeat.again and repeat.imported.id == outcome.imported.id
    assert footprint(portal) == before

    # A corrected file: the short line is paid now; the paid one is reported settled, not paid twice.
    fixed = _csv(f"{short},200000.00,success,", f"{paid},200000.00,success,")
    second = import_return(portal, bureau, int(batch.id or 0), "fixed.csv", fixed)
    assert [line.result for line in second.lines] == ["paid", "settled"]
    assert letter_kinds(portal, paid).count("disbursement") == 1
    assert payments.batch_detail(portal, bureau, int(batch.id or 0)).batch.status == "closed"
    # The failed case is free for a new batch.
    assert payments.create_batch(portal, bureau, [failed]).status == "open"

    with portal.reading() as session:
        events = session.exec(
            select(AuditEvent.event).where(col(AuditEvent.subject_type) == payments.SUBJECT)
        ).all()
        assert verify_chain(session).ok
    assert {"batch_created", "payment_file_exported", "batch_sent", "bank_return_imported"} <= set(events)


def test_a_case_without_a_payment_account_is_refused_with_its_reason(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()  # an ordinary application: no account was asked for
    bureau = world.actors["rev_gzdev"]
    [candidate] = [c for c in payments.candidates(portal, bureau) if c.application.id == case.app_id]
    assert candidate.problem is not None and "收款账户" in candidate.problem[0]
    with pytest.raises(ValidationFailed) as refused:
        payments.create_batch(portal, bureau, [case.app_id], lang="en")
    [problem] = refused.value.errors
    assert problem.path == f"case-{case.app_id}" and "payment account" in problem.message
    assert payments.list_batches(portal, bureau) == []


def test_bad_return_files_name_each_line_and_field_and_write_nothing(portal: Portal) -> None:
    case_id = approved_case(portal, "海珠回单校验有限公司")
    bureau = payer(portal)
    batch = payments.create_batch(portal, bureau, [case_id])
    batch = payments.mark_sent(portal, bureau, int(batch.id or 0), batch.version)
    bad = _csv(f"{case_id},20万,成功,", f"{case_id},1.00,ok,", ",1.00,失败,")
    before = footprint(portal)
    with pytest.raises(ValidationFailed) as failed:
        import_return(portal, bureau, int(batch.id or 0), "bad.csv", bad)
    assert [p.path for p in failed.value.errors] == ["line-2-amount", "line-3-status", "line-4-reference"]
    assert failed.value.errors[0].message.startswith("第 2 行“金额（元）”")
    assert footprint(portal) == before
    assert state_of(portal, case_id) == payments.disbursement_edges(portal)["municipal"].source

    with pytest.raises(ValidationFailed) as missing:
        parse_return_file(b"reference,amount\n1,2.00\n", "en")
    assert missing.value.errors[0].message == "line 1: missing column(s) Status"
    with pytest.raises(ValidationFailed) as twice:
        parse_return_file(b"reference,amount,status\n7,1.00,success\n7,1.00,failed\n", "en")
    assert twice.value.errors[0].message == "Line 3, Reference: repeats line 2"
    gbk = "业务参考号,金额（元）,状态,说明\n7,1.00,失败,户名不符\n".encode("gb18030")
    [row] = parse_return_file(gbk)
    assert (row.reference, row.amount, row.paid, row.message) == ("7", Decimal("1.00"), False, "户名不符")


def test_only_the_paying_unit_handles_its_batches(portal: Portal, world: World) -> None:
    case_id = approved_case(portal, "海珠权限测试有限公司")
    bureau = payer(portal)
    batch_id = int(payments.create_batch(portal, bureau, [case_id]).id or 0)
    for name in ("ent_a", "expert1", "rev_haizhu"):
        with pytest.raises(Forbidden):
            payments.list_batches(portal, world.actors[name])
    other = world.actors["rev_gzdev"]  # pays its own measures, not this unit's
    with pytest.raises(NotFound):
        payments.batch_detail(portal, other, batch_id)
    assert case_id not in {c.application.id for c in payments.candidates(portal, other)}
    with pytest.raises(ValidationFailed):
        payments.create_batch(portal, other, [case_id])
    admin = staff_actor(portal, "pay_admin", "admin")
    assert [s.batch.id for s in payments.list_batches(portal, admin)] == [batch_id]


def test_a_payment_the_bank_failed_holds_the_disbursement_until_a_new_batch_pays_it(portal: Portal) -> None:
    """The demo's case: the bank returns one line failed. Its case has not been paid, so no one
    may record it as disbursed by hand (no letter, no money counted); a new batch pays it."""
    paid, failed = (approved_case(portal, f"海珠回单失败测试{i}有限公司") for i in range(2))
    bureau = payer(portal)
    disbursing = payments.disbursement_edges(portal)["municipal"]
    batch = payments.create_batch(portal, bureau, [paid, failed])
    batch_id = int(batch.id or 0)
    payments.mark_sent(portal, bureau, batch_id, batch.version)
    content = _csv(f"{paid},200000.00,成功,", f"{failed},200000.00,失败,账户已冻结")
    assert [line.result for line in import_return(portal, bureau, batch_id, "r.csv", content).lines] == [
        "paid",
        "failed",
    ]

    # The failed case waits for money still, and its disbursement is neither offered nor done by hand.
    assert state_of(portal, failed) == disbursing.source
    assert disbursing.event not in {e.name for e in applications.allowed_events(portal, bureau, failed)}
    with pytest.raises(Refused) as by_hand:
        applications.transition(
            portal, bureau, failed, disbursing.event, None, state_and_version(portal, failed)[1]
        )
    assert by_hand.value.code == "payment_failed"
    assert f"第 {batch_id} 批" in by_hand.value.said_in("zh") and "新的拨付批次" in by_hand.value.said_in(
        "zh"
    )
    said = by_hand.value.said_in("en")
    assert said.startswith("The bank reported") and f"batch {batch_id}" in said and said.endswith(".")
    assert state_of(portal, failed) == disbursing.source
    assert "disbursement" not in letter_kinds(portal, failed)

    # The case page's facts: which batch, when, the bank's reason, and that it holds the disbursement.
    [attempt] = payments.case_payments(portal, bureau, failed)
    assert (attempt.batch_id, attempt.outcome, attempt.bank_message) == (batch_id, "failed", "账户已冻结")
    assert attempt.held_as_failed and attempt.batch_reachable and attempt.settled_at is not None
    assert attempt.amount == Decimal("200000.00")

    # The batch: closed, but not settled in full; paid and failed amounts apart.
    [summary] = [s for s in payments.list_batches(portal, bureau) if s.batch.id == batch_id]
    for settled in (summary.settled, payments.batch_detail(portal, bureau, batch_id).settled):
        assert settled.standing == "closed_some_failed"
        assert (settled.paid, settled.paid_total) == (1, Decimal("200000.00"))
        assert (settled.failed, settled.failed_total) == (1, Decimal("200000.00"))
        assert (settled.pending, settled.pending_total) == (0, Decimal(0))

    # The retry the design offers: a new batch. While it waits, the bank's file still holds the case.
    again = payments.create_batch(portal, bureau, [failed])
    again_id = int(again.id or 0)
    with pytest.raises(Refused) as waiting:
        applications.transition(
            portal, bureau, failed, disbursing.event, None, state_and_version(portal, failed)[1]
        )
    assert waiting.value.code == "in_payment_batch"
    newest, earlier = payments.case_payments(portal, bureau, failed)
    assert (newest.batch_id, newest.outcome, newest.held_as_failed) == (again_id, "pending", False)
    assert (earlier.batch_id, earlier.outcome, earlier.held_as_failed) == (batch_id, "failed", False)
    payments.mark_sent(portal, bureau, again_id, again.version)
    second = import_return(portal, bureau, again_id, "r2.csv", _csv(f"{failed},200000.00,成功,"))
    assert [line.result for line in second.lines] == ["paid"]
    assert state_of(portal, failed) == disbursing.target
    assert letter_kinds(portal, failed).count("disbursement") == 1
    assert payments.batch_detail(portal, bureau, again_id).settled.standing == "closed"


def test_a_batch_whose_every_payment_failed_says_so(portal: Portal) -> None:
    case_id = approved_case(portal, "海珠全部失败测试有限公司")
    bureau = payer(portal)
    batch = payments.create_batch(portal, bureau, [case_id])
    batch_id = int(batch.id or 0)
    assert payments.batch_detail(portal, bureau, batch_id).settled.standing == "open"
    payments.mark_sent(portal, bureau, batch_id, batch.version)
    import_return(portal, bureau, batch_id, "r.csv", _csv(f"{case_id},200000.00,失败,"))
    settled = payments.batch_detail(portal, bureau, batch_id).settled
    assert settled.standing == "closed_all_failed"
    assert (settled.paid_total, settled.failed_total) == (Decimal(0), Decimal("200000.00"))
    [attempt] = payments.case_payments(portal, bureau, case_id)
    assert attempt.held_as_failed and attempt.bank_message is None


def test_the_status_header_the_help_text_once_named_is_read() -> None:
    """Files written from the old help text ("状态（成功/失败）") are read as the help text promised."""
    for header in (
        "业务参考号,金额（元）,状态（成功/失败）,说明",
        "reference,amount (yuan),status (success/failed)",
    ):
        [row] = parse_return_file(f"{header}\n7,1.00,失败\n".encode())
        assert (row.reference, row.paid) == ("7", False)
