"""The granted amount (核定兑现金额) on the decision and the letter; refusal letters; corrections."""

import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from services_helpers import Driver, World, counts
from sqlmodel import col, select
from typer.testing import CliRunner, Result

from portal.cli import app as cli
from portal.db.tables import Application, ApplicationAnswers, AuditEvent, Decision, Letter
from portal.services import (
    applications,
    corrections,
    decisions,
    enterprises,
    grants,
    notices,
    notifications,
    queue,
    sla,
)
from portal.services.access import actor_of
from portal.services.context import Portal
from portal.services.errors import Refused, ValidationFailed
from portal.settings import get_settings


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")


def _decision(portal: Portal, application_id: int) -> Decision:
    with portal.reading() as session:
        return session.exec(select(Decision).where(Decision.application_id == application_id)).one()


def test_the_bureau_grants_less_with_a_reason_and_the_letter_prints_it_in_capitals(
    portal: Portal, world: World
) -> None:
    case = Driver(portal, world).to_bureau_review()
    bureau = world.actors["rev_gzdev"]
    grant = grants.grant_of(portal, bureau, case.app_id)
    assert grant.ceiling is not None and grant.amount is None and grant.effective == grant.ceiling
    before = counts(portal, case.app_id)
    with pytest.raises(ValidationFailed) as failed:
        grants.set_granted_amount(portal, bureau, case.app_id, grant.ceiling + 1, "", case.version)
    assert [(p.path, p.code) for p in failed.value.errors] == [("granted_amount", "range")]
    with pytest.raises(ValidationFailed) as failed:
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("1000.00"), " ", case.version)
    assert [(p.path, p.code) for p in failed.value.errors] == [("granted_reason", "required")]
    with pytest.raises(ValidationFailed) as failed:
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("1000.001"), "x", case.version)
    assert [(p.path, p.code) for p in failed.value.errors] == [("granted_amount", "fen")]
    with pytest.raises(Refused):
        grants.set_granted_amount(
            portal, world.actors["rev_tianhe"], case.app_id, Decimal("1000"), "x", case.version
        )
    assert counts(portal, case.app_id) == before
    grants.set_granted_amount(
        portal, bureau, case.app_id, Decimal("500000.00"), "按年度预算核减", case.version
    )
    case.to_public_notice()
    # The notice shows the amount; from then on it is what the public was shown.
    with pytest.raises(Refused) as refused:
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("400000.00"), "再核减", case.version)
    assert refused.value.code == "not_in_review" and "公示" in refused.value.message_zh
    assert grants.grant_of(portal, bureau, case.app_id).amount == Decimal("500000.00")
    _close(portal, case)
    decision = _decision(portal, case.app_id)
    assert decision.granted_amount == Decimal("500000.00")
    assert decision.granted_reason == "按年度预算核减"
    [letter] = decisions.letters_for(portal, bureau, case.app_id)
    text = pdf_text(letter.pdf)
    assert "核定兑现金额" in text and "500,000.00" in text and "伍拾万元整" in text
    # No internal names: neither the benefit's nor a criterion's id is printed.
    assert "voucher" not in text and "compute_purchase" not in text
    with pytest.raises(Refused):  # after the decision the amount is fixed
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("1"), "x", case.version)


def _close(portal: Portal, case: Driver) -> None:
    before = portal.today_override
    assert before is not None
    portal.today_override = before + timedelta(days=7)
    sla.sweep(portal)
    portal.today_override = before
    assert case.state == "approved"


