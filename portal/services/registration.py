"""Public registration: one answer for every outcome, so it never tells who is registered.

A form that passes the checks a person can fix alone is always answered the same way: "your
request is recorded; we have written to your e-mail". Behind that answer one of three things
happened, each doing the same slow work (one argon2 hash):

- the user name is new and so is the code: a new, unverified enterprise and its first user;
- the code is held already: an inactive account and a claim, put to the enterprise's users and
  its district's reviewers, who accept or refuse it;
- the user name is taken: nothing but a message to the address given.

Every check of a registration lives here: the web page only translates the problems' codes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import Enterprise, EnterpriseClaim, Role, User
from portal.messages import normalise_lang
from portal.services.auth import USERNAME_LIMIT, check_password_strength, check_username, hash_password
from portal.services.cases import PUBLIC_ROLE
from portal.services.context import Portal
from portal.services.errors import FieldProblem, ValidationFailed
from portal.services.notifications import notify
from portal.text_rules import is_email_address
from portal.uscc import InvalidUSCCError, validate_uscc

MAX_TEXT = 100
REQUIRED = ("uscc", "name", "district", "username", "display_name", "email", "password")


@dataclass(frozen=True)
class Registration:
    """What a person types into the registration form (`password2` is the repeated password)."""

    uscc: str
    name: str
    district: str
    username: str
    display_name: str
    email: str
    password: str
    password2: str
    ai_track: str | None = None
    # The language of the page registered on: the account's, and the outcome e-mail's.
    lang: str = "zh"

    @classmethod
    def from_form(cls, values: Mapping[str, str], *, lang: str) -> "Registration":
        """From a submitted form: text trimmed (passwords as typed), absent fields empty."""
        text = {name: values.get(name, "").strip() for name in ("uscc", "name", "district", "username")}
        return cls(
            uscc=text["uscc"].upper(),
            name=text["name"],
            district=text["district"],
            username=text["username"],
            display_name=values.get("display_name", "").strip(),
            email=values.get("email", "").strip(),
            password=values.get("password", ""),
            password2=values.get("password2", ""),
            ai_track=values.get("ai_track", "").strip() or None,
            lang=lang,
        )


def problems_of(
    portal: Portal, form: Registration, required: tuple[str, ...] = REQUIRED
) -> list[FieldProblem]:
    """Every problem the person can fix without anyone's records: codes name them for the page."""
    problems: list[FieldProblem] = []
    missing = {name for name in required if not getattr(form, name)}
    problems += [FieldProblem(name, "required", "required") for name in required if name in missing]
    if "uscc" not in missing:
        try:
            validate_uscc(form.uscc)
        except InvalidUSCCError as invalid:
            problems.append(FieldProblem("uscc", str(invalid), f"uscc_{invalid.reason}"))
    for name in ("name", "display_name", "email"):
        if len(getattr(form, name)) > MAX_TEXT:
            problems.append(FieldProblem(name, f"at most {MAX_TEXT} characters", "too_long", {"n": MAX_TEXT}))
    bad_name = check_username(form.username) if "username" not in missing else None
    if bad_name is not None:
        problems.append(FieldProblem("username", bad_name, bad_name, {"n": USERNAME_LIMIT}))
    if form.district and form.district not in portal.city.jurisdictions.labels:
        problems.append(FieldProblem("district", f"{form.district!r} is not a district", "choice"))
    if form.ai_track is not None and form.ai_track not in portal.city.tracks.labels:
        problems.append(FieldProblem("ai_track", f"{form.ai_track!r} is not a track", "choice"))
    if form.email and len(form.email) <= MAX_TEXT and not is_email_address(form.email):
        problems.append(FieldProblem("email", "not an e-mail address", "email"))
    if "password" not in missing:
        weak = check_password_strength(
            form.password, (form.username, form.display_name, form.email, form.name)
        )
        if weak is not None:
            problems.append(FieldProblem("password", weak, f"password_{weak}"))
        # Said with a weak password too: the person retypes both at once, not in a second round.
        if form.password != form.password2:
            problems.append(FieldProblem("password2", "the passwords differ", "password_mismatch"))
    return problems


