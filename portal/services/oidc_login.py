"""Sign-in through an OpenID Connect provider that vouches for the enterprise and the person's role.

The provider (for a real deployment, the province's unified identity platform for legal
persons) has already proved who the person is and that they act for the enterprise whose
USCC its claims carry. So a sign-in whose claims name an allowed role verifies that
enterprise. The web layer runs the protocol (Authlib) and hands over checked claims only.
"""

import hashlib
import secrets
from dataclasses import dataclass
from typing import cast

from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import Enterprise, Role, User
from portal.services.access import actor_of
from portal.services.auth import hash_password
from portal.services.context import Portal
from portal.services.errors import Refused
from portal.services.verified import mark_verified
from portal.uscc import InvalidUSCCError, validate_uscc
from portal.workflows import Actor

VIA_PROVIDER = "oidc"


@dataclass(frozen=True)
class IdentityClaims:
    """What the provider said, after the ID token's signature, issuer, audience and nonce were checked."""

    issuer: str
    subject: str
    uscc: str | None
    role: str | None
    name: str | None = None
    email: str | None = None

    @property
    def key(self) -> str:
        return f"{self.issuer} {self.subject}"


def _refused(code: str, zh: str, en: str) -> Refused:
    return Refused(code, zh, en)


def _other_enterprise() -> Refused:
    return _refused(
        "oidc_other_enterprise",
        "统一身份认证确认的企业与该账号所属企业不一致。",
        "The enterprise the identity provider confirmed is not this account's enterprise.",
    )


def _enterprise_code(claims: IdentityClaims, roles: frozenset[str]) -> str:
    """The USCC the claims vouch for, when the person's role may act for the enterprise."""
    if claims.role not in roles or not claims.uscc:
        raise _refused(
            "oidc_not_authorised",
            "统一身份认证未确认您有权代表企业（需为法定代表人或经授权的经办人）。",
            "The identity provider did not confirm that you may act for an enterprise "
            "(legal representative or authorised agent).",
        )
    try:
        return validate_uscc(claims.uscc)
    except InvalidUSCCError:
        raise _refused(
            "oidc_bad_code",
            "统一身份认证提供的统一社会信用代码无效。",
            "The identity provider gave an invalid unified social credit code.",
        ) from None


def sign_in_with_identity(
    portal: Portal, claims: IdentityClaims, roles: frozenset[str], signed_in: Actor | None
) -> User:
    """The user to sign in, verifying the enterprise the claims vouch for.

    - an account already linked to this provider account signs in;
    - a signed-in enterprise user links their account (the codes must be equal);
    - otherwise a new user is made for the enterprise of that code, if it has registered.
    """
    uscc = _enterprise_code(claims, roles)
    with portal.transaction() as session:
        enterprise = session.exec(select(Enterprise).where(col(Enterprise.uscc) == uscc)).first()
        linked = session.exec(select(User).where(col(User.oidc_subject) == claims.key)).first()
        if linked is not None:
            user = linked
        elif signed_in is not None:
            user = _link(session, signed_in, claims, enterprise)
        elif enterprise is not None:
            user = _new_user(session, claims, enterprise)
        else:
            raise _refused(
                "oidc_register_first",
                "该企业尚未在本平台注册。请先注册企业账号，登录后在“身份核验”页面选择统一身份认证核验。",
                "This enterprise has no account here yet. Register it first, then sign in and "
                "choose the identity provider on the Verification page.",
            )
        if not user.active or enterprise is None or user.enterprise_id != enterprise.id:
            raise _refused(
                "oidc_other_enterprise",
                "统一身份认证确认的企业与该账号所属企业不一致。",
                "The enterprise the identity provider confirmed is not this account's enterprise.",
            )
        actor = actor_of(user)
        mark_verified(session, portal, enterprise, VIA_PROVIDER, actor)
        append_audit(
            session,
            actor_id=user.id,
            actor_role=user.role,
            subject_type="user",
            subject_id=str(user.id),
            event="login_oidc",
            payload={"issuer": claims.issuer, "subject": claims.subject, "uscc": uscc, "role": claims.role},
        )
        return user


def _link(session: Session, signed_in: Actor, claims: IdentityClaims, enterprise: Enterprise | None) -> User:
    user = session.get(User, signed_in.user_id)
    if user is None or enterprise is None or user.enterprise_id != enterprise.id:
        raise _other_enterprise()
    user.oidc_subject = claims.key
    session.add(user)
    return user


def _new_user(session: Session, claims: IdentityClaims, enterprise: Enterprise) -> User:
    """A user of the enterprise whose password is unknown to anyone: they sign in through the provider."""
    username = "idp-" + hashlib.sha256(claims.key.encode()).hexdigest()[:16]
    user = User(
        username=username,
        display_name=(claims.name or username)[:100],
        email=claims.email,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        role=Role.ENTERPRISE.value,
        enterprise_id=cast(int, enterprise.id),
        oidc_subject=claims.key,
    )
    session.add(user)
    session.flush()
    return user