def test_without_a_set_amount_the_decision_grants_the_rules_amount(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()
    decision = _decision(portal, case.app_id)
    assert decision.granted_amount is not None and decision.granted_reason is None
    assert decision.granted_amount == Decimal(str((decision.benefit or {})["voucher"]))


def test_a_refusal_states_the_appeal_and_never_says_eligible(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_expert_review()
    bureau = world.actors["rev_gzdev"]
    assert grants.grant_of(portal, bureau, case.app_id).ceiling is not None  # under review: shown
    case.fire("rev_gzdev", "reject", "项目实施方案不具可行性")
    # A rejected case grants nothing, so no amount is shown for it.
    assert grants.grant_of(portal, bureau, case.app_id) == grants.Grant(None, None, None)
    [letter] = decisions.letters_for(portal, world.actors["rev_gzdev"], case.app_id)
    text = pdf_text(letter.pdf)
    assert "符合条件" not in text
    for expected in ("行政复议法", "行政诉讼法", "广州市人民政府", "六十日", "六个月"):
        assert expected in text, expected


def test_a_corrected_letter_supersedes_the_old_one(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_approved()
    bureau = world.actors["rev_gzdev"]
    [old] = decisions.letters_for(portal, bureau, case.app_id)
    with pytest.raises(ValidationFailed):
        corrections.correct_letter(portal, bureau, old.id or 0, reasons=" ")
    new = corrections.correct_letter(portal, bureau, old.id or 0, reasons="更正企业名称笔误", lang="en")
    assert isinstance(new, Letter) and new.supersedes_id == old.id and new.lang == "en"
    assert decisions.get_letter(portal, bureau, new.id or 0).sha256 == new.sha256
    assert "Amountgranted" in pdf_text(new.pdf)


SCENARIO = "subsidy.ai_scenario_demo"  # its form names `requested_amount` as the amount asked for
SCENARIO_LEAD = "hzkgxj"  # the measure's lead unit


def _scenario_case(portal: Portal, world: World, requested: str) -> tuple[Driver, World]:
    """ent_b asks for `requested` on a ¥12,000,000 project, whose rule amount is 30% of it: ¥3,600,000."""
    user = enterprises.create_staff_user(
        portal, None, username="rev_hzkgxj", password="pw-for-tests-only", display_name="海珠科工信",
        role="reviewer", bureau=SCENARIO_LEAD,
    )  # fmt: skip
    lead = World(world.cast, {**world.actors, "rev_hzkgxj": actor_of(user)}, world.enterprise_ids)
    return _another_case(portal, lead, requested), lead


def _another_case(portal: Portal, lead: World, requested: str) -> Driver:
    """One more such case of ent_b's in bureau review (`lead` from `_scenario_case`)."""
    owner = lead.actors["ent_b"]
    profile = enterprises.latest_profile(portal, owner)
    assert profile is not None
    facts = {**profile.facts, "project": {"scenario_in_guangzhou": True, "completed": True}}
    enterprises.confirm_profile(
        portal, owner, enterprises.save_profile(portal, owner, facts, profile.version).version
    )
    driver = Driver(portal, lead, SCENARIO, owner="ent_b", bureau="rev_hzkgxj")
    answers = {
        **driver.answers(),
        "contact_person": "张三",
        "contact_phone": "13800138000",
        "project_name": "智慧城市视觉示范项目",
        "track": "cheng",
        "start_on": "2025-01-01",
        "end_on": "2025-12-31",
        "investment": "12000000",
        "requested_amount": requested,
        "summary": "在海珠区部署城市视觉识别平台，覆盖道路、园区与社区的智能巡检场景，"
        "提升城市治理效率与安全水平，项目已建成并通过验收，形成可复制推广的示范经验。",
    }
    applications.save_draft(portal, owner, driver.app_id, answers, driver.version)
    driver.submit()
    return driver.to_bureau_review()


def test_the_default_grant_is_never_more_than_was_requested(portal: Portal, world: World) -> None:
    case, lead = _scenario_case(portal, world, "3000000")
    bureau = lead.actors["rev_hzkgxj"]
    grant = grants.grant_of(portal, bureau, case.app_id)
    assert (grant.ceiling, grant.requested) == (Decimal("3600000.00"), Decimal("3000000"))
    assert grant.amount is None and grant.default == grant.effective == Decimal("3000000")
    assert grant.capped_by_request
    before = counts(portal, case.app_id)
    for above in (
        Decimal("3000000.01"),
        Decimal("3600000.00"),
    ):  # within the rule's amount, above the request
        with pytest.raises(ValidationFailed) as failed:
            grants.set_granted_amount(portal, bureau, case.app_id, above, "专家建议", case.version)
        [problem] = failed.value.errors
        assert (problem.path, problem.code) == ("granted_amount", "above_requested")
        assert problem.params["requested"] == Decimal("3000000")
    with pytest.raises(ValidationFailed) as failed:  # less than the request: say why
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("2000000"), "", case.version)
    assert [(p.path, p.code) for p in failed.value.errors] == [("granted_reason", "below_requested")]
    assert counts(portal, case.app_id) == before
    # Exactly what was asked for is the default, so it needs no reason.
    grants.set_granted_amount(portal, bureau, case.app_id, Decimal("3000000.00"), "", case.version)
    assert grants.grant_of(portal, bureau, case.app_id).effective == Decimal("3000000.00")


def _stored_request(portal: Portal, application_id: int, requested: str) -> None:
    """The submitted answers asking for `requested`, as a case submitted before requests were held
    to the rule's amount (save and submit now refuse more) holds it."""
    with portal.transaction() as session:
        row = session.exec(
            select(ApplicationAnswers)
            .where(col(ApplicationAnswers.application_id) == application_id)
            .order_by(col(ApplicationAnswers.version).desc())
        ).first()
        assert row is not None and row.submitted
        row.answers = {**row.answers, "requested_amount": requested}
        session.add(row)


def test_a_request_above_the_rules_amount_is_refused_before_submission(portal: Portal, world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _scenario_case(portal, world, "3600000.01")
    [problem] = failed.value.errors
    assert (problem.path, problem.code) == ("requested_amount", "above_ceiling")
    assert problem.params["ceiling"] == Decimal("3600000.00")


def test_a_request_above_the_rules_amount_leaves_the_rules_amount(portal: Portal, world: World) -> None:
    case, lead = _scenario_case(portal, world, "3600000")
    _stored_request(portal, case.app_id, "4000000")
    bureau = lead.actors["rev_hzkgxj"]
    grant = grants.grant_of(portal, bureau, case.app_id)
    assert grant.effective == grant.ceiling == Decimal("3600000.00") and not grant.capped_by_request
    with pytest.raises(ValidationFailed) as failed:
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("4000000"), "", case.version)
    assert [(p.path, p.code) for p in failed.value.errors] == [("granted_amount", "range")]
    with pytest.raises(ValidationFailed) as failed:
        grants.set_granted_amount(portal, bureau, case.app_id, Decimal("3000000"), "", case.version)
    assert [(p.path, p.code) for p in failed.value.errors] == [("granted_reason", "required")]


def test_the_notice_the_decision_and_the_letter_grant_what_was_requested(
    portal: Portal, world: World
) -> None:
    case, lead = _scenario_case(portal, world, "3000000")
    case.to_public_notice()
    [notice] = [n for n in notices.list_notices(portal) if n.application_id == case.app_id]
    assert notice.granted_amount == Decimal("3000000")
    case.to_approved()
    decision = _decision(portal, case.app_id)
    assert Decimal(str((decision.benefit or {})["max_subsidy"])) == Decimal("3600000.00")
    assert decision.granted_amount == Decimal("3000000.00") and decision.granted_reason is None
    [letter] = decisions.letters_for(portal, lead.actors["rev_hzkgxj"], case.app_id)
    text = pdf_text(letter.pdf)
    assert "3,000,000.00" in text and "叁佰万元整" in text and "3,600,000" not in text


def _amend_request(portal: Portal, case: Driver, lead: World, requested: str) -> None:
    """The lead unit returns the case for amendment and the enterprise resubmits asking for `requested`."""
    case.fire("rev_hzkgxj", "return_for_amendment", "请按实际核减申请金额")
    owner = lead.actors["ent_b"]
    applications.save_draft(
        portal, owner, case.app_id, case.answers(requested_amount=requested), case.version
    )
    case.submit()


def _stored_grant(portal: Portal, application_id: int) -> tuple[Decimal | None, str | None]:
    with portal.reading() as session:
        row = session.get(Application, application_id)
        assert row is not None
        return row.granted_amount, row.granted_reason


def _audit_rows(portal: Portal, application_id: int, event: str) -> list[AuditEvent]:
    with portal.reading() as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(col(AuditEvent.subject_id) == str(application_id))
                .where(col(AuditEvent.event) == event)
            ).all()
        )


