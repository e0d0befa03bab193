"""Four-eyes does not rest on what an outcome is called (issue 23): a task that offers a choice is a decision,
so the requester may not take it — "approve" / "send-back" as much as "approve" / "reject"; one outcome that does
not reject is work the requester may do (a rework); the node or the process may say otherwise."""

from __future__ import annotations

import copy

from ..conftest import EXPENSE, database_dump


def _sent_back(api, four_eyes: object = None) -> dict:
    body = copy.deepcopy(api.as_("dana").get("/api/definitions/expense-approval/versions/1").json["definition"])
    for node in body["nodes"]:
        if node["id"] == "manager_review":
            node["data"]["outcomes"] = ["approve", "send-back"]
            if four_eyes is not None:
                node["data"]["fourEyes"] = four_eyes
    body["edges"] = [{**e, "sourceHandle": "send-back"} if e.get("sourceHandle") == "reject"
                     and e["source"] == "manager_review" else e for e in body["edges"]]
    body.pop("version", None)
    return body


def test_a_requester_naming_herself_manager_of_an_approve_or_send_back_step_is_refused(api, rt):
    designer = api.as_("dana")
    body = _sent_back(api)
    checked = designer.post("/api/definitions/validate", json=body).json
    assert any("offers a choice (approve, send-back), so four-eyes holds" in p["message"]
               for p in checked["problems"]), "validation says where four-eyes holds by the choice alone"
    assert designer.post("/api/definitions", json=body).status_code == 201
    assert designer.post("/api/definitions/expense-approval/versions/2/publish").status_code == 200
    before = database_dump(rt)
    mine = api.post("/api/instances", json={"definition": "expense-approval",
                                            "payload": {**EXPENSE, "manager": "ann", "amount": 99999}})
    assert mine.status_code == 422 and list(mine.json["errors"]) == ["manager"], mine.json
    assert database_dump(rt) == before


def test_the_node_may_say_the_requester_may_decide(api):
    designer = api.as_("dana")
    designer.post("/api/definitions", json=_sent_back(api, four_eyes=False))
    designer.post("/api/definitions/expense-approval/versions/2/publish")
    started = api.post("/api/instances", json={"definition": "expense-approval",
                                               "payload": {**EXPENSE, "manager": "ann", "amount": 20}})
    assert started.status_code == 201
    task = started.json["openTasks"][0]["id"]
    assert api.post(f"/api/tasks/{task}/complete", json={"outcome": "approve"}).status_code == 200
