"""Requests the service makes for someone else (webhooks, the audit anchor) never reach its own network unless
BPM_WEBHOOK_ALLOW says so: every address a name has is checked at delivery, the address reached is checked again,
no redirect is followed, and a failure says one plain reason. Listeners are on loopback only."""

from __future__ import annotations

import http.server
import threading
from dataclasses import replace

import pytest

from bpm.config import Settings
from bpm.notify.webhook import WebhookFailed, post

from ..http_receiver import receiving
from ..mail_server import free_port

BASE = Settings.from_env({}, webhook_secret="s3cret")

INTERNAL = ["http://127.0.0.1:{port}/hook", "http://localhost:{port}/hook", "http://[::1]:{port}/hook",
            "http://0.0.0.0:{port}/hook", "http://2130706433:{port}/hook", "http://127.1:{port}/hook",
            "http://[::ffff:127.0.0.1]:{port}/hook", "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/hook", "http://192.168.0.1/hook", "http://[fd00::1]/hook", "http://224.0.0.1/hook"]


@pytest.mark.parametrize("template", INTERNAL)
def test_an_internal_target_is_refused_before_anything_is_sent(template):
    with receiving("/hook") as (url, got):
        port = url.split(":")[2].split("/")[0]
        target = template.format(port=port)
        with pytest.raises(WebhookFailed, match=r"not an address the service may call|does not resolve"):
            post(BASE, target, {"event": "x"}, "m1", 1_700_000_000)
        assert got.received == [], f"{target} reached the listener"


def test_an_internal_host_named_in_the_allow_list_is_reached():
    with receiving("/hook") as (url, got):
        post(replace(BASE, webhook_allow="127.0.0.0/8"), url, {"event": "x"}, "m1", 1_700_000_000)
        assert len(got.received) == 1
        got.received.clear()
        post(replace(BASE, webhook_allow="localhost"), url.replace("127.0.0.1", "localhost"), {"event": "x"}, "m2",
             1_700_000_000)
        assert len(got.received) == 1


class _Redirect(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(307)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_redirect_is_not_followed_and_a_failure_says_one_plain_reason():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    allowed = replace(BASE, webhook_allow="127.0.0.1")
    try:
        with pytest.raises(WebhookFailed) as caught:
            post(allowed, f"http://127.0.0.1:{server.server_address[1]}/hook", {"event": "x"}, "m", 1_700_000_000)
        assert str(caught.value) == "could not deliver to 127.0.0.1: rejected with 307"
        assert _Redirect.hits == ["/hook"]
    finally:
        server.shutdown()
    closed = free_port()
    with pytest.raises(WebhookFailed) as caught:
        post(allowed, f"http://127.0.0.1:{closed}/hook", {"event": "x"}, "m", 1_700_000_000)
    assert str(caught.value) == "could not deliver to 127.0.0.1: refused", "no port, no exception name"


def test_a_definition_may_not_compute_or_aim_a_webhook_at_the_service(api):
    def notify(to: object) -> dict:
        return {"id": "hooked", "name": "Hooked", "nodes": [
            {"id": "s", "type": "start", "data": {"form": "expense-request"}},
            {"id": "n", "type": "notify", "data": {"channel": "webhook", "to": to, "subject": "x", "body": "y"}},
            {"id": "e", "type": "end"}],
            "edges": [{"id": "a", "source": "s", "target": "n"}, {"id": "b", "source": "n", "target": "e"}]}

    computed = api.as_("dana").post("/api/definitions/validate", json=notify(["{{ s.last.data.description }}"])).json
    assert any(p["path"] == "$.nodes[1].data.to[0]" and "never computed" in p["message"] for p in computed["problems"])
    for internal in ("http://127.0.0.1/x", "http://localhost:8080/x", "http://169.254.169.254/", "http://[::1]/"):
        said = api.as_("dana").post("/api/definitions/validate", json=notify([internal])).json
        assert not said["valid"] and any("not an address the service may call" in p["message"]
                                         or "own machine" in p["message"] for p in said["problems"]), internal
    fine = api.as_("dana").post("/api/definitions/validate", json=notify(["https://hooks.example.org/x"])).json
    assert not [p for p in fine["problems"] if p["path"].startswith("$.nodes[1].data.to")]
    hooks = {**notify(["https://hooks.example.org/x"]), "webhooks": [{"url": "http://127.0.0.1:9/"}]}
    refused = api.as_("dana").post("/api/definitions/validate", json=hooks).json
    assert any(p["path"] == "$.webhooks[0].url" for p in refused["problems"])


def test_a_malformed_allow_list_stops_start_up():
    with pytest.raises(ValueError, match="BPM_WEBHOOK_ALLOW"):
        Settings.from_env({"BPM_WEBHOOK_ALLOW": "hooks.example.org, not a host!"})
