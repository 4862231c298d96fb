"""Attachment bytes kept in the database, so every web instance serves every upload."""

from __future__ import annotations

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel


class AttachmentBlob(SQLModel, table=True):
    """The bytes of one upload, addressed by their sha256 and stored once for everybody."""

    __tablename__ = "attachment_blob"

    sha256: str = Field(primary_key=True, max_length=64)
    content: bytes = Field(sa_type=LargeBinary)
