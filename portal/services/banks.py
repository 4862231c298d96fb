"""Partner banks (一链一行) and their API keys: registration, issue, rotation, revocation, lookup.

A key reads `pbk_<prefix>_<secret>`: the prefix is 12 random hex characters that find the row
and are what operators see; the secret is 256 random bits. Only sha256 of the whole key is
stored. A fast unsalted hash is right here, unlike for passwords: a 256-bit random token
cannot be guessed or looked up in a precomputed table, so a slow hash (argon2) would add
tens of milliseconds to every bank call and buy nothing.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import ApiKey, Bank, BankAccessLog
from portal.services.context import Portal
from portal.services.errors import Conflict, FieldProblem, Forbidden, NotFound, Refused, ValidationFailed
from portal.workflows import Actor

KEY_TAG = "pbk"
SCOPES = ("eligibility:read", "loans:write")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
_KEY = re.compile(rf"^{KEY_TAG}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key: `key` is shown once and never stored."""

    bank_code: str
    prefix: str
    key: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class BankCaller:
    """An authenticated API call's bank and key."""

    bank_id: int
    bank_code: str
    api_key_id: int
    prefix: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class KeyListing:
    prefix: str
    scopes: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class BankListing:
    code: str
    name: str
    name_en: str | None
    active: bool
    keys: list[KeyListing]


def bank_name(name: str, name_en: str | None, lang: str) -> str:
    """A bank's name for a reader of `lang`: its English name on English pages when it has one,
    else its registered Chinese name (every bank has one; banks added before `name_en` have no
    English name)."""
    return name_en if lang == "en" and name_en else name


def _english(name_en: str | None) -> str | None:
    """An English name as typed; blank is none."""
    return (name_en or "").strip() or None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _normalise_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        message = f"{', '.join(unknown) or '(none)'}: choose from {', '.join(SCOPES)}"
        raise ValidationFailed([FieldProblem("scopes", message, "scopes")])
    return wanted


def _bank_by_code(session: Session, code: str) -> Bank:
    bank = session.exec(select(Bank).where(col(Bank.code) == code)).first()
    if bank is None:
        raise NotFound("bank", code)
    return bank


def _key_by_prefix(session: Session, prefix: str) -> ApiKey:
    row = session.exec(select(ApiKey).where(col(ApiKey.prefix) == prefix)).first()
    if row is None:
        raise NotFound("API key", prefix)
    return row


def _operator(actor: Actor | None) -> None:
    """The CLI (no actor: the machine's operator) or the administrator's page; nobody else."""
    if actor is not None and actor.role != "admin":
        raise Forbidden("仅管理员可以管理合作银行", "only an administrator may manage partner banks")


def _audit_bank(
    session: Session, bank_id: int, event: str, payload: Mapping[str, object], actor: Actor | None
) -> None:
    """Recorded as the administrator who acted on the page, or as the system for the CLI."""
    append_audit(
        session,
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role if actor else "system",
        subject_type="bank",
        subject_id=bank_id,
        event=event,
        payload=payload,
    )


def _revoke(
    session: Session, portal: Portal, row: ApiKey, payload: Mapping[str, object], actor: Actor | None
) -> None:
    row.revoked_at = portal.now()
    session.add(row)
    _audit_bank(session, row.bank_id, "api_key_revoked", payload, actor)


def add_bank(
    portal: Portal, *, name: str, code: str, name_en: str | None = None, actor: Actor | None = None
) -> Bank:
    """Register a partner bank; its code (lower case, 2–32 characters) names it in every other command.

    `name` is its Chinese name; `name_en` (optional, blank is none) what English pages call it."""
    _operator(actor)
    problems = []
    if not _CODE.match(code):
        problems.append(
            FieldProblem(
                "code", f"{code!r}: use 2–32 of a-z, 0-9, '-' and '_', starting alphanumeric", "bank_code"
            )
        )
    if not name.strip():
        problems.append(FieldProblem("name", "required", "required"))
    if problems:
        raise ValidationFailed(problems)
    with portal.transaction() as session:
        if session.exec(select(Bank.id).where(col(Bank.code) == code)).first() is not None:
            raise Conflict(f"a bank with code {code!r} already exists")
        bank = Bank(code=code, name=name.strip(), name_en=_english(name_en), created_at=portal.now())
        session.add(bank)
        try:
            session.flush()
        except IntegrityError:  # registered concurrently
            raise Conflict(f"a bank with code {code!r} already exists") from None
        payload = {"code": code, "name": bank.name, "name_en": bank.name_en}
        _audit_bank(session, cast(int, bank.id), "bank_added", payload, actor)
        return bank


def set_name_en(portal: Portal, code: str, name_en: str | None, actor: Actor | None = None) -> Bank:
    """Give bank `code` its English name, or take it away (blank): a bank registered before banks
    had one (revision 0029) has none until it is set here."""
    _operator(actor)
    with portal.transaction() as session:
        bank = _bank_by_code(session, code)
        payload = {"code": code, "name_en": _english(name_en), "was": bank.name_en}
        bank.name_en = _english(name_en)
        session.add(bank)
        _audit_bank(session, cast(int, bank.id), "bank_name_en_set", payload, actor)
        return bank


