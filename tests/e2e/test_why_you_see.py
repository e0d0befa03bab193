"""Every task page says why the reader sees the task: assigned, offered to a group, handed on, reassigned."""

from __future__ import annotations

import html
import re

from ..conftest import EXPENSE


def _why(client, task_id: str, user: str) -> str | None:
    page = client.get(f"/tasks/{task_id}", headers={"X-BPM-User": user}).get_data(as_text=True)
    found = re.search(r'<p class="why">Why you see this: (.*?)\.</p>', page)
    return html.unescape(found.group(1)) if found else None


def _open_task(api, instance_id: str, user: str) -> dict:
    [task] = [t for t in api.as_(user).get("/api/tasks").json if t["instanceId"] == instance_id]
    return task


def test_each_reader_is_told_how_the_task_reached_them(client, api):
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    task = _open_task(api, started["id"], "bob")
    assert _why(client, task["id"], "bob") == "assigned to you"
    assert _why(client, task["id"], "ann") == "your request, waiting for bob"
    assert _why(client, task["id"], "audrey") is None, "an auditor reads everything: nothing to explain"

    assert api.as_("bob").post(f"/api/tasks/{task['id']}/delegate", json={"to": "dave"}).status_code == 200
    assert _why(client, task["id"], "dave") == "handed to you by bob"
    assert _why(client, task["id"], "bob") == "you handed it to dave"
    assert api.as_("dave").post(f"/api/tasks/{task['id']}/delegate", json={"to": "frank"}).status_code == 200
    assert _why(client, task["id"], "frank") == "handed to you by dave for bob"

    assert api.as_("admin").post(f"/api/tasks/{task['id']}/reassign", json={"to": "bob"}).status_code == 200
    assert _why(client, task["id"], "bob") == "reassigned to you by admin, an admin"
    assert api.as_("bob").post(f"/api/tasks/{task['id']}/complete", json={"outcome": "approve"}).status_code == 200

    finance = _open_task(api, started["id"], "carol")
    assert _why(client, finance["id"], "carol") == "offered to your group finance"
    assert api.as_("carol").post(f"/api/tasks/{finance['id']}/claim").status_code == 200
    assert _why(client, finance["id"], "carol") == "you took it from the group's tasks"
    assert _why(client, finance["id"], "ann") == "your request, waiting for carol"
