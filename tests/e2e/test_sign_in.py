"""Signing in without the development identity: passwords, sessions, CSRF, throttling, tokens, headers."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest

from bpm.engine import ManualClock
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.accounts import create_token, revoke_token

from ..conftest import EXPENSE, database_dump, wipe

START = 1_767_225_600_000


@pytest.fixture(scope="module")
def secure_app(database_url):
    """The service as `bpm serve` runs it: no X-BPM-User, sign-in required."""
    from bpm.app import create_app

    clock = ManualClock(START)
    app = create_app({"database_url": database_url, "dev_identity": False,
                      "group_roles": "department-heads=auditor"}, clock=clock)
    app.extensions["test_clock"] = clock
    yield app
    app.extensions["bpm"].close()


@pytest.fixture
def web(secure_app):
    from bpm.runtime.demo import load_demo

    rt = secure_app.extensions["bpm"]
    secure_app.extensions["test_clock"].set(START)
    wipe(rt)
    load_demo(rt)
    return secure_app.test_client()


@pytest.fixture
def srt(secure_app):
    return secure_app.extensions["bpm"]


def _csrf(page) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, "the form carries a CSRF token"
    return found.group(1)


def sign_in(client, username="ann", password=None, next_="/"):
    token = _csrf(client.get("/login"))
    return client.post("/login", data={"username": username, "password": password or f"{username}-demo",
                                       "next": next_, "csrf_token": token})


def test_nothing_but_sign_in_health_and_static_answers_without_an_identity(web):
    assert web.get("/api/health").status_code == 200
    assert web.get("/static/app.css").status_code == 200
    assert web.get("/login").status_code == 200
    for url in ("/api/tasks", "/api/instances", "/api/definitions", "/api/openapi.json"):
        refused = web.get(url)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == 'Bearer realm="bpm"', url
    for url in ("/", "/tokens", "/api/docs"):
        page = web.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 302 and page.headers["Location"].startswith("/login?next="), url
    assert web.get("/api/tasks", headers={"X-BPM-User": "admin"}).status_code == 401, "no credential"


def test_a_person_signs_in_with_a_password_and_the_session_carries_them(web, srt):
    refused = sign_in(web, password="wrong-password")
    assert refused.status_code == 401 and "Wrong user name or password." in refused.get_data(as_text=True)
    signed_in = sign_in(web, next_="/tokens")
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/tokens"
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain http here
    inbox = web.get("/", follow_redirects=True).get_data(as_text=True)
    assert '<span class="person">ann</span>' in inbox and "My tasks" in inbox
    assert web.get("/api/tasks").status_code == 200
    with srt.uow() as uow:
        from bpm.store.models import User

        assert uow.session.get(User, "ann").last_login_at is not None


def test_a_form_post_without_the_session_s_csrf_token_is_refused_and_changes_nothing(web, srt):
    assert web.post("/login", data={"username": "ann", "password": "ann-demo"}).status_code == 403
    assert sign_in(web).status_code == 303
    before = database_dump(srt)
    body = {"definition": "expense-approval", "payload": EXPENSE}
    assert web.post("/api/instances", json=body).status_code == 403, "a cookie alone cannot change anything"
    assert web.post("/api/instances", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert web.post("/tokens", data={"name": "x", "scopes": "read"}).status_code == 403
    assert database_dump(srt) == before
    token = _csrf(web.get("/tokens"))
    assert web.post("/api/instances", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_signing_in_replaces_the_session_so_a_planted_one_is_worthless(web):
    before = _csrf(web.get("/login"))
    sign_in(web)
    after = _csrf(web.get("/tokens"))
    assert before != after, "a new session, with a new CSRF token"
    stolen = web.get_cookie("session").value
    assert web.post("/logout", data={"csrf_token": after}).headers["Location"] == "/login"
    assert web.get("/api/tasks").status_code == 401
    web.set_cookie("session", stolen)
    assert web.get("/api/tasks").status_code == 401, "a logged-out session is dead on the server too"


def test_sessions_end_after_idle_and_absolute_timeouts(web, secure_app):
    clock = secure_app.extensions["test_clock"]
    sign_in(web)
    clock.advance(29 * 60_000)
    assert web.get("/api/tasks").status_code == 200
    clock.advance(31 * 60_000)
    assert web.get("/api/tasks").status_code == 401, "idle for 31 minutes"
    sign_in(web)
    for _ in range(12 * 3 + 1):
        clock.advance(20 * 60_000)
        response = web.get("/api/tasks")
    assert response.status_code == 401, "at most 12 hours, however busy"


def test_disabling_a_user_ends_their_sessions(web, srt):
    from bpm.runtime.accounts import set_active

    sign_in(web)
    set_active(srt, SYSTEM_ACTOR, "ann", False)
    assert web.get("/api/tasks").status_code == 401


def test_repeated_wrong_passwords_are_throttled_per_account(web, secure_app):
    clock = secure_app.extensions["test_clock"]
    for _ in range(5):
        assert sign_in(web, password="wrong-password").status_code == 401
    blocked = sign_in(web)
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "30", "even the right password waits"
    clock.advance(31_000)
    assert sign_in(web, password="wrong-password").status_code == 401
    assert sign_in(web).status_code == 429, "each failure past the limit doubles the wait"
    clock.advance(61_000)
    assert sign_in(web).status_code == 303


def test_one_persons_wrong_passwords_never_block_another_account_from_the_same_address(secure_app, web):
    """A burst of wrong passwords for erin made carol's right one a 429 from the same address (behind a proxy
    every person shares one); now failures count per account and per account and address, never per address."""
    import threading

    barrier = threading.Barrier(8)
    answers: list[int] = []

    def wrong() -> None:
        client = secure_app.test_client()
        token = _csrf(client.get("/login"))
        barrier.wait()
        answers.append(client.post("/login", data={"username": "erin", "password": "nope",
                                                   "csrf_token": token}).status_code)

    threads = [threading.Thread(target=wrong) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(answers) <= {401, 429} and 429 in [*answers, sign_in(web, username="erin").status_code]
    for name in ("carol", "bob", "dave", "hana", "frank"):
        assert sign_in(secure_app.test_client(), username=name).status_code == 303, name


def test_a_stranger_cannot_lock_an_account_out_of_the_browsers_that_signed_in_to_it_before(secure_app, web):
    mine = secure_app.test_client()
    assert sign_in(mine, username="admin").status_code == 303, "this browser now knows the account"
    stranger = secure_app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "203.0.113.9"  # guessing from elsewhere
    for _ in range(7):
        sign_in(stranger, username="admin", password="guess")
    assert sign_in(secure_app.test_client(), username="admin").status_code == 429, "a new browser waits"
    forged = secure_app.test_client()
    forged.set_cookie("bpm_device", "abc.def", path="/login")
    assert sign_in(forged, username="admin").status_code == 429, "a made-up device cookie is worth nothing"
    assert sign_in(mine, username="admin").status_code == 303, "the owner's browser is let through"


def test_after_sign_in_a_person_goes_only_to_a_page_of_this_site(web):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        assert sign_in(web, next_=target).headers["Location"] == "/", target


def test_every_response_carries_the_security_headers(web):
    sign_in(web)
    for url in ("/", "/api/tasks", "/login", "/api/docs"):
        headers = web.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
    docs = web.get("/api/docs").get_data(as_text=True)
    assert "<script>" not in docs and "swagger-init.js" in docs, "Swagger UI without inline script"


def test_tokens_work_within_their_scopes_and_stop_when_expired_or_revoked(web, srt, secure_app, caplog):
    clock = secure_app.extensions["test_clock"]
    reader = create_token(srt, SYSTEM_ACTOR, "ann", "reader", ["read"], dt.timedelta(days=1))
    writer = create_token(srt, SYSTEM_ACTOR, "ann", "writer", ["read", "write"])
    body = {"definition": "expense-approval", "payload": EXPENSE}
    with caplog.at_level(logging.DEBUG):
        assert web.get("/api/tasks", headers={"Authorization": f"Bearer {reader.text}"}).status_code == 200
        before = database_dump(srt)
        refused = web.post("/api/instances", json=body, headers={"Authorization": f"Bearer {reader.text}"})
        assert refused.status_code == 403 and "'write' scope" in refused.json["message"]
        assert database_dump(srt) == before
        assert web.post("/api/instances", json=body,
                        headers={"Authorization": f"Bearer {writer.text}"}).status_code == 201, "no CSRF for bearers"
    assert reader.text not in caplog.text and writer.text not in caplog.text, "tokens are never logged"
    dump = repr(database_dump(srt))
    assert reader.text.rsplit("_", 1)[1] not in dump, "only a hash of the secret is stored"
    for bad in ("bpm_nope", reader.text[:-1] + ("A" if reader.text[-1] != "A" else "B"), "x" * 5000, "bpm_\x00"):
        assert web.get("/api/tasks", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
    assert web.get("/api/tasks", headers={"Authorization": "Basic YW5uOmFubi1kZW1v"}).status_code == 401
    clock.advance(86_400_001)
    expired = web.get("/api/tasks", headers={"Authorization": f"Bearer {reader.text}"})
    assert expired.status_code == 401 and "expired" in expired.json["message"]
    revoke_token(srt, SYSTEM_ACTOR, writer.token.id)
    revoked = web.get("/api/tasks", headers={"Authorization": f"Bearer {writer.text}"})
    assert revoked.status_code == 401 and "revoked" in revoked.json["message"]


def test_a_token_cannot_mint_a_stronger_one_and_people_manage_only_their_own(srt):
    from bpm.errors import Forbidden, InvalidRequest, NotFound
    from bpm.runtime.accounts import actor_for_token

    reader = create_token(srt, SYSTEM_ACTOR, "ann", "reader", ["read"])
    as_reader = actor_for_token(srt, reader.text)
    with pytest.raises(InvalidRequest):
        create_token(srt, as_reader, "ann", "stronger", ["read", "write"])
    ann, bob = srt.actor("ann"), srt.actor("bob")
    with pytest.raises(Forbidden):
        create_token(srt, ann, "bob", "for bob", ["read"])
    bobs = create_token(srt, bob, "bob", "bob's", ["read"])
    with pytest.raises(NotFound):
        revoke_token(srt, ann, bobs.token.id)


def test_the_tokens_page_shows_a_new_token_once(web):
    sign_in(web)
    page = web.get("/tokens")
    made = web.post("/tokens", data={"name": "reporting", "scopes": ["read"], "expires": "30",
                                     "csrf_token": _csrf(page)})
    text = made.get_data(as_text=True)
    assert made.status_code == 201
    secret = re.search(r'value="(bpm_[^"]+)"', text).group(1)
    assert web.get("/api/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert secret not in web.get("/tokens").get_data(as_text=True), "shown once"
    assert web.post("/tokens", data={"name": "", "scopes": [], "csrf_token": _csrf(page)}).status_code == 422


def test_groups_grant_roles_by_configuration(web, srt):
    assert "auditor" in srt.actor("dave").roles  # department-heads=auditor
    sign_in(web, "dave")
    assert web.get("/api/tasks?scope=all").status_code == 200


def test_every_route_that_changes_something_refuses_a_cookie_without_the_csrf_token(web, srt, secure_app):
    import io
    import re as regex

    sign_in(web)
    before = database_dump(srt)
    changing = sorted({(rule.rule, method) for rule in secure_app.url_map.iter_rules()
                       for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}})
    assert len(changing) >= 30
    for rule, method in changing:
        url = regex.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule)
        for body in ({"data": {"name": "x"}}, {"json": {"name": "x"}},
                     {"data": {"file": (io.BytesIO(b"%PDF-1.7\n"), "a.pdf")}, "content_type": "multipart/form-data"}):
            response = web.open(url, method=method, **body)
            assert response.status_code == 403, (method, url, body, response.status_code)
    assert database_dump(srt) == before


def test_disabling_a_person_stops_their_token_at_once_in_every_server_process(web, srt, secure_app, database_url):
    """A second server process had the person cached for 30 s: the token worked there 18-24 s after disabling."""
    from bpm.app import create_app
    from bpm.runtime.accounts import set_active

    other = create_app({"database_url": database_url, "dev_identity": False},
                       clock=secure_app.extensions["test_clock"])
    token = create_token(srt, SYSTEM_ACTOR, "ann", "reader", ["read"])
    bearer = {"Authorization": f"Bearer {token.text}"}
    assert other.test_client().get("/api/tasks", headers=bearer).status_code == 200, "cached there now"
    set_active(srt, SYSTEM_ACTOR, "ann", False)  # in this process
    refused = other.test_client().get("/api/tasks", headers=bearer)
    assert refused.status_code == 401 and "disabled" in refused.json["message"]
    other.extensions["bpm"].close()


def test_forwarded_addresses_are_believed_only_from_the_named_proxies():
    """X-Forwarded-For from anyone let a client choose the address the throttle sees (and so escape it)."""
    from werkzeug.test import Client

    from bpm.config import Settings
    from bpm.http.proxies import TrustedProxies

    def seen(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ.get("REMOTE_ADDR", "").encode()]

    client = Client(TrustedProxies(seen, Settings.from_env({}, proxy_addresses="10.0.0.2").proxy_networks))
    spoofed = client.get("/", headers={"X-Forwarded-For": "198.51.100.7"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert spoofed.get_data(as_text=True) == "203.0.113.9", "not from the proxy: the header is ignored"
    proxied = client.get("/", headers={"X-Forwarded-For": "198.51.100.7"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert proxied.get_data(as_text=True) == "198.51.100.7"


def test_each_person_lands_where_their_work_is(web, srt):
    """An auditor lands on the audit search and her menu has no inbox or start page; an employee on the inbox."""
    for username, home in (("audrey", "/audit"), ("ann", "/inbox")):
        signed_in = sign_in(web, username)
        assert signed_in.status_code in (302, 303)
        landed = web.get("/")
        assert landed.status_code == 302 and landed.headers["Location"] == home, username
        page = web.get(home).get_data(as_text=True)
        menu = page[page.index('<nav aria-label="Main">'):page.index("</nav>")]
        assert ('href="/start"' in menu) is (username == "ann") and ('href="/audit"' in menu) is (username == "audrey")
        web.post("/logout", data={"csrf_token": _csrf(web.get(home))})
