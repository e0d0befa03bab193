"""A real OpenID provider on loopback, built from authlib's server classes, for the sign-in tests.

It speaks the authorization-code flow with PKCE and nonce, serves its
discovery document and keys, and signs ID tokens with its own RSA key. The
person who "signs in" at it is whoever the test puts in ``provider.user``
(the provider consents at once); ``provider.tweak`` alters the next ID
tokens (another nonce, an expiry in the past, a foreign audience) and
``provider.forge`` signs them with a key the provider never published.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

CLIENT_ID, CLIENT_SECRET = "bpm", "bpm-client-secret"


@dataclass
class Client:
    redirect_uri: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email", "groups"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class CodeGrant(grants.AuthorizationCodeGrant):
    provider: Provider
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, req: Any) -> None:
        data = req.payload.data
        self.provider.codes[code] = Code(code, req.payload.client_id, req.payload.redirect_uri,
                                    req.payload.scope, dict(req.user), data.get("nonce"),
                                    data.get("code_challenge"), data.get("code_challenge_method"))

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = self.provider.codes.get(code)
        return found if found is not None and found.client_id == client.get_client_id() else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.provider.codes.pop(authorization_code.code, None)
        self.provider.used_codes.add(authorization_code.code)

    def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
        return authorization_code.user


class OpenID(OpenIDCode):
    provider: Provider
    def exists_nonce(self, nonce: str, req: Any) -> bool:
        return any(code.nonce == nonce for code in self.provider.codes.values())

    def resolve_client_private_key(self, client: Client) -> Any:
        return self.provider.foreign_key if self.provider.forge else self.provider.key

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.provider.url, "aud": [client.get_client_id()]}

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": "provider-key"}

    def generate_user_info(self, user: dict[str, Any], scope: str) -> dict[str, Any]:
        return {**user, **self.provider.tweak}  # applied last: a tweak overrides nonce, exp, aud, ...



class Provider:
    """The provider and its knobs; ``url`` is its issuer."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "provider-key", "use": "sig"}, private=True)
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": "provider-key"}, private=True)
        self.user: dict[str, Any] = {}
        self.tweak: dict[str, Any] = {}
        self.forge = False
        self.codes: dict[str, Code] = {}
        self.used_codes: set[str] = set()
        self.redirect_uri = ""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = self._build()
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Provider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def access_token(self, **claims: Any) -> str:
        """A JWT access token as the provider would issue for an API (signed with its key unless ``forge``)."""
        now = int(time.time())
        body = {"iss": self.url, "aud": CLIENT_ID, "iat": now, "exp": now + 600, **claims}
        return jwt.encode({"alg": "RS256", "kid": "provider-key"}, body,
                          self.foreign_key if self.forge else self.key)

    def _build(self) -> Flask:
        provider = self
        app = Flask("oidc-provider")
        app.secret_key = "provider"

        code_grant = type("ProviderCodeGrant", (CodeGrant,), {"provider": provider})
        openid = type("ProviderOpenID", (OpenID,), {"provider": provider})

        server = AuthorizationServer(app, query_client=lambda client_id: (
            Client(provider.redirect_uri) if client_id == CLIENT_ID else None), save_token=lambda token, req: None)
        server.register_grant(code_grant, [openid(require_nonce=True), CodeChallenge(required=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return jsonify({
                "issuer": provider.url, "authorization_endpoint": f"{provider.url}/authorize",
                "token_endpoint": f"{provider.url}/token", "jwks_uri": f"{provider.url}/jwks",
                "end_session_endpoint": f"{provider.url}/logout", "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]})

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify({"keys": [provider.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize() -> Any:
            return server.create_authorization_response(grant_user=provider.user)

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        @app.get("/logout")
        def logout() -> Any:
            return redirect(request.args.get("post_logout_redirect_uri", "/"))

        return app
