"""Inbox rows say who asked, the request's reference, how long it waited, and whether it was escalated."""

from __future__ import annotations

import re

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition
from bpm.scheduler import Worker

from ..conftest import EXPENSE

DAY = 24 * 3600 * 1000
ESCALATING = {
    "id": "purchase", "name": "Purchase request",
    "nodes": [
        {"id": "submit", "type": "start", "data": {"form": "expense-request"}},
        {"id": "manager", "type": "human-task", "metadata": {"label": "Manager review"},
         "data": {"title": "Approve purchase", "form": "approval-decision", "assignee": "bob",
                  "outcomes": ["approve", "reject"],
                  "escalations": [{"after": "P2D", "action": "reassign", "to": "dave"}]}},
        {"id": "done", "type": "end", "data": {"outcome": "approved"}},
    ],
    "edges": [{"id": "e1", "source": "submit", "target": "manager"},
              {"id": "e2", "source": "manager", "target": "done", "sourceHandle": "approve"},
              {"id": "e3", "source": "manager", "target": "done", "sourceHandle": "reject"}],
}


def _rows(client, user: str) -> list[str]:
    page = client.get("/inbox", headers={"X-BPM-User": user}).get_data(as_text=True)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r'<li class="task[^"]*">(.*?)</li>', page, re.S)]


def test_a_row_names_the_requester_and_the_reference(api, client):
    started = api.post("/api/instances", json={"definition": "expense-approval", "businessKey": "EXP-77",
                                                "payload": EXPENSE})
    assert started.status_code == 201
    [row] = _rows(client, "bob")
    assert "ref. EXP-77" in row and "asked by ann" in row and "waiting since" in row and "escalated" not in row


def test_an_escalated_task_is_marked_in_its_new_owners_inbox(api, client, rt, clock):
    import_definition(rt, SYSTEM_ACTOR, ESCALATING)
    assert api.post("/api/instances", json={"definition": "purchase", "payload": EXPENSE}).status_code == 201
    assert "escalated" not in _rows(client, "bob")[0]
    clock.advance(2 * DAY + 1)
    Worker(rt).tick()
    [row] = _rows(client, "dave")
    assert "escalated" in row and "asked by ann" in row
