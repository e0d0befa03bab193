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
    """POST ``payload`` to ``url``, signed; WebhookFailed unless the receiver answers 2xx in time."""
    if not settings.webhook_secret:
        raise WebhookFailed("BPM_WEBHOOK_SECRET is not set: webhooks are sent signed or not at all")
    body = orjson.dumps(payload)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(settings.webhook_secret, now, body),
               "Idempotency-Key": message_id, "X-BPM-Event": str(payload.get("event", "")),
               "User-Agent": "refluxo-bpm-webhook"}
    try:
        answer = requests.post(url, data=body, headers=headers, timeout=settings.webhook_timeout_seconds,
                               allow_redirects=False)
    except requests.RequestException as exc:
        raise WebhookFailed(f"{url}: {type(exc).__name__}: {exc}"[:500]) from None
    if not 200 <= answer.status_code < 300:
        raise WebhookFailed(f"{url} answered {answer.status_code}")
