"""Who the applicant is, and what an amendment may change (issue 10 §5), through the services.

Each refusal is checked to write nothing: no answers version, no attachment row, no audit row,
no file under the data directory.
"""

from decimal import Decimal
from pathlib import Path

import pytest
from services_helpers import PDF, Driver, World, counts
from sqlalchemy import func, select

from portal.db.tables import ApplicationAnswers, Attachment, AttachmentBlob
from portal.services import amendments, applications, notifications, registered_identity
from portal.services.context import Portal
from portal.services.errors import Refused, StaleVersion, ValidationFailed


def _written(portal: Portal, case: Driver) -> tuple[object, ...]:
    """Everything a refused call must leave as it was."""
    with portal.reading() as session:
        answers = session.execute(
            select(func.count())
            .select_from(ApplicationAnswers)
            .where(ApplicationAnswers.application_id == case.app_id)
        ).scalar_one()
        attachments = session.execute(select(func.count()).select_from(Attachment)).scalar_one()
        blobs = session.execute(select(func.count()).select_from(AttachmentBlob)).scalar_one()
    files = sorted(p.name for p in (portal.data_dir / "attachments").rglob("*") if p.is_file())
    return (*counts(portal, case.app_id), answers, attachments, blobs, files)


def _upload(portal: Portal, case: Driver, slot: str, content: bytes) -> None:
    applications.upload(
        portal,
        case.actor(case.owner),
        case.app_id,
        slot,
        content,
        content_type="application/pdf",
        original_name="合同.pdf",
        expected_version=case.version,
    )


def test_identity_fields_come_from_the_profile_and_cannot_be_changed(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    owner = case.actor("ent_a")
    registered = case.identity()
    assert (case.answers()["enterprise_name"], case.answers()["uscc"]) == (
        registered["name"],
        registered["uscc"],
    )
    before = _written(portal, case)
    with pytest.raises(ValidationFailed) as failed:
        applications.save_draft(
            portal, owner, case.app_id, case.answers(enterprise_name="别家公司有限公司"), case.version
        )
    assert [p.path for p in failed.value.errors] == ["enterprise_name"]
    assert "已核验的企业信息" in failed.value.errors[0].message
    with pytest.raises(ValidationFailed) as failed_en:
        applications.save_draft(
            portal, owner, case.app_id, case.answers(uscc="91440101MA5CXXXX0" + "1"), case.version, lang="en"
        )
    assert (
        failed_en.value.errors[0].path == "uscc" and "verified profile" in failed_en.value.errors[0].message
    )
    assert _written(portal, case) == before
    # Left out, they are filled in from the profile; the case can then be submitted.
    without = {k: v for k, v in case.answers().items() if k not in ("enterprise_name", "uscc")}
    applications.save_draft(portal, owner, case.app_id, without, case.version)
    assert case.answers()["enterprise_name"] == registered["name"]
    case.submit()
    assert case.state == "submitted"


def test_a_change_of_registration_since_the_draft_neither_blocks_it_nor_is_kept(
    portal: Portal, world: World
) -> None:
    """The draft holds the old name; the form posts back what it showed. Neither is the clerk's
    change, so saving and submitting go through and take the registered name."""
    case = Driver(portal, world)
    owner, stale = case.actor("ent_a"), case.answers()
    registered_identity.change_registration(
        portal, case.actor("admin"), case.identity()["uscc"], name="更名后的测试企业有限公司",
        district=case.identity()["district"], reason="营业执照变更",
    )  # fmt: skip
    case.submit()  # the draft saved before the change is not refused
    assert case.state == "submitted"
    case.fire(case.district_reviewer, "accept")
    amendments.return_for_amendment(
        portal,
        case.actor(case.district_reviewer),
        case.app_id,
        sections=[section.id for section in portal.forms[case.measure].sections],
        comment="请补充",
        expected_version=case.version,
    )
    applications.save_draft(portal, owner, case.app_id, stale, case.version)  # the old name, as shown before
    assert case.answers()["enterprise_name"] == "更名后的测试企业有限公司"
    with pytest.raises(ValidationFailed):  # a name that was never on record is still refused
        applications.save_draft(
            portal, owner, case.app_id, case.answers(enterprise_name="别家"), case.version
        )


def test_an_amendment_changes_only_the_reopened_sections(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.submit()
    case.fire("rev_tianhe", "accept")
    amendments.return_for_amendment(
        portal,
        case.actor("rev_tianhe"),
        case.app_id,
        sections=["compute"],
        comment="请核对算力采购金额",
        expected_version=case.version,
    )
    owner = case.actor("ent_a")
    # The enterprise is told what to amend and why, in words: the section's title, the note.
    [told, *_] = notifications.inbox(portal, owner)
    section = next(s for s in portal.forms[case.measure].sections if s.id == "compute")
    for lang, title in (("zh", section.title.zh), ("en", section.title.en)):
        words = " ".join(notifications.note_text(portal, told, lang))
        assert title in words and "请核对算力采购金额" in words, words
        assert "['compute']" not in words and "return_for_amendment" not in words
    before = _written(portal, case)
    with pytest.raises(ValidationFailed) as failed:
        applications.save_draft(portal, owner, case.app_id, case.answers(contact_person="李四"), case.version)
    assert [p.path for p in failed.value.errors] == ["contact_person"]
    assert _written(portal, case) == before
    # A closed section left out keeps its submitted answers; the reopened one changes.
    applications.save_draft(
        portal,
        owner,
        case.app_id,
        {"compute_purchase": "9000000", "platform_name": "新平台", "contract_number": "C-2"},
        case.version,
    )
    answers = case.answers()
    assert (answers["contact_person"], answers["compute_purchase"], answers["platform_name"]) == (
        "张工",
        "9000000",
        "新平台",
    )
    case.submit()
    assert case.state == "district_review"


def test_a_refused_upload_stores_nothing(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.submit()
    case.fire("rev_tianhe", "accept")
    # Not editable (in district review): refused before anything is written.
    before = _written(portal, case)
    with pytest.raises(Refused) as refused:
        _upload(portal, case, "purchase_contract", PDF + b"new contract")
    assert refused.value.code == "not_editable"
    assert _written(portal, case) == before
    # Returned for the thresholds only: the purchase contract's section stays closed.
    amendments.return_for_amendment(
        portal,
        case.actor("rev_tianhe"),
        case.app_id,
        sections=["thresholds"],
        comment="请补充人员证书",
        expected_version=case.version,
    )
    before = _written(portal, case)
    with pytest.raises(Refused) as closed:
        _upload(portal, case, "purchase_contract", PDF + b"another contract")
    assert closed.value.code == "section_closed"
    assert _written(portal, case) == before


def test_an_accepted_upload_is_stored_once(portal: Portal, world: World, tmp_path: Path) -> None:
    case = Driver(portal, world)
    before = _written(portal, case)
    # A stale version is refused too, and leaves no file behind.
    with pytest.raises(StaleVersion):
        applications.upload(
            portal,
            case.actor("ent_a"),
            case.app_id,
            "invoices",
            PDF + b"late",
            content_type="application/pdf",
            original_name="x.pdf",
            expected_version=case.version - 1,
        )
    assert _written(portal, case) == before
    _upload(portal, case, "invoices", PDF + b"invoice 2")
    after = _written(portal, case)
    stored = after[6] + len(after[7]) - before[6] - len(before[7])  # type: ignore[operator,arg-type]
    assert after[5] == before[5] + 1 and stored == 1  # type: ignore[operator]
    assert Decimal(case.version) == Decimal(before[1]) + 1  # type: ignore[arg-type]