def test_a_resubmission_asking_for_less_withdraws_the_amount_set_above_it(
    portal: Portal, world: World
) -> None:
    case, lead = _scenario_case(portal, world, "3000000")
    bureau = lead.actors["rev_hzkgxj"]
    grants.set_granted_amount(portal, bureau, case.app_id, Decimal("3000000.00"), "", case.version)
    _amend_request(portal, case, lead, "2000000")
    assert case.state == "bureau_review"
    # Cleared in the resubmission's own transaction: the default (the new request) applies.
    assert _stored_grant(portal, case.app_id) == (None, None)
    grant = grants.grant_of(portal, bureau, case.app_id)
    assert grant.amount is None and grant.effective == grant.requested == Decimal("2000000")
    assert grant.withdrawn is not None and not grant.above_limit
    assert (grant.withdrawn.amount, grant.withdrawn.requested, grant.withdrawn.default) == (
        Decimal("3000000.00"),
        Decimal("2000000"),
        Decimal("2000000"),
    )
    assert grant.withdrawn.by_request and grant.withdrawn.reason is None
    # Audited as the portal's own act, right after the resubmission that caused it.
    [row] = _audit_rows(portal, case.app_id, "granted_amount_withdrawn")
    assert row.actor_role == "system" and row.actor_id is None
    assert Decimal(str(row.payload["amount"])) == Decimal("3000000.00")
    assert Decimal(str(row.payload["requested"])) == Decimal("2000000")
    [resubmitted] = _audit_rows(portal, case.app_id, "resubmit")
    assert resubmitted.seq == row.seq - 1
    # The lead unit's reviewers are told, in words and in money.
    told = [n for n in notifications.inbox(portal, bureau) if n.message == "note.grant_withdrawn"]
    assert len(told) == 1
    _, body_zh = notifications.note_text(portal, told[0], "zh")
    _, body_en = notifications.note_text(portal, told[0], "en")
    assert "企业的申请金额为 ¥2,000,000.00" in body_zh and "¥3,000,000.00" in body_zh
    assert "the amount requested is now CNY 2,000,000.00" in body_en and "grant_withdrawn" not in body_en
    # The notice, the decision and the letter carry the new request, not the withdrawn amount.
    case.to_public_notice()
    [notice] = [n for n in notices.list_notices(portal) if n.application_id == case.app_id]
    assert notice.granted_amount == Decimal("2000000")
    case.to_approved()
    assert _decision(portal, case.app_id).granted_amount == Decimal("2000000.00")
    [letter] = decisions.letters_for(portal, bureau, case.app_id)
    text = pdf_text(letter.pdf)
    assert "2,000,000.00" in text and "贰佰万元整" in text and "3,000,000" not in text


