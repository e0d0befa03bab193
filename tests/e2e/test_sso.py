"""Company SSO, end to end against a real OpenID provider on loopback (tests/oidc_provider.py).

The app's test client plays the browser; the provider is a real HTTP server,
so discovery, the token exchange and the key download travel over loopback
exactly as in production.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from ..conftest import wipe
from ..oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

PUBLIC = "http://bpm.test"
ZOE = {"sub": "u-123", "preferred_username": "Zoe.Smith", "name": "Zoe Smith", "email": "zoe@example.com",
       "groups": ["finance", "sso-team"]}


@pytest.fixture(scope="module")
def provider():
    started = Provider().start()
    started.redirect_uri = f"{PUBLIC}/login/sso/callback"
    yield started
    started.stop()


@pytest.fixture(scope="module")
def sso_app(database_url, provider):
    from bpm.app import create_app

    app = create_app({"database_url": database_url, "public_url": PUBLIC, "oidc_issuer": provider.url,
                      "oidc_client_id": CLIENT_ID, "oidc_client_secret": CLIENT_SECRET,
                      "oidc_scopes": "openid profile email groups"})
    yield app
    app.extensions["bpm"].close()


@pytest.fixture
def browser(sso_app, provider):
    from bpm.runtime.demo import load_demo

    rt = sso_app.extensions["bpm"]
    wipe(rt)
    load_demo(rt)
    provider.user, provider.tweak, provider.forge = dict(ZOE), {}, False
    return sso_app.test_client()


def _to_provider(browser) -> str:
    start = browser.get("/login/sso?next=/tokens")
    assert start.status_code == 302
    location = start.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] and query["nonce"]
    assert query["state"] and query["redirect_uri"] == [f"{PUBLIC}/login/sso/callback"]
    return location


def _consent(location: str) -> str:
    """The provider's answer: where it sends the browser back to (path and query on our side)."""
    answer = requests.get(location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def sso_sign_in(browser):
    return browser.get(_consent(_to_provider(browser)))


def test_the_login_page_offers_the_company_sso(browser):
    assert "Sign in with company SSO" in browser.get("/login").get_data(as_text=True)


def test_first_sign_in_creates_the_user_with_groups_which_each_sign_in_refreshes(browser, sso_app, provider):
    from bpm.store.models import Membership, User

    signed_in = sso_sign_in(browser)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/tokens"
    assert browser.get("/api/tasks").status_code == 200
    rt = sso_app.extensions["bpm"]
    with rt.uow() as uow:
        user = uow.session.get(User, "zoe.smith")
        assert (user.display_name, user.email, user.roles) == ("Zoe Smith", "zoe@example.com", ["employee"])
        assert user.password_hash is None and user.oidc_subject == f"{provider.url} u-123"
    assert rt.actor("zoe.smith").groups == {"finance", "sso-team"}
    provider.user = {**ZOE, "preferred_username": "renamed", "groups": ["hr"]}
    assert sso_sign_in(sso_app.test_client()).status_code == 303
    with rt.uow() as uow:
        assert uow.session.get(User, "renamed") is None, "the subject, not the name, is who it is"
        groups = uow.session.exec(Membership.__table__.select().where(Membership.username == "zoe.smith")).all()
    assert [g.group_name for g in groups] == ["hr"]


def _refused(response, browser) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)[:500]
    assert "Sign-in through SSO failed" in response.get_data(as_text=True)
    assert browser.get("/api/tasks").status_code == 401, "no session was opened"


def test_a_wrong_state_is_refused(browser):
    back = _consent(_to_provider(browser))
    tampered = re.sub(r"state=[^&]+", "state=forged", back)
    _refused(browser.get(tampered), browser)


def test_a_replayed_code_is_refused(browser, sso_app):
    back = _consent(_to_provider(browser))
    assert browser.get(back).status_code == 303
    other = sso_app.test_client()
    _refused(other.get(back), other)  # the state belongs to the first browser's session
    code = parse_qs(urlsplit(back).query)["code"][0]
    fresh = _consent(_to_provider(other))  # a new flow, with its own state, carrying the used code
    _refused(other.get(re.sub(r"code=[^&]+", f"code={code}", fresh)), other)


@pytest.mark.parametrize("tweak", [
    {"nonce": "not-the-one-we-sent"},
    {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
    {"aud": "someone-else", "azp": CLIENT_ID},
    {"iss": "http://impostor.example"},
], ids=["bad nonce", "expired", "wrong audience", "wrong issuer"])
def test_an_id_token_that_does_not_check_out_is_refused(browser, provider, tweak):
    provider.tweak = tweak
    _refused(sso_sign_in(browser), browser)


def test_a_forged_id_token_is_refused(browser, provider):
    provider.forge = True
    _refused(sso_sign_in(browser), browser)


def test_the_provider_refusing_is_said_plainly(browser):
    _to_provider(browser)
    response = browser.get("/login/sso/callback?error=access_denied&state=x")
    assert response.status_code == 401 and "refused the sign-in: access_denied" in response.get_data(as_text=True)


def test_a_provider_account_cannot_take_over_a_local_user(browser, provider):
    provider.user = {**ZOE, "sub": "u-9", "preferred_username": "ann"}
    response = sso_sign_in(browser)
    assert response.status_code == 401 and "a local user" in response.get_data(as_text=True)


def test_the_provider_s_access_tokens_are_accepted_as_bearers(browser, provider):
    sso_sign_in(browser)
    api = browser.application.test_client()
    good = provider.access_token(sub="u-123", scope="bpm:read")
    assert api.get("/api/tasks", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    refused = api.post("/api/instances", json={"definition": "vacation-request", "payload": {}},
                       headers={"Authorization": f"Bearer {good}"})
    assert refused.status_code == 403, "bpm:read only"
    for bad in (provider.access_token(sub="u-123", aud="another-api"),
                provider.access_token(sub="u-123", exp=int(time.time()) - 3600),
                provider.access_token(sub="u-123", iss="http://impostor.example"),
                provider.access_token(sub="stranger"), "not.a.jwt"):
        assert api.get("/api/tasks", headers={"Authorization": f"Bearer {bad}"}).status_code == 401, bad
    provider.forge = True
    forged = provider.access_token(sub="u-123")
    assert api.get("/api/tasks", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_signing_out_ends_the_session_at_the_provider_too(browser, provider):
    sso_sign_in(browser)
    page = browser.get("/tokens").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    out = browser.post("/logout", data={"csrf_token": csrf})
    target = urlsplit(out.headers["Location"])
    assert out.status_code == 303 and f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.url}/logout"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == [f"{PUBLIC}/login"] and query["id_token_hint"]
    assert browser.get("/api/tasks").status_code == 401
