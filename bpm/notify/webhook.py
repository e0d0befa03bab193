"""Webhooks: a JSON POST signed with HMAC-SHA256, so the receiver can tell it came from us and is fresh.

The signature header is ``X-BPM-Signature: t=<unix seconds>,v1=<hex>``, the
HMAC-SHA256 with ``BPM_WEBHOOK_SECRET`` of ``"<t>.<the raw body>"``. A receiver
recomputes it (``verify`` here is what one would write) and refuses a
timestamp older than a few minutes, which stops replays. ``Idempotency-Key``
is the message's id: a delivery retried after a crash carries the same one.
Any answer but 2xx, a redirect, or no answer within the timeout is a failure,
tried again later.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from bpm import outbound as targets
from bpm.config import Settings
from bpm.runtime.paging import digits

SIGNATURE_HEADER = "X-BPM-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver checks: the signature matches and is at most ``tolerance`` seconds old."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not digits(parts.get("t", "")) or abs(now - int(parts["t"])) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(parts["t"]), body), f"t={parts['t']},v1={parts.get('v1', '')}")


class WebhookFailed(RuntimeError):
    """The receiver did not take it (an answer that is not 2xx, or none)."""


def post(settings: Settings, url: str, payload: dict[str, Any], message_id: str, now: int) -> None:
    """POST ``payload`` to ``url``, signed; WebhookFailed unless the receiver answers 2xx in time.

    The target must be one the service may call (``bpm.notify.targets``), checked now and again on the address
    the connection reached. A failure says one plain reason — refused, timed out, rejected with a status, not an
    address the service may call — and nothing more, so the dead letters are no port scanner.
    """
    if not settings.webhook_secret:
        raise WebhookFailed("BPM_WEBHOOK_SECRET is not set: webhooks are sent signed or not at all")
    try:
        host = targets.host_of(url)[0]
        targets.check_url(settings, url)
    except targets.TargetRefused as refused:
        raise WebhookFailed(f"could not deliver: {refused}") from None
    body = orjson.dumps(payload)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(settings.webhook_secret, now, body),
               "Idempotency-Key": message_id, "X-BPM-Event": str(payload.get("event", "")),
               "User-Agent": "refluxo-bpm-webhook"}
    try:
        with guarded_session(settings) as session:
            answer = session.post(url, data=body, headers=headers, timeout=settings.webhook_timeout_seconds,
                                  allow_redirects=False)
    except targets.TargetRefused as refused:
        raise WebhookFailed(f"could not deliver: {refused}") from None
    except requests.Timeout:
        raise WebhookFailed(f"could not deliver to {host}: timed out") from None
    except requests.RequestException:
        raise WebhookFailed(f"could not deliver to {host}: refused") from None
    if not 200 <= answer.status_code < 300:
        raise WebhookFailed(f"could not deliver to {host}: rejected with {answer.status_code}")


def guarded_session(settings: Settings) -> requests.Session:
    """A session that connects only where ``targets`` allows, ignores proxy settings of the environment (a proxy
    would hide the address reached) and follows no redirect on its own."""
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter(settings)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _guarded(base: type, settings: Settings) -> type:
    class Guarded(base):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> Any:
            sock = super()._new_conn()
            try:
                targets.check_peer(settings, str(self.host).lower().rstrip("."), sock)
            except targets.TargetRefused:
                sock.close()
                raise
            return sock
    return Guarded


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,),
                         {"ConnectionCls": _guarded(HTTPConnection, self._settings)}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,),
                          {"ConnectionCls": _guarded(HTTPSConnection, self._settings)})}