def test_a_reduced_amount_above_the_new_request_is_withdrawn_with_its_reason_until_set_again(
    portal: Portal, world: World
) -> None:
    case, lead = _scenario_case(portal, world, "3000000")
    bureau = lead.actors["rev_hzkgxj"]
    grants.set_granted_amount(portal, bureau, case.app_id, Decimal("2500000"), "按年度预算核减", case.version)
    _amend_request(portal, case, lead, "2000000")
    assert _stored_grant(portal, case.app_id) == (None, None)
    withdrawn = grants.grant_of(portal, bureau, case.app_id).withdrawn
    assert withdrawn is not None and withdrawn.reason == "按年度预算核减"
    # Setting an amount again is the lead unit's new word: the withdrawal is history.
    grants.set_granted_amount(portal, bureau, case.app_id, Decimal("1800000"), "按年度预算核减", case.version)
    grant = grants.grant_of(portal, bureau, case.app_id)
    assert grant.withdrawn is None and grant.effective == Decimal("1800000.00")


def test_a_set_amount_within_the_new_request_stands(portal: Portal, world: World) -> None:
    case, lead = _scenario_case(portal, world, "3000000")
    bureau = lead.actors["rev_hzkgxj"]
    grants.set_granted_amount(portal, bureau, case.app_id, Decimal("2500000"), "按年度预算核减", case.version)
    _amend_request(portal, case, lead, "2800000")
    assert _stored_grant(portal, case.app_id) == (Decimal("2500000.00"), "按年度预算核减")
    assert not _audit_rows(portal, case.app_id, "granted_amount_withdrawn")
    assert grants.grant_of(portal, bureau, case.app_id).effective == Decimal("2500000.00")


def _force_amount(portal: Portal, application_id: int, amount: str) -> None:
    """An amount above the request, as stored before resubmissions withdrew such amounts."""
    with portal.transaction() as session:
        row = session.get(Application, application_id)
        assert row is not None
        row.granted_amount = Decimal(amount)
        session.add(row)


