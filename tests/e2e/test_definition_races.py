"""Definition lifecycle under races and restarts: one publish wins, drafts are not overwritten blindly,
the demo files never land over a designer's work, retiring the newest version asks first."""

from __future__ import annotations

import json

from sqlmodel import select

from bpm.runtime.demo import load_processes
from bpm.store.models import ProcessDefinition

from ..conftest import REPO
from .test_concurrency import _race

PURCHASE = {"id": "purchase", "name": "Purchase", "nodes": [{"id": "s", "type": "start"},
                                                            {"id": "e", "type": "end", "data": {"outcome": "ok"}}],
            "edges": [{"id": "e1", "source": "s", "target": "e"}]}


def test_ten_parallel_publishes_of_one_draft_publish_it_once(app, api, rt):
    draft = api.as_("dana").post("/api/definitions", json=PURCHASE)
    assert draft.status_code == 201
    results = _race(app, [("dana", "/api/definitions/purchase/versions/1/publish", None)] * 10)
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [409] * 9, [r.json for r in results]
    assert all("is published" in r.json["message"] for r in results if r.status_code == 409)
    with rt.uow() as uow:
        row = uow.session.exec(select(ProcessDefinition).where(ProcessDefinition.key == "purchase")).one()
        assert (row.status, row.revision) == ("published", 2), "one publish, one write"


def test_a_draft_carries_an_etag_and_a_save_over_a_newer_draft_is_412(api, rt):
    designer = api.as_("dana")
    first = designer.post("/api/definitions", json=PURCHASE)
    assert first.status_code == 201 and first.headers["ETag"] == '"1"'
    renamed = designer.post("/api/definitions", json={**PURCHASE, "name": "Purchase v2"},
                            headers={"If-Match": '"1"'})
    assert renamed.status_code == 201 and renamed.headers["ETag"] == '"2"'
    stale = designer.post("/api/definitions", json={**PURCHASE, "name": "lost update"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and "at revision 2, not 1" in stale.json["message"]
    current = designer.get("/api/definitions/purchase/versions/1")
    assert current.json["name"] == "Purchase v2" and current.headers["ETag"] == '"2"'
    blind = designer.post("/api/definitions", json={**PURCHASE, "name": "no If-Match: replaces"})
    assert blind.status_code == 201 and blind.headers["ETag"] == '"3"'


def test_two_designers_saving_the_same_draft_at_once_never_lose_an_update_silently(app, api):
    api.as_("dana").post("/api/definitions", json=PURCHASE)
    bodies = [{**PURCHASE, "name": f"edit {i}"} for i in range(6)]
    results = _race(app, [("dana", "/api/definitions", body) for body in bodies])
    assert all(r.status_code == 201 for r in results), [r.json for r in results]
    revisions = sorted(int(r.headers["ETag"].strip('"')) for r in results)
    assert revisions == [2, 3, 4, 5, 6, 7], "each save is its own revision: none overwrote another unseen"


def test_restarting_never_publishes_the_demo_file_over_a_designers_version(api, rt):
    expense = json.loads((REPO / "processes" / "expense-approval.json").read_text())
    changed = {**expense, "name": "Expense approval (our rules)"}
    designer = api.as_("dana")
    assert designer.post("/api/definitions", json=changed).status_code == 201
    assert designer.post("/api/definitions/expense-approval/versions/2/publish").status_code == 200
    loaded = load_processes(rt, rt.settings.processes_dir)  # what `bpm run` does at every start
    assert not any(k.startswith("expense-approval") for k in loaded)
    versions = designer.get("/api/definitions/expense-approval").json
    newest = versions[0]
    assert (newest["version"], newest["name"]) == (2, "Expense approval (our rules)")


def test_retiring_the_newest_version_asks_for_the_fallback_explicitly(api, rt):
    designer = api.as_("dana")
    designer.post("/api/definitions", json={**PURCHASE, "name": "v1"})
    designer.post("/api/definitions/purchase/versions/1/publish")
    designer.post("/api/definitions", json={**PURCHASE, "name": "v2"})
    designer.post("/api/definitions/purchase/versions/2/publish")
    refused = designer.post("/api/definitions/purchase/versions/2/retire")
    assert refused.status_code == 409 and "start version 1" in refused.json["message"]
    assert designer.get("/api/definitions/purchase/versions/2").json["status"] == "published", "nothing changed"
    retired = designer.post("/api/definitions/purchase/versions/2/retire?fallback=true")
    assert retired.status_code == 200 and retired.json["newInstancesStart"] == 1
    last = designer.post("/api/definitions/purchase/versions/1/retire")
    assert last.status_code == 200 and last.json["newInstancesStart"] is None, "the process cannot start now"
    assert api.post("/api/instances", json={"definition": "purchase", "payload": {}}).status_code == 404
