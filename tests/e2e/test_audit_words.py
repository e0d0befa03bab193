"""The auditor's search finds part of a word in references, the start form's text, step titles and decisions —
with the same counts and paging on both databases."""

from __future__ import annotations

import json

from ..conftest import EXPENSE


def _search(api, **asked) -> tuple[set[str], int]:
    answer = api.as_("audrey").get("/api/audit/search", query_string=asked)
    assert answer.status_code == 200, answer.json
    return {row["id"] for row in answer.json}, json.loads(answer.headers["X-Pagination"])["total"]


def test_part_of_a_word_is_found_where_people_wrote_it(api, client):
    laptop = api.post("/api/instances", json={"definition": "expense-approval", "businessKey": "EXP-100",
                                              "payload": EXPENSE}).json  # "new laptop"
    chairs = api.post("/api/instances", json={"definition": "expense-approval", "businessKey": "PO-7731",
                                              "payload": {**EXPENSE, "description": "Office chairs"}}).json
    task = chairs["openTasks"][0]["id"]
    api.as_("bob").post(f"/api/tasks/{task}/complete", json={"outcome": "reject",
                                                            "data": {"comment": "Ergonomic ones, please"}})
    assert _search(api, q="LAPTOP") == ({laptop["id"]}, 1), "any case, in the start form's text"
    assert _search(api, q="apto") == ({laptop["id"]}, 1), "part of a word"
    assert _search(api, q="7731") == ({chairs["id"]}, 1), "part of the reference"
    assert _search(api, q="ergonom") == ({chairs["id"]}, 1), "a decision's text"
    assert _search(api, q="approve expense") == ({laptop["id"], chairs["id"]}, 2), "a step's title"
    assert _search(api, q="100%") == (set(), 0), "% is a character, not a wildcard"
    assert _search(api, q="laptop", status="completed") == (set(), 0), "with the other filters"
    short = api.as_("audrey").get("/api/audit/search", query_string={"q": "la"})
    assert short.status_code == 422 and short.json["errors"]["q"] == ["at least 3 characters"]
    page = client.get("/audit?q=laptop", headers={"X-BPM-User": "audrey"}).get_data(as_text=True)
    assert "EXP-100" in page and "PO-7731" not in page


def test_paging_counts_every_match_once(api):
    for n in range(5):
        api.post("/api/instances", json={"definition": "expense-approval", "businessKey": f"LAP-{n}",
                                         "payload": EXPENSE})
    first, total = _search(api, q="lap", page=1, page_size=2)
    second, _ = _search(api, q="lap", page=2, page_size=2)
    third, _ = _search(api, q="lap", page=3, page_size=2)
    assert total == 5 and len(first | second | third) == 5, "a match in the key and the text is one instance"


COUNTED = {"id": "counted", "name": "Counted", "nodes": [
    {"id": "ask", "type": "start"},
    {"id": "check", "type": "human-task", "data": {"title": "Check the count", "assignee": "bob"}},
    {"id": "done", "type": "end"}],
    "edges": [{"id": "a", "source": "ask", "target": "check"}, {"id": "b", "source": "check", "target": "done",
                                                                         "sourceHandle": "complete"}]}


def test_a_request_with_no_words_keeps_no_row_of_them_and_is_found_by_its_steps(api, rt):
    from sqlalchemy import func, select

    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.definitions import import_definition
    from bpm.store.models import InstanceText

    def rows() -> int:
        with rt.uow() as uow:
            return uow.execute(select(func.count()).select_from(InstanceText)).scalar_one()

    import_definition(rt, SYSTEM_ACTOR, COUNTED)
    before = rows()
    silent = api.post("/api/instances", json={"definition": "counted", "payload": {"count": 3}}).json
    assert rows() == before, "no reference, no text: nothing to find it by, no row written"
    worded = api.post("/api/instances", json={"definition": "counted", "businessKey": "CNT-1",
                                              "payload": {"count": 4}}).json
    assert rows() == before + 1
    assert _search(api, q="the count") == ({silent["id"], worded["id"]}, 2), "both found by their step's title"
    assert _search(api, q="cnt-1") == ({worded["id"]}, 1)