def register(portal: Portal, form: Registration) -> None:
    """Record a registration; ValidationFailed only for problems of the form itself.

    Whatever is on record already, the caller gets the same (empty) answer after the same
    work: the outcome reaches only the e-mail address given.
    """
    problems = problems_of(portal, form)
    if problems:
        raise ValidationFailed(problems)
    uscc = validate_uscc(form.uscc)
    password_hash = hash_password(form.password, portal.password_cost)  # the slow part, done on every path
    try:
        with portal.transaction() as session:
            _record(session, form, uscc, password_hash)
    except IntegrityError:
        # A concurrent registration took the name or the code between the look-up and the
        # insert: looked up again, it is now a taken name or a claim.
        with portal.transaction() as session:
            _record(session, form, uscc, password_hash)


def _record(session: Session, form: Registration, uscc: str, password_hash: str) -> None:
    if session.exec(select(User.id).where(col(User.username) == form.username)).first() is not None:
        _name_taken(session, form)
        return
    held = session.exec(select(Enterprise).where(col(Enterprise.uscc) == uscc)).first()
    if held is not None:
        _claim(session, form, held, password_hash)
        return
    enterprise = Enterprise(uscc=uscc, name=form.name, district=form.district, ai_track=form.ai_track)
    session.add(enterprise)
    session.flush()
    user = _new_user(session, form, password_hash, cast(int, enterprise.id), active=True)
    audit_registered(session, user, enterprise)
    notify(
        session,
        kind="registration",
        recipient_user_id=user.id,
        link="/verification",
        message="note.registered",
        params={"username": form.username},
    )


def audit_registered(session: Session, user: User, enterprise: Enterprise) -> None:
    """The audit row of a new enterprise and its first user (public or bootstrap registration)."""
    append_audit(
        session,
        actor_id=user.id,
        actor_role=user.role,
        subject_type="enterprise",
        subject_id=cast(int, enterprise.id),
        event="register",
        payload={
            "uscc": enterprise.uscc,
            "name": enterprise.name,
            "district": enterprise.district,
            "username": user.username,
            "verified_via": enterprise.verified_via,
        },
    )


def _new_user(
    session: Session, form: Registration, password_hash: str, enterprise_id: int, *, active: bool
) -> User:
    user = User(
        username=form.username,
        display_name=form.display_name,
        email=form.email,
        password_hash=password_hash,
        role=Role.ENTERPRISE.value,
        enterprise_id=enterprise_id,
        active=active,
        locale=normalise_lang(form.lang),
    )
    session.add(user)
    session.flush()
    return user


def _claim(session: Session, form: Registration, held: Enterprise, password_hash: str) -> None:
    """A second person for a registered code: an inactive account, and a claim to decide."""
    enterprise_id = cast(int, held.id)
    claimant = _new_user(session, form, password_hash, enterprise_id, active=False)
    claim = EnterpriseClaim(
        enterprise_id=enterprise_id, claimant_id=cast(int, claimant.id), claimed_name=form.name
    )
    session.add(claim)
    session.flush()
    append_audit(
        session,
        actor_id=claimant.id,
        actor_role=claimant.role,
        subject_type="enterprise",
        subject_id=enterprise_id,
        event="claim_filed",
        payload={"claim_id": claim.id, "username": form.username, "claimed_name": form.name},
    )
    notify(
        session,
        kind="claim",
        enterprise_id=enterprise_id,
        link="/claims",
        message="note.claim_filed",
        params={"name": form.display_name, "username": form.username, "email": form.email},
    )
    notify(
        session,
        kind="work_item",
        role=Role.REVIEWER.value,
        district=held.district,
        link="/claims",
        message="note.claim_work_item",
        params={
            "enterprise": held.name,
            "name": form.display_name,
            "username": form.username,
            "email": form.email,
        },
    )
    notify(
        session,
        kind="registration",
        role=PUBLIC_ROLE,
        email=form.email,
        lang=form.lang,
        message="note.claim_recorded",
    )


def _name_taken(session: Session, form: Registration) -> None:
    """The name is someone else's: only the address given hears of it."""
    append_audit(
        session,
        actor_id=None,
        actor_role=PUBLIC_ROLE,
        subject_type="login",
        subject_id=form.username[:64],
        event="registration_refused",
        payload={"reason": "username_taken"},
    )
    notify(
        session,
        kind="registration",
        role=PUBLIC_ROLE,
        email=form.email,
        lang=form.lang,
        message="note.name_taken",
        params={"username": form.username},
    )
