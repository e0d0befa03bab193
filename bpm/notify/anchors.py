"""Anchors leave the service: each one, once, to ``BPM_AUDIT_ANCHOR_WEBHOOK``, in the order they were made."""

from __future__ import annotations

import logging

from bpm.notify import webhook
from bpm.runtime.anchors import anchor_line
from bpm.runtime.runtime import Runtime

logger = logging.getLogger(__name__)


def ship(rt: Runtime, limit: int = 100) -> int:
    """POST the anchors not yet shipped to ``BPM_AUDIT_ANCHOR_WEBHOOK``, oldest first; how many went.

    Signed like every webhook (``X-BPM-Signature``, ``Idempotency-Key: anchor-<id>``). The first one the
    receiver does not take stops the round, so they always arrive in order; the next round tries again.
    """
    url = rt.settings.audit_anchor_webhook
    if not url:
        return 0
    with rt.uow() as uow:
        waiting = uow.anchors.unshipped(limit)
        uow.objects.detach(*waiting)
    shipped = 0
    for anchor in waiting:
        try:
            webhook.post(rt.settings, url, {"event": "audit.anchor", **anchor_line(anchor)}, f"anchor-{anchor.id}",
                         int(rt.now().timestamp()))
        except webhook.WebhookFailed as failed:
            logger.warning("anchor %s not shipped: %s", anchor.id, failed)
            break
        with rt.uow() as uow:
            uow.anchors.mark_shipped(anchor.id or 0, rt.now())
            uow.commit()
        shipped += 1
    return shipped