def test_no_case_goes_on_notice_or_is_approved_with_an_amount_above_the_request(
    portal: Portal, world: World
) -> None:
    case, lead = _scenario_case(portal, world, "2000000")
    bureau = lead.actors["rev_hzkgxj"]
    case.fire("rev_hzkgxj", "bureau_approve")
    _force_amount(portal, case.app_id, "3000000")
    # The panel's pass does not publish it: the scores are kept, the case waits in expert review.
    case.panel()
    assert case.state == "expert_review"
    assert grants.grant_of(portal, bureau, case.app_id).above_limit
    before = counts(portal, case.app_id)
    with pytest.raises(Refused) as refused:
        case.fire("rev_hzkgxj", "conclude_expert_review")
    assert refused.value.code == "grant_above_limit"
    assert (
        "¥3,000,000.00" in refused.value.message_zh and "申请金额 ¥2,000,000.00" in refused.value.message_zh
    )
    assert "公示" in refused.value.message_zh and "重新核定" in refused.value.message_zh
    assert "the amount requested, CNY 2,000,000.00," in refused.value.message_en
    assert counts(portal, case.app_id) == before
    grants.set_granted_amount(portal, bureau, case.app_id, Decimal("2000000"), "", case.version)
    case.fire("rev_hzkgxj", "conclude_expert_review")
    assert case.state == "public_notice"
    # On notice the amount can no longer be set: the approval refuses it, and the sweep skips the case.
    _force_amount(portal, case.app_id, "3000000")
    before_close = portal.today_override
    assert before_close is not None
    portal.today_override = before_close + timedelta(days=7)
    report = sla.sweep(portal)
    portal.today_override = before_close
    assert case.app_id in report.skipped and case.state == "public_notice"
    with portal.reading() as session:
        assert session.exec(select(Decision).where(Decision.application_id == case.app_id)).first() is None


def _resubmit_without_money(portal: Portal, case: Driver, lead: World) -> None:
    """Returned for amendment, the enterprise resubmits with a profile that no longer says the
    project is accepted as built: the rule's result is open (undetermined), and grants no money."""
    case.fire("rev_hzkgxj", "return_for_amendment", "请核实项目验收情况")
    owner = lead.actors["ent_b"]
    profile = enterprises.latest_profile(portal, owner)
    assert profile is not None
    facts = {**profile.facts, "project": {"scenario_in_guangzhou": True}}
    enterprises.confirm_profile(
        portal, owner, enterprises.save_profile(portal, owner, facts, profile.version).version
    )
    applications.save_draft(
        portal, owner, case.app_id, case.answers(requested_amount="3000000"), case.version
    )
    case.submit()


def test_a_resubmission_the_rule_grants_no_money_withdraws_the_amount_set(
    portal: Portal, world: World
) -> None:
    case, lead = _scenario_case(portal, world, "3000000")
    bureau = lead.actors["rev_hzkgxj"]
    grants.set_granted_amount(portal, bureau, case.app_id, Decimal("2500000"), "按年度预算核减", case.version)
    # Another case of the unit with an amount set, which the queue's amount sort puts first.
    other = _another_case(portal, lead, "3000000")
    grants.set_granted_amount(
        portal, bureau, other.app_id, Decimal("1000000"), "按年度预算核减", other.version
    )
    _resubmit_without_money(portal, case, lead)
    with portal.reading() as session:
        row = session.get(Application, case.app_id)
        assert row is not None and row.eligibility_outcome == "undetermined"
    # The row no longer holds an amount the rule does not grant: the queue reads what is true.
    assert _stored_grant(portal, case.app_id) == (None, None)
    by_amount = queue.queue_all(portal, bureau, queue.QueueQuery(sort="amount", descending=True))
    ids = [a.id for a, _ in by_amount]
    assert ids.index(other.app_id) < ids.index(case.app_id)
    assert [a.granted_amount for a, _ in by_amount if a.id == case.app_id] == [None]
    # Audited with the same event, saying the rule grants nothing (no ceiling, no default).
    [audited] = _audit_rows(portal, case.app_id, "granted_amount_withdrawn")
    assert audited.actor_role == "system" and audited.payload["via"] == "resubmission"
    assert Decimal(str(audited.payload["amount"])) == Decimal("2500000.00")
    assert audited.payload["ceiling"] is None and audited.payload["default"] is None
    assert audited.payload["reason"] == "按年度预算核减"
    # The lead unit's reviewers are told why, in words.
    [told] = [n for n in notifications.inbox(portal, bureau) if n.message == "note.grant_withdrawn_no_money"]
    _, body_zh = notifications.note_text(portal, told, "zh")
    _, body_en = notifications.note_text(portal, told, "en")
    assert "按政策规则已不涉及资金兑现" in body_zh and "¥2,500,000.00" in body_zh
    assert "the rule now grants it no money" in body_en and "no_money" not in body_en
    # The notice and the decision grant nothing.
    case.to_public_notice()
    [notice] = [n for n in notices.list_notices(portal) if n.application_id == case.app_id]
    assert notice.granted_amount is None
    case.to_approved()
    assert _decision(portal, case.app_id).granted_amount is None


