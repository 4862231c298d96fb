"""Signed checkpoints of the hash chains: what catches truncation and a wholesale rewrite.

A hash chain alone proves that each row follows from the one before; someone who deletes the
newest rows, or rewrites a row together with every hash after it, leaves a chain that still
verifies. A checkpoint states each chain's head (seq and hash) at a moment and is signed with
Ed25519. Once a copy lives outside the database (exported, or fetched from the public URL), the
chain can be checked against it: the row at that seq must still exist with that hash.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Table, select
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from portal.db.access_log import ACCESS_LOG_CHAIN_LOCK
from portal.db.audit import AUDIT_CHAIN_LOCK
from portal.db.canonical import canonical_json
from portal.db.chain import chain_tail, lock_chain
from portal.db.tables import AuditCheckpoint, AuditEvent, BankAccessLog
from portal.services.context import Portal

FORMAT = "portal-audit-checkpoint/1"
_CHAINS: tuple[tuple[str, Table, int], ...] = (
    ("audit_event", AuditEvent.__table__, AUDIT_CHAIN_LOCK),  # type: ignore[attr-defined]
    ("bank_access_log", BankAccessLog.__table__, ACCESS_LOG_CHAIN_LOCK),  # type: ignore[attr-defined]
)


class CheckpointError(ValueError):
    """A key or checkpoint document that cannot be used; the message names what is wrong."""


@dataclass(frozen=True)
class KeyPair:
    """An Ed25519 key pair as the settings hold it: base64 of the raw 32-byte keys."""

    private: str
    public: str


def generate_keys() -> KeyPair:
    key = Ed25519PrivateKey.generate()
    return KeyPair(_b64(key.private_bytes_raw()), _b64(key.public_key().public_bytes_raw()))


def public_key_of(private_text: str) -> str:
    return _b64(_private_key(private_text).public_key().public_bytes_raw())


def write_checkpoint(portal: Portal, private_text: str) -> dict[str, Any]:
    """Sign and store the heads of both chains, taken together under their append locks."""
    key = _private_key(private_text)
    now = portal.now()
    with portal.transaction() as session:
        heads = []
        connection = session.connection()
        for name, table, lock in _CHAINS:
            lock_chain(connection, lock)
            seq, head = chain_tail(connection, table)
            heads.append({"chain": name, "seq": seq, "head_hash": head})
        document: dict[str, Any] = {
            "format": FORMAT,
            "at": now.isoformat(),
            "chains": heads,
            "public_key": _b64(key.public_key().public_bytes_raw()),
        }
        document["signature"] = _b64(key.sign(_signed_bytes(document)))
        session.add(AuditCheckpoint(at=now, document=document))
    return document


def latest_checkpoint(portal: Portal) -> dict[str, Any] | None:
    with portal.reading() as session:
        row = session.exec(
            sqlmodel_select(AuditCheckpoint).order_by(col(AuditCheckpoint.id).desc()).limit(1)
        ).first()
    return None if row is None else dict(row.document)


def check_against(portal: Portal, document: object, public_text: str) -> list[str]:
    """What no longer matches the checkpoint (empty when the chains still hold it).

    The signature is checked against `public_text`, the key the verifier trusts, never against
    the key the document names: anyone can sign a checkpoint with a key of their own.
    """
    chains = _checked_document(document, public_text)
    problems = []
    with portal.reading() as session:
        for name, table, _ in _CHAINS:
            stated = chains.get(name)
            if stated is None or stated["seq"] == 0:
                continue
            found = session.execute(select(table.c.hash).where(table.c.seq == stated["seq"])).first()
            if found is None:
                problems.append(f"{name}: row {stated['seq']} named by the checkpoint is gone (truncated)")
            elif found[0] != stated["head_hash"]:
                problems.append(f"{name}: row {stated['seq']} differs from the checkpoint (rewritten)")
    return problems


def _checked_document(document: object, public_text: str) -> dict[str, dict[str, Any]]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"not a checkpoint: the format is not {FORMAT}")
    try:
        signature = base64.b64decode(str(document["signature"]), validate=True)
        _public_key(public_text).verify(signature, _signed_bytes(document))
        chains = {
            str(c["chain"]): {"seq": int(c["seq"]), "head_hash": str(c["head_hash"])}
            for c in document["chains"]
        }
    except InvalidSignature:
        raise CheckpointError(
            "the checkpoint's signature does not verify with the trusted public key"
        ) from None
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise CheckpointError(f"the checkpoint is malformed: {exc}") from None
    return chains


def _signed_bytes(document: dict[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in document.items() if k != "signature"}).encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _raw_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        raise CheckpointError(f"the {what} is not base64") from None
    if len(raw) != 32:
        raise CheckpointError(f"the {what} must be 32 bytes (base64 of a raw Ed25519 key)")
    return raw


def _private_key(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_raw_key(text, "signing key"))


def _public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw_key(text, "public key"))
