"""The admins' one list of every instance: found by process, status, reference, person or step; acted on in place."""

from __future__ import annotations

import re

from ..conftest import EXPENSE


def _found(client, **asked) -> list[str]:
    page = client.get("/admin/instances", query_string=asked, headers={"X-BPM-User": "admin"}).get_data(as_text=True)
    return re.findall(r'<tr id="i-([0-9a-f-]+)">', page)


def _start(api, user: str, key: str, **payload) -> str:
    return api.as_(user).post("/api/instances", json={"definition": "expense-approval", "businessKey": key,
                                                      "payload": {**EXPENSE, **payload}}).json["id"]


def test_any_instance_is_found_by_each_filter(api, client):
    anns = _start(api, "ann", "EXP-2026-001")
    erins = _start(api, "erin", "EXP-2026-002", requester="erin", manager="dave")
    vacation = api.post("/api/instances", json={"definition": "vacation-request", "payload": {
        "employee": "ann", "manager": "bob", "firstDay": "2026-02-02", "lastDay": "2026-02-06"}}).json["id"]
    assert set(_found(client)) == {anns, erins, vacation}
    assert set(_found(client, process="expense-approval")) == {anns, erins}
    assert _found(client, key="2026-002") == [erins], "part of the reference"
    assert set(_found(client, person="dave")) == {erins}, "it waits for dave"
    assert set(_found(client, person="erin")) == {erins}, "she started it"
    assert set(_found(client, node="manager_review")) == {anns, erins}
    assert _found(client, status="completed") == []
    wrong = client.get("/admin/instances?status=sleeping", headers={"X-BPM-User": "admin"})
    assert wrong.status_code == 422 and "one of:" in wrong.get_data(as_text=True)
    assert client.get("/admin/instances", headers={"X-BPM-User": "bob"}).status_code == 403


def test_an_admin_cancels_with_a_reason_and_moves_one_from_the_list(api, client):
    first = _start(api, "ann", "EXP-1")
    second = _start(api, "ann", "EXP-2")
    back = "/admin/instances?process=expense-approval"
    cancelled = client.post(f"/admin/instances/{first}/cancel", headers={"X-BPM-User": "admin"},
                            data={"reason": "a duplicate of EXP-2", "back": back})
    assert cancelled.status_code == 303 and cancelled.headers["Location"].endswith(back)
    assert api.get(f"/api/instances/{first}").json["status"] == "cancelled"
    moved = client.post(f"/admin/instances/{second}/repair", headers={"X-BPM-User": "admin"},
                        data={"node": "finance_review", "reason": "the manager approved by phone", "back": back})
    assert moved.status_code == 303
    assert [t["nodeId"] for t in api.get(f"/api/instances/{second}").json["openTasks"]] == ["finance_review"]
    elsewhere = client.post(f"/admin/instances/{second}/retry", headers={"X-BPM-User": "admin"},
                            data={"back": "https://evil.example/"})
    assert elsewhere.headers["Location"].endswith("/admin"), "back goes to the admin pages only"
