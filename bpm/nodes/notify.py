"""``notify``: queue an e-mail, webhook call or in-app notice; delivery happens after commit."""

from __future__ import annotations

import uuid
from typing import Any

from bpm.engine import NodeDefinition, NodeResult
from bpm.nodes.about import About
from bpm.nodes.effects import MessageRequest, effects_of

NOTIFY_SCHEMA = {
    "type": "object", "required": ["channel", "to"],
    "properties": {
        "channel": {"enum": ["email", "webhook", "inbox"]},
        "to": {"anyOf": [{"type": "string", "minLength": 1},
                         {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}]},
        "subject": {"type": "string", "maxLength": 500},
        "body": {"type": "string"},
        "template": {"type": "string", "minLength": 1},
    },
    "anyOf": [{"required": ["body"]}, {"required": ["template"]}],
    "additionalProperties": False,
}


def notify(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
    """Record the message for the outbox and output its id."""
    effects = effects_of(globals_)
    recipients = (data["to"],) if isinstance(data["to"], str) else tuple(data["to"])
    message_id = str(uuid.uuid4())
    effects.add(MessageRequest(effects.node_id or "", message_id, data["channel"], recipients,
                               data.get("subject", ""), data.get("body", ""), data.get("template")))
    return NodeResult({"messageId": message_id})


NOTIFY_ABOUT = About(
    "Notify", "Tells people or systems: an e-mail, a notice in the service's bell, or a signed webhook call; sent "
    "after the step is saved, retried until delivered.",
    "One exit (the step does not wait for delivery).",
    {"channel": "email", "to": ["{{ data.requester }}"], "subject": "Your request was approved",
     "body": "{{ data.item }} was approved."}, group="Messages",
    fields={"channel": "email, inbox (the bell) or webhook (a signed POST).",
            "to": "People (user names), addresses, or the webhook's URL.",
            "subject": "The subject line; expressions welcome.",
            "body": "The text; expressions welcome.",
            "template": "A mail template to use instead of body."})
NOTIFY = NodeDefinition(notify, metadata={"input": NOTIFY_SCHEMA, "about": NOTIFY_ABOUT})
