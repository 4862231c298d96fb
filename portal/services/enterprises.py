"""Enterprises, their users and their versioned profile facts.

A profile edit adds a version and never rewrites one, so the version an application was
submitted with stays exactly as it was.
"""

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from portal.city import City, split_fact
from portal.db.audit import append_audit, payload_hash
from portal.db.tables import Enterprise, EnterpriseProfile, Role, User
from portal.rules import FactError
from portal.services.access import actor_of
from portal.services.auth import USERNAME_LIMIT, check_password_strength, check_username, hash_password
from portal.services.context import Portal
from portal.services.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    NotFound,
    Refused,
    StaleVersion,
    ValidationFailed,
)
from portal.services.registration import REQUIRED, Registration, audit_registered, problems_of
from portal.uscc import validate_uscc
from portal.workflows import Actor

BOOTSTRAP = "bootstrap"
_STAFF_ROLES = frozenset({Role.REVIEWER.value, Role.EXPERT.value, Role.SUPERVISOR.value, Role.ADMIN.value})


def audit_enterprise(
    session: Session, actor: Actor, enterprise_id: int, event: str, payload: Mapping[str, object]
) -> None:
    """Record what one of the enterprise's own users did to its data (profile, consents)."""
    append_audit(
        session,
        actor_id=actor.user_id,
        actor_role=actor.role,
        subject_type="enterprise",
        subject_id=enterprise_id,
        event=event,
        payload=payload,
    )


def _check_new_user(
    session: Session, username: str, password: str, personal: tuple[str | None, ...] = ()
) -> list[FieldProblem]:
    problems = []
    bad_name = check_username(username) if username.strip() else "required"
    if bad_name is not None:
        problems.append(FieldProblem("username", bad_name, bad_name, {"n": USERNAME_LIMIT}))
    elif session.exec(select(User.id).where(col(User.username) == username)).first() is not None:
        problems.append(FieldProblem("username", "already taken", "username_taken"))
    weak = check_password_strength(password, (username, *personal))
    if weak is not None:
        problems.append(FieldProblem("password", weak, f"password_{weak}"))
    return problems


def district_problems(portal: Portal, district: str) -> list[FieldProblem]:
    """A district must be one the pack knows (pack.yaml `jurisdictions`), or jurisdiction matches nothing."""
    allowed = portal.city.jurisdictions.labels
    if district not in allowed:
        return [FieldProblem("district", f"{district!r} is not one of {sorted(allowed)}", "choice")]
    return []