def _reconcile(monkeypatch: pytest.MonkeyPatch, url: str, data_dir: Path, *args: str) -> Result:
    """`portal grants reconcile ARGS` on the test's database, as an administrator runs it."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, ["grants", "reconcile", *args])
    finally:
        get_settings.cache_clear()


def test_an_administrator_withdraws_an_amount_stuck_above_the_request_on_notice(
    portal: Portal,
    world: World,
    world_url: tuple[str, World],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case, lead = _scenario_case(portal, world, "2000000")
    bureau = lead.actors["rev_hzkgxj"]
    case.to_public_notice()
    _force_amount(portal, case.app_id, "3000000")  # stored before the checks existed
    stands = _another_case(portal, lead, "3000000")
    grants.set_granted_amount(
        portal, bureau, stands.app_id, Decimal("2800000"), "按年度预算核减", stands.version
    )
    start = portal.today_override
    assert start is not None
    portal.today_override = start + timedelta(days=8)
    # The reviewer who closes the notice is told, in words, what the administrator must do.
    with pytest.raises(Refused) as refused:
        notices.close_notice(portal, bureau, case.app_id, case.version)
    assert refused.value.code == "grant_above_limit"
    assert "请管理员核对并撤销超出的核定金额" in refused.value.message_zh
    assert "ask an administrator to check the case and withdraw the amount" in refused.value.message_en
    url = world_url[0]
    # A dry run lists the case, and only it, and changes nothing.
    before = counts(portal, case.app_id)
    dry = _reconcile(monkeypatch, url, tmp_path, "--case", str(case.app_id), "--case", str(stands.app_id))
    assert dry.exit_code == 0, dry.output
    assert f"would withdraw  application {case.app_id} (Public notice): CNY 3,000,000.00 set" in dry.stdout
    assert "above the amount requested, CNY 2,000,000.00" in dry.stdout
    assert f"application {stands.app_id} " not in dry.stdout and "1 to withdraw; dry run" in dry.stdout
    assert counts(portal, case.app_id) == before
    # Bad input is one line and exit 2.
    unknown = _reconcile(monkeypatch, url, tmp_path, "--case", "999999")
    assert unknown.exit_code == 2 and unknown.stderr == "error: --case: no application 999999\n"
    zero = _reconcile(monkeypatch, url, tmp_path, "--case", "0")
    assert zero.exit_code == 2 and zero.stderr == "error: --case: 0 is not an application number\n"
    # --apply withdraws it through the service: same audit event (marked as reconciled), reviewers told.
    done = _reconcile(monkeypatch, url, tmp_path, "--apply")
    assert done.exit_code == 0, done.output
    assert (
        f"withdrew        application {case.app_id}" in done.stdout
        and "1 withdrawn, 0 skipped" in done.stdout
    )
    assert _stored_grant(portal, case.app_id) == (None, None)
    assert _stored_grant(portal, stands.app_id) == (Decimal("2800000.00"), "按年度预算核减")
    [audited] = _audit_rows(portal, case.app_id, "granted_amount_withdrawn")
    assert audited.payload["via"] == "reconcile" and audited.actor_role == "system"
    [told] = [n for n in notifications.inbox(portal, bureau) if n.message == "note.grant_reconciled"]
    _, body_zh = notifications.note_text(portal, told, "zh")
    _, body_en = notifications.note_text(portal, told, "en")
    assert "管理员核对后撤销" in body_zh and "企业的申请金额" in body_zh and "¥3,000,000.00" in body_zh
    assert "it was more than the amount requested" in body_en
    again = _reconcile(monkeypatch, url, tmp_path, "--apply")
    assert again.exit_code == 0 and "0 withdrawn, 0 skipped" in again.stdout
    # The case proceeds with the amount requested.
    notices.close_notice(portal, bureau, case.app_id, case.version)
    assert _decision(portal, case.app_id).granted_amount == Decimal("2000000.00")
    portal.today_override = start
