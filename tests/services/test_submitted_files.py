"""What each submission sent stays on record when an amendment replaces or removes a file, on both
packs and both backends: the reviewer reads and downloads the earlier version, nobody else can,
and the migration back-fills the files of cases submitted before it."""

import pytest
from services_helpers import CASTS, PDF, Driver, World
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from portal.db import migrations
from portal.db.tables import SubmittedAttachment
from portal.services import applications
from portal.services.case_files import (
    CaseFile,
    SlotChange,
    SubmittedFile,
    case_files,
    download_case_file,
    submitted_files,
)
from portal.services.context import Portal
from portal.services.errors import NotFound

pytestmark = pytest.mark.parametrize("cast", CASTS, indirect=True, ids=lambda cast: cast.key)

ORIGINAL = PDF + b"% first submission\n"
REPLACEMENT = PDF + b"% amended\n"


def _slot(case: Driver) -> str:
    return next(iter(case.portal.forms[case.measure].attachments))


def _put(case: Driver, slot: str, content: bytes, name: str) -> CaseFile:
    applications.upload(
        case.portal,
        case.actor(case.owner),
        case.app_id,
        slot,
        content,
        content_type="application/pdf",
        original_name=name,
        expected_version=case.version,
    )
    files = case_files(case.portal, case.actor(case.owner), case.app_id)
    return next(f for f in files if f.original_name == name)


def _replaced(portal: Portal, world: World) -> tuple[Driver, CaseFile, CaseFile]:
    """A case whose amendment replaced the file it was first submitted with: (case, old, new)."""
    case = Driver(portal, world)
    slot = _slot(case)
    original = _put(case, slot, ORIGINAL, "原件.pdf")
    case.to_returned()
    replacement = _put(case, slot, REPLACEMENT, "补正件.pdf")
    applications.detach(portal, case.actor(case.owner), case.app_id, slot, original.id, case.version)
    case.submit()
    return case, original, replacement


def test_a_replaced_file_stays_with_the_submission_that_sent_it(portal: Portal, world: World) -> None:
    case, original, replacement = _replaced(portal, world)
    reviewer = case.actor(case.district_reviewer)
    sent = submitted_files(portal, reviewer, case.app_id)
    assert sent.count == 2
    assert original in sent.of(1) and replacement not in sent.of(1)
    assert replacement in sent.of(2) and original not in sent.of(2)
    # Every other file went unchanged into both submissions.
    assert [f for f in sent.of(1) if f != original] == [f for f in sent.of(2) if f != replacement]

    now = case_files(portal, reviewer, case.app_id)
    assert original not in now
    assert sent.earlier(now) == [SubmittedFile(1, original)]
    assert sent.changes() == [SlotChange(original.slot, [replacement], [original])]

    # The earlier version downloads as the current files do, bytes intact, and the download is audited.
    item, content = download_case_file(portal, reviewer, case.app_id, original.id)
    assert (item, content) == (original, ORIGINAL)


def test_an_earlier_version_is_no_easier_to_read_than_a_current_file(portal: Portal, world: World) -> None:
    case, original, _ = _replaced(portal, world)
    for outsider in (world.away_reviewer, "ent_b"):
        actor = case.actor(outsider)
        with pytest.raises(NotFound):
            download_case_file(portal, actor, case.app_id, original.id)
        with pytest.raises(NotFound):
            submitted_files(portal, actor, case.app_id)
    # The owner still reads what it sent.
    assert download_case_file(portal, case.actor("ent_a"), case.app_id, original.id)[1] == ORIGINAL


def test_a_resubmission_that_keeps_the_files_changes_none(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    before = submitted_files(portal, case.actor("ent_a"), case.app_id)
    assert (before.count, before.files, before.changes()) == (0, [], None)  # a draft sent nothing yet
    case.to_returned()
    case.submit()
    sent = submitted_files(portal, case.actor(case.district_reviewer), case.app_id)
    assert sent.count == 2 and sent.of(1) == sent.of(2) != []
    assert sent.changes() == [] and sent.earlier(case_files(portal, case.actor("ent_a"), case.app_id)) == []
    with portal.reading() as session:
        versions = session.exec(
            select(SubmittedAttachment.answers_version).where(
                col(SubmittedAttachment.application_id) == case.app_id
            )
        ).all()
    # The answers were not changed either: both submissions went with the same version of them.
    assert set(versions) == {1}


def test_the_record_is_append_only(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    case.to_district_review()
    for statement in ("UPDATE submitted_attachment SET slot = 'other'", "DELETE FROM submitted_attachment"):
        with pytest.raises(DBAPIError, match="append-only"), portal.engine.begin() as connection:
            connection.execute(text(statement))


def test_the_migration_back_fills_cases_submitted_before_it(portal: Portal, world: World) -> None:
    """Down to the revision before the table and up again: what the cases hold now is recorded
    as their latest submission; a draft gets nothing. (Each test has its own database copy.)"""
    amended, original, replacement = _replaced(portal, world)
    once = Driver(portal, world)
    once.to_district_review()
    Driver(portal, world)  # a draft, never submitted
    with portal.reading() as session:
        before = sorted(
            (row.application_id, row.submission, row.slot, row.attachment_id)
            for row in session.exec(select(SubmittedAttachment)).all()
        )
    portal.engine.dispose()
    url = portal.engine.url.render_as_string(hide_password=False)
    migrations.downgrade(url, "0021_payment_line_by_case")
    migrations.upgrade(url)
    with portal.reading() as session:
        after = sorted(
            (row.application_id, row.submission, row.slot, row.attachment_id)
            for row in session.exec(select(SubmittedAttachment)).all()
        )
    # The first submission of the amended case is not known to the links: only its latest is.
    assert after == [row for row in before if (row[0], row[1]) != (amended.app_id, 1)]
    assert {row[0] for row in after} == {amended.app_id, once.app_id}  # not the draft
    assert (amended.app_id, 2, replacement.slot, replacement.id) in after
    assert all(row[3] != original.id for row in after)


def test_staff_read_only_what_was_submitted_while_the_enterprise_amends(portal: Portal, world: World) -> None:
    """An amendment under way is the enterprise's own: its new file is neither among the case's
    files for the reviewer nor downloadable by them until it is resubmitted; then it is, as new."""
    case = Driver(portal, world)
    slot = _slot(case)
    original = _put(case, slot, ORIGINAL, "原件.pdf")
    case.to_returned()
    draft = _put(case, slot, REPLACEMENT, "补正件.pdf")
    applications.detach(portal, case.actor(case.owner), case.app_id, slot, original.id, case.version)
    owner, reviewer, admin = (case.actor(name) for name in (case.owner, case.district_reviewer, "admin"))
    mine = case_files(portal, owner, case.app_id)
    assert draft in mine and original not in mine
    sent = submitted_files(portal, reviewer, case.app_id)
    for staff in (reviewer, admin):
        files = case_files(portal, staff, case.app_id)
        assert files == sent.of(1) and original in files and draft not in files
        with pytest.raises(NotFound):
            download_case_file(portal, staff, case.app_id, draft.id)
        assert download_case_file(portal, staff, case.app_id, original.id)[1] == ORIGINAL
    assert download_case_file(portal, owner, case.app_id, draft.id)[1] == REPLACEMENT

    case.submit()
    sent = submitted_files(portal, reviewer, case.app_id)
    files = case_files(portal, reviewer, case.app_id)
    assert draft in files and original not in files
    assert download_case_file(portal, reviewer, case.app_id, draft.id)[1] == REPLACEMENT