def register_enterprise(
    portal: Portal,
    *,
    uscc: str,
    name: str,
    district: str,
    username: str,
    password: str,
    display_name: str,
    email: str | None = None,
    ai_track: str | None = None,
    verified: bool = False,
) -> tuple[Enterprise, User]:
    """Create an enterprise and its first user at once: the trusted path of the demo seed and tests.

    The public registration page goes through `registration.register`, which answers alike
    whatever is on record; here a taken code or name is a field error. `verified` marks the
    enterprise as verified by whoever set it up (`verified_via` = "bootstrap").
    """
    form = Registration(
        uscc=uscc.upper(),
        name=name.strip(),
        district=district,
        username=username,
        display_name=display_name,
        email=email or "",
        password=password,
        password2=password,
        ai_track=ai_track,
    )
    required = tuple(field for field in REQUIRED if field not in ("email", "password"))
    problems = [p for p in problems_of(portal, form, required) if p.path != "password"]
    with portal.transaction() as session:
        problems += _check_new_user(session, username, password, (display_name, email, name))
        canonical = form.uscc
        if not problems:
            canonical = validate_uscc(form.uscc)
            if session.exec(select(Enterprise.id).where(col(Enterprise.uscc) == canonical)).first():
                problems.append(
                    FieldProblem("uscc", "an enterprise with this code is already registered", "uscc_taken")
                )
        if problems:
            raise ValidationFailed(problems)
        enterprise = Enterprise(uscc=canonical, name=form.name, district=district, ai_track=ai_track)
        if verified:
            enterprise.verified_at = portal.now()
            enterprise.verified_via = BOOTSTRAP
        session.add(enterprise)
        session.flush()
        user = User(
            username=username,
            display_name=display_name,
            email=email,
            password_hash=hash_password(password, portal.password_cost),
            role=Role.ENTERPRISE.value,
            enterprise_id=enterprise.id,
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError:  # a concurrent registration took the code or the name
            raise Conflict("the USCC or user name was registered concurrently") from None
        audit_registered(session, user, enterprise)
        return enterprise, user


def staff_problems(portal: Portal, role: str, district: str | None, bureau: str | None) -> list[FieldProblem]:
    """What is wrong with a staff account's role, district and lead unit (new or edited)."""
    problems: list[FieldProblem] = []
    if role not in _STAFF_ROLES:
        problems.append(FieldProblem("role", f"{role!r} is not one of {sorted(_STAFF_ROLES)}", "choice"))
    if role == Role.REVIEWER.value and district is None and bureau is None:
        problems.append(
            FieldProblem("district", "a reviewer needs a district, a bureau or both", "reviewer_scope")
        )
    if role == Role.SUPERVISOR.value and bureau is not None:
        problems.append(
            FieldProblem(
                "bureau",
                "a supervisor is city-wide or limited to one district, not to a unit",
                "supervisor_unit",
            )
        )
    if district is not None:
        problems += district_problems(portal, district)
    if bureau is not None and bureau not in portal.pack.units:
        problems.append(FieldProblem("bureau", f"{bureau!r} is not a unit in units.yaml", "choice"))
    return problems


def create_staff_user(
    portal: Portal,
    admin: Actor | None,
    *,
    username: str,
    password: str,
    display_name: str,
    role: str,
    district: str | None = None,
    bureau: str | None = None,
    employer: str | None = None,
    email: str | None = None,
) -> User:
    """Add a reviewer, expert, supervisor or admin. `admin=None` is the bootstrap path (CLI, demo seed)."""
    if admin is not None and admin.role != "admin":
        raise Forbidden("仅管理员可以添加用户", "only an admin may add users")
    problems = staff_problems(portal, role, district, bureau)
    with portal.transaction() as session:
        problems += _check_new_user(session, username, password, (display_name, email))
        if problems:
            raise ValidationFailed(problems)
        user = User(
            username=username,
            display_name=display_name,
            email=email,
            password_hash=hash_password(password, portal.password_cost),
            role=role,
            district=district,
            bureau=bureau,
            employer=employer,
        )
        session.add(user)
        session.flush()
        append_audit(
            session,
            actor_id=admin.user_id if admin else None,
            actor_role=admin.role if admin else "system",
            subject_type="user",
            subject_id=cast(int, user.id),
            event="user_created",
            payload={"username": username, "role": role, "district": district, "bureau": bureau},
        )
        return user


def _latest_profile(session: Session, enterprise_id: int) -> EnterpriseProfile | None:
    return session.exec(
        select(EnterpriseProfile)
        .where(col(EnterpriseProfile.enterprise_id) == enterprise_id)
        .order_by(col(EnterpriseProfile.version).desc())
    ).first()


def _own_enterprise(actor: Actor) -> int:
    if actor.role != "enterprise" or actor.enterprise_id is None:
        raise Forbidden("仅企业用户可以维护企业信息", "only the enterprise's users may edit its profile")
    return actor.enterprise_id


def save_profile(
    portal: Portal, actor: Actor, facts: Mapping[str, Mapping[str, Any]], expected_version: int | None
) -> EnterpriseProfile:
    """Add an unconfirmed profile version; `expected_version` is the newest the user saw (None at first)."""
    enterprise_id = _own_enterprise(actor)
    _check_facts(portal, facts)
    with portal.transaction() as session:
        return _add_profile(session, portal, actor, enterprise_id, facts, expected_version)


PROFILE_NOT_CONFIRMED = "profile_not_confirmed"


def profile_missing() -> Refused:
    """The refusal of a submission by an enterprise that has confirmed no profile yet (saving the
    profile page confirms it, so that is what the words ask for)."""
    return Refused(
        PROFILE_NOT_CONFIRMED, "请先填写并保存企业信息", "fill in and save the enterprise profile first"
    )


# Built once: the bank API and every case read it (building a statement cost more than running it).
_CONFIRMED_PROFILE = (
    select(EnterpriseProfile)
    .where(col(EnterpriseProfile.enterprise_id) == bindparam("enterprise_id"))
    .where(col(EnterpriseProfile.confirmed).is_(True))
    .order_by(col(EnterpriseProfile.version).desc())
)


# Only the facts, as plain values: the bank's hot path needs no profile object.
_CONFIRMED_FACTS = _CONFIRMED_PROFILE.with_only_columns(col(EnterpriseProfile.facts)).limit(1)


def confirmed_profile(session: Session, enterprise_id: int) -> EnterpriseProfile | None:
    """The latest profile version the enterprise confirmed: what its applications are judged on."""
    return session.exec(_CONFIRMED_PROFILE, params={"enterprise_id": enterprise_id}).first()


def has_confirmed_profile(portal: Portal, actor: Actor) -> bool:
    """Whether the actor's enterprise has confirmed a profile: a submission is judged on one, so
    the check page asks for it before offering the submit button the service would refuse."""
    enterprise_id = _own_enterprise(actor)
    with portal.reading() as session:
        return confirmed_facts(session, enterprise_id) is not None


def confirmed_facts(session: Session, enterprise_id: int) -> dict[str, Any] | None:
    """The facts of `confirmed_profile`, read without loading the profile row as an object."""
    facts: dict[str, Any] | None = (
        session.connection().execute(_CONFIRMED_FACTS, {"enterprise_id": enterprise_id}).scalar()
    )
    return facts


def save_confirmed_profile(
    portal: Portal, actor: Actor, facts: Mapping[str, Mapping[str, Any]], expected_version: int | None
) -> EnterpriseProfile:
    """The profile page's save: the clerk states the figures are true, so the version is confirmed.

    The registered identity (name, code, district: pack.yaml `identity` and `jurisdictions`)
    overrides what the form says, since the district decides which reviewers have a case. One
    transaction: a version is never left saved but unconfirmed.
    """
    enterprise_id = _own_enterprise(actor)
    with portal.transaction() as session:
        enterprise = session.get(Enterprise, enterprise_id)
        if enterprise is None:
            raise NotFound("enterprise", enterprise_id)
        stated = {entity: dict(named) for entity, named in facts.items()}
        registered = portal.city.registered_facts(
            name=enterprise.name, code=enterprise.uscc, district=enterprise.district
        )
        for entity, named in registered.items():
            stated.setdefault(entity, {}).update(named)
        _check_facts(portal, stated)
        row = _add_profile(session, portal, actor, enterprise_id, stated, expected_version)
        row.confirmed = True
        session.add(row)
        audit_enterprise(session, actor, enterprise_id, "profile_confirmed", {"version": row.version})
        return row


def _check_facts(portal: Portal, facts: Mapping[str, Mapping[str, Any]]) -> None:
    """The facts parse, and no date that has happened (`past: true`) lies after today."""
    try:
        typed = portal.pack.facts.parse(facts)
    except FactError as exc:
        raise ValidationFailed([FieldProblem(exc.fact, exc.message, exc.reason)]) from None
    future = portal.pack.facts.after(typed, portal.today())
    if future:
        raise ValidationFailed([FieldProblem(name, "after today", "future") for name in future])


def _add_profile(
    session: Session,
    portal: Portal,
    actor: Actor,
    enterprise_id: int,
    facts: Mapping[str, Mapping[str, Any]],
    expected_version: int | None,
) -> EnterpriseProfile:
    latest = _latest_profile(session, enterprise_id)
    current = latest.version if latest is not None else None
    if current != expected_version:
        raise StaleVersion("profile", enterprise_id, expected_version or 0, current)
    row = EnterpriseProfile(
        enterprise_id=enterprise_id,
        version=(current or 0) + 1,
        facts=dict(facts),
        created_by=actor.user_id,
        created_at=portal.now(),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # another save took this version number first
        raise StaleVersion("profile", enterprise_id, expected_version or 0, None) from None
    audit_enterprise(
        session,
        actor,
        enterprise_id,
        "profile_saved",
        {"version": row.version, "facts_hash": payload_hash(row.facts)},
    )
    return row


def confirm_profile(portal: Portal, actor: Actor, version: int) -> EnterpriseProfile:
    """Confirm a profile version as true; submissions snapshot the latest confirmed version."""
    enterprise_id = _own_enterprise(actor)
    with portal.transaction() as session:
        row = session.exec(
            select(EnterpriseProfile)
            .where(col(EnterpriseProfile.enterprise_id) == enterprise_id)
            .where(col(EnterpriseProfile.version) == version)
        ).first()
        if row is None:
            raise NotFound("profile version", version)
        if not row.confirmed:
            row.confirmed = True
            session.add(row)
            audit_enterprise(session, actor, enterprise_id, "profile_confirmed", {"version": version})
        return row


def latest_profile(portal: Portal, actor: Actor) -> EnterpriseProfile | None:
    """The enterprise's newest profile version (confirmed or not), for the profile form."""
    enterprise_id = _own_enterprise(actor)
    with portal.reading() as session:
        return _latest_profile(session, enterprise_id)


def actor_for_username(portal: Portal, username: str) -> Actor:
    """The actor of a user by name (CLI and tests); NotFound if there is none."""
    with portal.reading() as session:
        user = session.exec(select(User).where(col(User.username) == username)).first()
        if user is None:
            raise NotFound("user", username)
        return actor_of(user)


def profile_facts(
    city: City, profile: EnterpriseProfile | None, enterprise: Enterprise
) -> dict[str, dict[str, Any]]:
    """The profile's facts with the registered identity (name, code, district) always filled in."""
    facts: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (profile.facts if profile else {}).items()}
    registered = city.registered_facts(
        name=enterprise.name, code=enterprise.uscc, district=enterprise.district
    )
    for entity, named in registered.items():
        facts.setdefault(entity, {}).update(named)
    if enterprise.ai_track:
        entity, track = split_fact(city.tracks.fact)
        facts.setdefault(entity, {}).setdefault(track, enterprise.ai_track)
    return facts
