"""A payment the bank reports failed is told: to the enterprise (no money arrived, check the account,
the bureau pays again) and to the staff who may disburse the case. Once per failed payment, never
again on a re-import; in each reader's language, by e-mail through a real SMTP relay (aiosmtpd).
Through the real services on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re

import pytest
from services_helpers import World
from sqlmodel import col, select

from portal.db.tables import Application, Notification, User
from portal.services import enterprises, notifications, payee, payments
from portal.services.context import Portal, SmtpConfig
from portal.services.errors import Refused
from portal.services.payments_returns import import_return
from tests.support.payments import approved_case, payer
from tests.support.smtp_sink import running_sink

FAILED = ("note.payment_failed", "note.payment_failed_staff")
CODE = re.compile(r"[a-z]+[._][a-z_.]+")  # a measure id, message key, state or event name


def _csv(*lines: str) -> bytes:
    return ("\n".join(["业务参考号,金额（元）,状态,说明", *lines]) + "\n").encode()


def _failure_notes(portal: Portal) -> list[Notification]:
    with portal.reading() as session:
        return list(
            session.exec(
                select(Notification)
                .where(col(Notification.message).in_(FAILED))
                .order_by(col(Notification.id))
            ).all()
        )


def _sent_batch(portal: Portal, cases: list[int]) -> int:
    bureau = payer(portal)
    batch = payments.create_batch(portal, bureau, cases)
    payments.mark_sent(portal, bureau, int(batch.id or 0), batch.version)
    return int(batch.id or 0)


def test_each_failed_case_is_told_once_to_its_enterprise_and_the_paying_unit(
    portal: Portal, world: World
) -> None:
    paid, first, second = (approved_case(portal, f"海珠失败通知{i}有限公司") for i in range(3))
    bureau = payer(portal)
    batch_id = _sent_batch(portal, [paid, first, second])
    content = _csv(
        f"{paid},200000.00,成功,", f"{first},200000.00,失败,账户已销户", f"{second},200000.00,失败,"
    )
    import_return(portal, bureau, batch_id, "r.csv", content)

    notes = _failure_notes(portal)
    with portal.reading() as session:
        cases = {
            a.id: a for a in session.exec(select(Application).where(col(Application.id).in_([first, second])))
        }
    edge = payments.disbursement_edges(portal)["municipal"]
    told = sorted((n.message, n.params["id"]) for n in notes if n.params)  # type: ignore[index]
    staff_roles = sorted(edge.roles - {"enterprise"})
    assert told == sorted(
        [("note.payment_failed", c) for c in (first, second)]
        + [("note.payment_failed_staff", c) for c in (first, second) for _ in staff_roles]
    )
    for note in notes:
        case = cases[note.params["id"]]  # type: ignore[index]
        assert note.link == f"/applications/{case.id}"
        if note.message == "note.payment_failed":
            assert note.enterprise_id == case.enterprise_id and note.role is None
        else:  # who may disburse it: the transition's role, in its jurisdiction (the measure's unit)
            assert note.enterprise_id is None and note.role in edge.roles
            assert edge.jurisdiction == "bureau" and note.bureau == case.lead_unit
    # The paying unit's reviewers find it in their inbox; another unit's do not.
    assert {n.id for n in notifications.inbox(portal, bureau) if n.message in FAILED} >= {
        n.id for n in notes if n.message == "note.payment_failed_staff"
    }
    assert not [n for n in notifications.inbox(portal, world.actors["rev_gzdev"]) if n.message in FAILED]

    # In words, in each language: the amount as money, the bank's reason (or that it gave none), no code.
    by_case = {(n.message, n.params["id"]): n for n in notes}  # type: ignore[index]
    title, body = notifications.note_text(portal, by_case[("note.payment_failed", first)], "zh")
    assert "未成功" in title and "¥200,000.00" in body and "账户已销户" in body and "收款账户" in body
    assert "重新安排支付" in body and not CODE.search(title + body)
    title, body = notifications.note_text(portal, by_case[("note.payment_failed", second)], "en")
    assert "did not go through" in title and "200,000.00" in body and "none given" in body
    assert "account for payments" in body and "will pay again" in body and not CODE.search(title + body)
    title, body = notifications.note_text(portal, by_case[("note.payment_failed_staff", first)], "en")
    assert f"batch {batch_id}" in body and "new payment batch" in body and not CODE.search(title + body)

    # The same file again finds its import; another file is refused, the batch being settled (办结):
    # nobody is told twice.
    import_return(portal, bureau, batch_id, "r.csv", content)
    with pytest.raises(Refused) as closed:
        import_return(portal, bureau, batch_id, "again.csv", _csv(f"{first},200000.00,失败,账户已销户"))
    assert closed.value.code == "batch_closed"
    assert [n.id for n in _failure_notes(portal)] == [n.id for n in notes]

    # A new attempt that fails too is a new failure, told again.
    retry = _sent_batch(portal, [first])
    import_return(portal, bureau, retry, "r2.csv", _csv(f"{first},200000.00,失败,户名不符"))
    newer = [n for n in _failure_notes(portal) if n.id not in {m.id for m in notes}]
    assert sorted(n.message for n in newer) == sorted(
        ["note.payment_failed", *(["note.payment_failed_staff"] * len(staff_roles))]
    )


def test_the_enterprise_and_the_paying_unit_are_emailed_in_their_languages(portal: Portal) -> None:
    case_id = approved_case(portal, "海珠失败邮件有限公司", email="finance@example.cn")
    bureau = payer(portal)
    with portal.transaction() as session:
        staff = session.get(User, bureau.user_id)
        assert staff is not None
        staff.email, staff.locale = "payer@example.cn", "en"
        session.add(staff)
    batch_id = _sent_batch(portal, [case_id])
    import_return(portal, bureau, batch_id, "r.csv", _csv(f"{case_id},200000.00,失败,账户已冻结"))
    with running_sink() as (sink, port):
        mailing = dataclasses.replace(portal, smtp=SmtpConfig("127.0.0.1", port, "portal@example.cn"))
        notifications.deliver_email(mailing)
        mail = {str(m["To"]): m for m in sink.parsed()}
    enterprise, staff_mail = mail["finance@example.cn"], mail["payer@example.cn"]
    body = enterprise.get_content()  # type: ignore[attr-defined]
    assert str(enterprise["Subject"]) == f"奖补资金支付未成功：申报 #{case_id}"
    assert "账户已冻结" in body and "¥200,000.00" in body and f"/applications/{case_id}" in body
    staff_body = staff_mail.get_content()  # type: ignore[attr-defined]
    assert str(staff_mail["Subject"]) == f"Payment failed, to be paid again: application #{case_id}"
    assert "账户已冻结" in staff_body and "new payment batch" in staff_body
    for text in (body, staff_body):
        assert not CODE.search(text.split("http")[0]), text


def test_a_corrected_account_is_what_the_next_batch_pays(portal: Portal) -> None:
    """The failure tells the enterprise to correct its account on its profile; a case confirmed
    with its own account (免申即享) is then paid into the corrected one, not the failed one again."""
    case_id = approved_case(portal, "海珠改账户有限公司", account="6217857000009999999")
    bureau = payer(portal)
    batch_id = _sent_batch(portal, [case_id])
    import_return(portal, bureau, batch_id, "r.csv", _csv(f"{case_id},200000.00,失败,账号不存在"))
    [before] = [c for c in payments.candidates(portal, bureau) if c.application.id == case_id]
    assert before.payee is not None and before.payee.account_number == "6217857000009999999"
    with portal.transaction() as session:
        application = session.get(Application, case_id)
        assert application is not None
        owner = session.exec(select(User).where(col(User.enterprise_id) == application.enterprise_id)).one()
    payee.set_account(
        portal,
        enterprises.actor_for_username(portal, owner.username),
        "中国银行广州海珠支行",
        "6217 8570 0000 1111 222",
    )
    [after] = [c for c in payments.candidates(portal, bureau) if c.application.id == case_id]
    assert after.payee is not None and after.payee.account_number == "6217857000001111222"
