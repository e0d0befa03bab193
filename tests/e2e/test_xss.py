"""Hostile text everywhere people can put it — form data, titles, business keys, comments, token names, names
in errors — comes back escaped on every page that shows it."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from bpm.runtime import SYSTEM_ACTOR, accounts
from bpm.runtime.definitions import import_definition

from ..hostile import CORPUS

HOSTILE_PROCESS = {
    "id": "hostile", "name": "<b>Process</b> <script>alert(6)</script>",
    "nodes": [{"id": "s", "type": "start", "data": {"form": "post-draft"},
               "metadata": {"label": "<script>alert(7)</script>"}},
              {"id": "review", "type": "human-task",
               "data": {"title": "Review: {{ s.last.data.title }}", "form": "approval-decision",
                        "candidateGroups": ["editors"], "outcomes": ["approve", "reject"]}}],
    "edges": [{"id": "e", "source": "s", "target": "review"}],
}


def _html(client, user: str, url: str, **kwargs) -> str:
    response = client.get(url, headers={"X-BPM-User": user, "Accept": "text/html"}, **kwargs)
    assert response.status_code < 500, url
    return response.get_data(as_text=True)


def _post(client, user: str, url: str, data: dict) -> str:
    response = client.post(url, data=data, headers={"X-BPM-User": user, "Accept": "text/html"},
                           follow_redirects=True)
    assert response.status_code < 500, url
    return response.get_data(as_text=True)


def _safe(html: str, where: str) -> None:
    for bad in (r"<script>alert", r"<img src=x onerror", r"<svg onload", r'href="javascript:', r"<b>Process</b>"):
        assert not re.search(bad, html), f"{where}: {bad} came back unescaped"


@pytest.mark.parametrize("payload", CORPUS)
def test_hostile_text_is_escaped_on_every_page_that_shows_it(client, rt, payload):
    import_definition(rt, SYSTEM_ACTOR, HOSTILE_PROCESS)
    started = _post(client, "ann", "/start/hostile", {"title": payload[:200].ljust(3, "x"),
                                                      "body": payload.ljust(10, "x"), "businessKey": payload})
    _safe(started, "my requests after starting")
    offered = _html(client, "erin", "/inbox?view=group")
    _safe(offered, "group tasks")
    task_id = re.search(r'href="/tasks/([0-9a-f-]{36})', offered).group(1)
    commented = _post(client, "erin", f"/tasks/{task_id}/comments", {"body": payload})
    _safe(commented, "task page with a comment")
    assert str(escape(payload)) in commented, "shown as the text it is (escaped, and no template evaluated)"
    _safe(_post(client, "erin", f"/tasks/{task_id}", {"outcome": "reject", "comment": ""}), "task page with errors")
    _safe(_post(client, "erin", f"/tasks/{task_id}/delegate", {"to": payload, "confirm": "yes"}),
          "a delegation to a hostile name")
    _safe(_html(client, "erin", f"/inbox?view=group&q={payload}"), "a hostile search")
    _safe(_html(client, "erin", f"/tasks/{task_id}?back={payload}"), "a hostile back link")
    _safe(_post(client, "erin", f"/tasks/{task_id}", {"outcome": "reject", "comment": payload}), "after deciding")
    _safe(_html(client, "ann", "/requests"), "my requests")
    _safe(_html(client, "ann", "/start"), "the catalogue")
    _safe(_post(client, "ann", "/tokens", {"name": payload[:100], "scopes": "read"}), "the tokens page")
    _safe(_html(client, "ann", f"/tasks/{payload}"), "an error page echoing a hostile id")
    # A task nobody can act on reaches the admin page with its hostile title: erin claims it, then is disabled.
    title = payload[:200].ljust(3, "x")
    _post(client, "ann", "/start/hostile", {"title": title, "body": payload.ljust(10, "x"), "businessKey": "second"})
    second = re.search(r'href="/tasks/([0-9a-f-]{36})', _html(client, "erin", "/inbox?view=group")).group(1)
    _post(client, "erin", f"/tasks/{second}/claim", {})
    accounts.set_active(rt, SYSTEM_ACTOR, "erin", False)
    admin_page = _html(client, "admin", "/admin")
    _safe(admin_page, "the admin page")
    assert str(escape(f"Review: {title}")) in admin_page, "the orphaned task is listed, its title as text"
