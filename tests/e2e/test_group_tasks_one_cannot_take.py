"""A group task a member may not decide (her own request) is neither offered to her nor counted in her inbox."""

from __future__ import annotations

import datetime as dt
import json

from ..conftest import EXPENSE


def _offered(api, user: str) -> set[str]:
    return {t["instanceId"] for t in api.as_(user).get("/api/tasks", query_string={"scope": "candidate"}).json}


def test_a_requester_in_the_deciding_group_is_not_offered_her_own_request(api, client):
    started = api.as_("carol").post("/api/instances", json={"definition": "expense-approval", "payload": {
        **EXPENSE, "requester": "carol"}}).json
    bob_task = started["openTasks"][0]["id"]
    assert api.as_("bob").post(f"/api/tasks/{bob_task}/complete", json={"outcome": "approve"}).status_code == 200
    assert started["id"] in _offered(api, "frank")
    assert started["id"] not in _offered(api, "carol")
    paging = api.as_("carol").get("/api/tasks", query_string={"scope": "candidate"}).headers["X-Pagination"]
    assert json.loads(paging)["total"] == 0, "not counted either"
    page = client.get("/inbox?view=group", headers={"X-BPM-User": "carol"}).get_data(as_text=True)
    assert "Finance check" not in page

    day = dt.date(2026, 1, 1).isoformat()
    assert api.as_("carol").post("/api/absences", json={"from": day, "to": day, "substitute": "dave"}
                                 ).status_code == 201
    assert started["id"] not in _offered(api, "dave"), "standing in for carol: her request is not offered"
    assert api.as_("frank").post("/api/absences", json={"from": day, "to": day, "substitute": "erin"}
                                 ).status_code == 201
    assert started["id"] in _offered(api, "erin"), "standing in for frank, who may decide it"
