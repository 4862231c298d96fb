"""Upload bytes live where every instance can read them: the database on PostgreSQL (issue 13 §5).

Two `Portal`s on one database with separate data directories stand for two web instances that
share no disk. On the embedded SQLite default the bytes stay files under the data directory.
"""

from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import func, select

from portal.db.tables import AttachmentBlob
from portal.services import applications
from portal.services.blobs import DatabaseBlobs, FileBlobs
from portal.services.context import Portal
from portal.services.errors import NotFound
from portal.workflows import Actor

PDF = b"%PDF-1.4 shared storage\n%%EOF"


def _blob_rows(portal: Portal) -> int:
    with portal.reading() as session:
        return int(session.exec(select(func.count()).select_from(AttachmentBlob)).one())


def test_the_default_store_follows_the_database(portal: Portal, db_backend: str) -> None:
    expected = DatabaseBlobs if db_backend == "postgres" else FileBlobs
    assert isinstance(portal.blobs, expected)


def test_an_upload_on_one_instance_downloads_on_another(portal: Portal, ent_a: Actor, tmp_path: Path) -> None:
    instance_a = replace(portal, attachment_store="database", data_dir=tmp_path / "a")
    instance_b = replace(portal, attachment_store="database", data_dir=tmp_path / "b")
    stored = applications.store_attachment(
        instance_a, ent_a, PDF, content_type="application/pdf", original_name="licence.pdf"
    )
    assert instance_b.blobs.read(stored.sha256) == PDF
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    # The same bytes again: one row, addressed by the sha256, stored once.
    again = applications.store_attachment(
        instance_b, ent_a, PDF, content_type="application/pdf", original_name="again.pdf"
    )
    assert again.id == stored.id and _blob_rows(instance_a) == 1


def test_the_filesystem_store_keeps_files_under_the_data_directory(
    portal: Portal, ent_a: Actor, tmp_path: Path
) -> None:
    local = replace(portal, attachment_store="filesystem", data_dir=tmp_path / "data")
    stored = applications.store_attachment(
        local, ent_a, PDF, content_type="application/pdf", original_name="licence.pdf"
    )
    path = tmp_path / "data" / "attachments" / stored.sha256[:2] / stored.sha256
    assert path.read_bytes() == PDF and _blob_rows(local) == 0
    path.unlink()
    with pytest.raises(NotFound):
        local.blobs.read(stored.sha256)
