"""Sign-in through an OpenID Connect provider: the authorization-code flow with PKCE, by Authlib.

`GET /login/oidc` sends the browser to the provider with a fresh state, nonce and PKCE
verifier, kept in a short-lived cookie signed with the portal's secret key (anonymous visitors
have no stored session). `GET /login/oidc/callback` checks the state, redeems the code, checks
the ID token (signature by the provider's published keys, issuer, audience, expiry, nonce),
reads the USCC and role claims from the userinfo endpoint, and lets the service decide.
"""

from __future__ import annotations

import secrets
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from portal.services.errors import Refused
from portal.services.oidc_login import IdentityClaims, sign_in_with_identity
from portal.settings import Settings
from portal.web.i18n import Translator, request_lang
from portal.web.routers.auth import HOME_OF_ROLE
from portal.web.session_auth import optional_actor, portal_of, sign_in
from portal.web.templating import render

router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "portal_oidc"
FLOW_SECONDS = 600
SCOPE = "openid profile email enterprise"
_TIMEOUT = 10


class ProviderFailed(Exception):
    """The provider's answer could not be trusted or used; nothing was signed in."""


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _configured(settings: Settings) -> tuple[str, str, str]:
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        raise ProviderFailed("not configured")
    return (
        settings.oidc_issuer.rstrip("/"),
        settings.oidc_client_id,
        settings.oidc_client_secret.get_secret_value(),
    )


def _metadata(issuer: str) -> dict[str, Any]:
    """The provider's discovery document; its issuer must be the configured one exactly."""
    answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=_TIMEOUT)
    answer.raise_for_status()
    metadata: dict[str, Any] = answer.json()
    if metadata.get("issuer", "").rstrip("/") != issuer:
        raise ProviderFailed("the discovery document names another issuer")
    return metadata


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    assert settings.secret_key is not None  # the app refuses to start without one
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="oidc-flow")


def _redirect_uri(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + "/login/oidc/callback"


def _session(settings: Settings, client_id: str, client_secret: str, **kwargs: Any) -> OAuth2Session:
    return OAuth2Session(
        client_id,
        client_secret,
        scope=SCOPE,
        redirect_uri=_redirect_uri(settings),
        code_challenge_method="S256",
        **kwargs,
    )


@router.get("/login/oidc")
def start(request: Request) -> Response:
    settings = _settings(request)
    try:
        issuer, client_id, client_secret = _configured(settings)
        metadata = _metadata(issuer)
    except (ProviderFailed, requests.RequestException, ValueError):
        return _failed(request)
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(24)
    with _session(settings, client_id, client_secret) as client:
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
    flow = _serializer(settings).dumps({"state": state, "nonce": nonce, "verifier": verifier})
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        flow,
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET: Lax cookies go with it
        secure=settings.https,
        path="/login/oidc",
    )
    return response


def _id_token_claims(id_token: str, metadata: dict[str, Any], client_id: str, nonce: str) -> dict[str, Any]:
    keys = requests.get(metadata["jwks_uri"], timeout=_TIMEOUT)
    keys.raise_for_status()
    token = jwt.decode(id_token, KeySet.import_key_set(keys.json()))
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
    )
    registry.validate(token.claims)
    return dict(token.claims)


def _identity(request: Request, settings: Settings) -> IdentityClaims:
    """Redeem the code and check everything; ProviderFailed for any answer not to be trusted."""
    issuer, client_id, client_secret = _configured(settings)
    try:
        flow = _serializer(settings).loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_SECONDS)
    except BadSignature:
        raise ProviderFailed("no flow of this browser") from None
    if not secrets.compare_digest(str(request.query_params.get("state", "")), str(flow["state"])):
        raise ProviderFailed("state differs")
    metadata = _metadata(issuer)
    with _session(settings, client_id, client_secret, state=flow["state"]) as client:
        token = client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=_redirect_uri(settings) + "?" + request.url.query,
            code_verifier=flow["verifier"],
        )
        claims = _id_token_claims(str(token["id_token"]), metadata, client_id, str(flow["nonce"]))
        answer = client.get(metadata["userinfo_endpoint"], timeout=_TIMEOUT)
        answer.raise_for_status()
        info: dict[str, Any] = answer.json()
    if info.get("sub") != claims["sub"]:
        raise ProviderFailed("userinfo is about someone else")
    merged = {**info, **claims}
    return IdentityClaims(
        issuer=issuer,
        subject=str(claims["sub"]),
        uscc=_text(merged.get(settings.oidc_uscc_claim)),
        role=_text(merged.get(settings.oidc_role_claim)),
        name=_text(merged.get("name")),
        email=_text(merged.get("email")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@router.get("/login/oidc/callback")
def callback(request: Request) -> Response:
    settings = _settings(request)
    try:
        identity = _identity(request, settings)
    except (ProviderFailed, OAuth2Error, JoseError, requests.RequestException, KeyError, ValueError):
        return _failed(request)
    roles = frozenset(role.strip() for role in settings.oidc_roles.split(",") if role.strip())
    try:
        user = sign_in_with_identity(portal_of(request), identity, roles, optional_actor(request))
    except Refused as refused:
        message = refused.said_in(request_lang(request))
        return _failed(request, message)
    assert user.id is not None
    sign_in(request, user.id)
    response = RedirectResponse(HOME_OF_ROLE.get(user.role, "/"), status_code=303)
    response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
    return response


def _failed(request: Request, message: str | None = None) -> HTMLResponse:
    t = Translator(request_lang(request))
    context: dict[str, object] = {
        "actor": None,
        "values": {},
        "message": message or t("auth.oidc.failed"),
        "next": "/",
        "reset_done": False,
    }
    response = render(request, "portal/login.html", context, status_code=401)
    response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
    return response
