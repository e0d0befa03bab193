"""Company SSO over OpenID Connect (authlib's Flask client), and the provider's JWT access tokens as bearers.

Sign-in is the authorization-code flow with PKCE (S256), ``state`` and
``nonce``, all kept in the signed session cookie until the provider sends
the person back; authlib checks the state, exchanges the code, and verifies
the ID token (signature against the provider's published keys, issuer,
audience, expiry, nonce). What the claims mean for our users (first sign-in
creates one, groups refreshed every time) is ``accounts.sign_in_with_sso``.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bpm.config import Settings
from bpm.errors import Unauthorized

CLIENT_NAME = "sso"
LEEWAY_SECONDS = 60


def init_oidc(app: Flask, settings: Settings) -> None:
    """Register the SSO client when an issuer is configured (discovery happens on first use)."""
    if not settings.oidc_issuer:
        return
    oauth = OAuth(app)
    oauth.register(CLIENT_NAME, client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
                   server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
                   client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"})
    app.extensions["bpm_sso"] = oauth.create_client(CLIENT_NAME)


def sso_client() -> Any | None:
    """The SSO client, or None when sign-in is local only."""
    return current_app.extensions.get("bpm_sso")


def fetch_sign_in(client: Any, settings: Settings) -> dict[str, Any]:
    """Exchange the code the provider sent back, and verify the ID token; authlib raises if anything is off.

    The audience is checked explicitly: authlib checks ``aud`` only when told
    to, and otherwise accepts an ID token issued to another client whenever its
    ``azp`` names ours (the sign-in tests caught it).
    """
    issuer = client.load_server_metadata().get("issuer", settings.oidc_issuer)
    return client.authorize_access_token(claims_options={
        "iss": {"essential": True, "values": [issuer]},
        "aud": {"essential": True, "values": [settings.oidc_client_id]}})


def verify_access_token(settings: Settings, text: str) -> dict[str, Any]:
    """The claims of a JWT access token from the issuer: signature, issuer, audience, expiry; else Unauthorized."""
    client = sso_client()
    if client is None or text.count(".") != 2:
        raise Unauthorized("malformed token")
    try:
        keys = KeySet.import_key_set(client.fetch_jwk_set())
        token = jwt.decode(text, keys, algorithms=["RS256", "ES256", "PS256", "EdDSA"])
    except (JoseError, ValueError) as exc:
        raise Unauthorized(f"the access token does not verify ({type(exc).__name__})") from None
    metadata = client.load_server_metadata()
    audience = settings.oidc_audience or settings.oidc_client_id
    registry = jwt.JWTClaimsRegistry(leeway=LEEWAY_SECONDS, now=int(time.time()),
                                     iss={"essential": True, "value": metadata.get("issuer", settings.oidc_issuer)},
                                     sub={"essential": True}, exp={"essential": True})
    try:
        registry.validate(token.claims)
    except JoseError as exc:
        raise Unauthorized(f"the access token is not valid here: {exc.description or type(exc).__name__}") from None
    aud = token.claims.get("aud")
    if audience not in (aud if isinstance(aud, list) else [aud]):
        raise Unauthorized("the access token is for another audience")
    return dict(token.claims)