def _issue(
    session: Session, portal: Portal, bank: Bank, scopes: tuple[str, ...], event: str, actor: Actor | None
) -> IssuedKey:
    prefix = secrets.token_hex(6)
    key = f"{KEY_TAG}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        bank_id=cast(int, bank.id),
        prefix=prefix,
        key_hash=key_hash(key),
        scopes=" ".join(scopes),
        created_at=portal.now(),
    )
    session.add(row)
    session.flush()
    _audit_bank(session, cast(int, bank.id), event, {"prefix": prefix, "scopes": list(scopes)}, actor)
    return IssuedKey(bank.code, prefix, key, scopes)


def issue_key(
    portal: Portal, code: str, scopes: Iterable[str] = SCOPES, actor: Actor | None = None
) -> IssuedKey:
    """A new key for bank `code`; the caller shows `key` once, the database keeps only its hash."""
    _operator(actor)
    wanted = _normalise_scopes(scopes)
    with portal.transaction() as session:
        bank = _bank_by_code(session, code)
        if not bank.active:
            raise Refused("bank_inactive", "该银行已停用", f"bank {code!r} is deactivated")
        return _issue(session, portal, bank, wanted, "api_key_issued", actor)


def revoke_key(portal: Portal, prefix: str, actor: Actor | None = None) -> ApiKey:
    """Revoke a key at once; revoking a revoked key is refused so that a typo is noticed."""
    _operator(actor)
    with portal.transaction() as session:
        row = _key_by_prefix(session, prefix)
        if row.revoked_at is not None:
            raise Refused("already_revoked", "该密钥已吊销", f"key {prefix} was already revoked")
        _revoke(session, portal, row, {"prefix": prefix}, actor)
        return row


def rotate_key(portal: Portal, prefix: str, actor: Actor | None = None) -> IssuedKey:
    """Revoke a live key and issue its successor with the same scopes, in one transaction."""
    _operator(actor)
    with portal.transaction() as session:
        old = _key_by_prefix(session, prefix)
        if old.revoked_at is not None:
            raise Refused(
                "already_revoked", "该密钥已吊销", f"key {prefix} is revoked; issue a new one instead"
            )
        bank = session.get(Bank, old.bank_id)
        assert bank is not None  # the foreign key guarantees it
        _revoke(session, portal, old, {"prefix": prefix, "rotated": True}, actor)
        return _issue(session, portal, bank, tuple(old.scopes.split()), "api_key_issued", actor)


def list_banks(portal: Portal) -> list[BankListing]:
    """Every bank with its keys' prefixes, scopes, revocation and last-use times (never a secret)."""
    with portal.reading() as session:
        banks = session.exec(select(Bank).order_by(col(Bank.code))).all()
        # A key's last use is its newest access-log row: one index probe per key.
        last_used = (
            select(func.max(BankAccessLog.at))
            .where(col(BankAccessLog.api_key_id) == col(ApiKey.id))
            .scalar_subquery()
        )
        keys = session.exec(select(ApiKey, last_used).order_by(col(ApiKey.created_at), col(ApiKey.id))).all()
    by_bank: dict[int, list[KeyListing]] = {}
    for key, used_at in keys:
        by_bank.setdefault(key.bank_id, []).append(
            KeyListing(key.prefix, key.scopes, key.created_at, key.revoked_at, used_at)
        )
    return [BankListing(b.code, b.name, b.name_en, b.active, by_bank.get(cast(int, b.id), [])) for b in banks]


def english_names(portal: Portal) -> dict[str, str]:
    """Each bank's English name by its Chinese one, for the banks that have one: the supervision
    figures group a bank's records by its Chinese name, and English pages show this instead."""
    with portal.reading() as session:
        rows = session.exec(
            select(Bank.name, Bank.name_en).where(col(Bank.name_en).is_not(None)).order_by(col(Bank.code))
        ).all()
    return {name: cast(str, name_en) for name, name_en in rows}


def active_banks(portal: Portal) -> list[Bank]:
    """The banks an enterprise may grant consent to."""
    with portal.reading() as session:
        return list(session.exec(select(Bank).where(col(Bank.active)).order_by(col(Bank.name))).all())


# Built once, as every bank request runs it: building a statement and its cache key cost more
# than SQLite's own work for the lookup. Plain columns, not ORM objects: loading the two rows
# as objects cost more than the query.
_KEYS: Table = ApiKey.__table__  # type: ignore[attr-defined]
_BANKS: Table = Bank.__table__  # type: ignore[attr-defined]
_KEY_BY_PREFIX = (
    core_select(
        *(_KEYS.c[name] for name in ("id", "key_hash", "revoked_at", "scopes", "prefix")),
        _BANKS.c.id.label("bank_id"),
        _BANKS.c.code,
        _BANKS.c.active,
    )
    .join(_BANKS, _BANKS.c.id == _KEYS.c.bank_id)
    .where(_KEYS.c.prefix == bindparam("prefix"))
)


def authenticate(portal: Portal, presented: str | None) -> BankCaller | None:
    """The bank behind a presented key, or None for a missing, malformed, unknown or revoked key.

    The stored hash is compared in constant time, so response timing says nothing about
    how much of a guessed key was right.
    """
    match = _KEY.match(presented or "")
    if match is None:
        return None
    with portal.reading() as session:
        key = session.connection().execute(_KEY_BY_PREFIX, {"prefix": match[1]}).first()
    if key is None:
        return None
    if not hmac.compare_digest(key.key_hash, key_hash(cast(str, presented))):
        return None
    if key.revoked_at is not None or not key.active:
        return None
    return BankCaller(
        bank_id=key.bank_id,
        bank_code=key.code,
        api_key_id=key.id,
        prefix=key.prefix,
        scopes=frozenset(key.scopes.split()),
    )
