"""Where the bytes of uploads live: the database, or the embedded default's data directory.

Several web instances share one PostgreSQL and no disk, so there the bytes are rows of
`attachment_blob`, written in the same transaction as the attachment's metadata: a refused
upload leaves nothing behind. On the embedded SQLite default they stay files named by their
sha256. Either way an upload is addressed by its sha256 and stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from portal.db.tables import AttachmentBlob
from portal.services.errors import NotFound

StoreKind = Literal["database", "filesystem"]


class BlobStore(Protocol):
    """Content-addressed bytes: `put` inside the caller's transaction, `read` after it."""

    def put(self, session: Session, sha256: str, content: bytes) -> bool:
        """Store the bytes unless present; True when this call created them."""

    def discard(self, sha256: str) -> None:
        """Undo a `put` whose transaction did not commit (a no-op where the rollback does it)."""

    def read(self, sha256: str) -> bytes:
        """The stored bytes; NotFound when there are none."""


@dataclass(frozen=True)
class FileBlobs:
    """Files under `<data_dir>/attachments/<2 hex>/<sha256>`, written before the row commits."""

    root: Path

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, session: Session, sha256: str, content: bytes) -> bool:
        path = self._path(sha256)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(path)
        return True

    def discard(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def read(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound("attachment content", sha256) from None


@dataclass(frozen=True)
class DatabaseBlobs:
    """Rows of `attachment_blob`, inserted in the caller's transaction."""

    engine: Engine

    def put(self, session: Session, sha256: str, content: bytes) -> bool:
        # ON CONFLICT DO NOTHING: two instances storing the same bytes at once both succeed.
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(AttachmentBlob)
            .values(sha256=sha256, content=content)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        result = session.connection().execute(statement)
        return bool(result.rowcount)

    def discard(self, sha256: str) -> None:
        """Nothing to do: the rolled-back transaction took the row with it."""

    def read(self, sha256: str) -> bytes:
        with Session(self.engine) as session:
            blob = session.get(AttachmentBlob, sha256)
            if blob is None:
                raise NotFound("attachment content", sha256)
            return blob.content


def blob_store(kind: StoreKind | None, engine: Engine, data_dir: Path) -> BlobStore:
    """The configured store; unset means the database on PostgreSQL and files elsewhere."""
    chosen = kind or ("database" if engine.dialect.name == "postgresql" else "filesystem")
    if chosen == "database":
        return DatabaseBlobs(engine)
    return FileBlobs(data_dir / "attachments")
