"""The inbox over HTTP: scopes, claim, unclaim, delegate, comments."""

from __future__ import annotations

from ..conftest import EXPENSE


def _finance_task(api):
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    api.as_("bob").post(f"/api/tasks/{started.json['openTasks'][0]['id']}/complete", json={"outcome": "approve"})
    return api.as_("carol").get(f"/api/tasks?scope=candidate&instanceId={started.json['id']}").json[0]


def test_a_group_task_is_claimed_worked_and_given_back(api):
    task = _finance_task(api)
    carol = api.as_("carol")
    assert carol.get("/api/tasks?scope=mine").json == []
    claimed = carol.post(f"/api/tasks/{task['id']}/claim")
    assert claimed.status_code == 200 and claimed.json["assignee"] == "carol"
    assert claimed.headers["ETag"] == '"2"'
    assert [t["id"] for t in carol.get("/api/tasks?scope=mine").json] == [task["id"]]
    assert carol.get("/api/tasks?scope=candidate").json == []
    assert carol.post(f"/api/tasks/{task['id']}/claim").status_code == 409
    unclaimed = carol.post(f"/api/tasks/{task['id']}/unclaim")
    assert unclaimed.json["assignee"] is None


def test_people_outside_the_candidate_group_cannot_claim(api, rt):
    from ..conftest import database_dump

    task = _finance_task(api)
    before = database_dump(rt)
    assert api.as_("hana").post(f"/api/tasks/{task['id']}/claim").status_code == 404, "hana is not related to it"
    assert api.as_("hana").get("/api/tasks").json == []
    assert database_dump(rt) == before


def test_a_task_can_be_delegated_to_another_user(api):
    task = _finance_task(api)
    delegated = api.as_("carol").post(f"/api/tasks/{task['id']}/delegate", json={"to": "frank"})
    assert delegated.status_code == 200 and delegated.json["assignee"] == "frank"
    assert delegated.json["delegatedBy"] == "carol"
    assert api.as_("carol").post(f"/api/tasks/{task['id']}/complete", json={"outcome": "approve"}).status_code == 403
    assert api.as_("frank").post(f"/api/tasks/{task['id']}/complete", json={"outcome": "approve"}).status_code == 200
    after_completion = api.as_("frank").post(f"/api/tasks/{task['id']}/delegate", json={"to": "carol"})
    assert after_completion.status_code == 409, "a completed task cannot be delegated"


def test_delegating_to_an_unknown_user_is_422(api):
    task = _finance_task(api)
    response = api.as_("carol").post(f"/api/tasks/{task['id']}/delegate", json={"to": "nobody"})
    assert response.status_code == 422 and response.json["errors"] == {"to": ["no active user 'nobody'"]}


def test_comments_are_kept_in_order_with_their_author(api):
    task = _finance_task(api)
    api.as_("carol").post(f"/api/tasks/{task['id']}/comments", json={"body": "checking the receipt"})
    api.as_("bob").post(f"/api/tasks/{task['id']}/comments", json={"body": "it is attached"})
    comments = api.get(f"/api/tasks/{task['id']}/comments").json
    assert [(c["author"], c["body"]) for c in comments] == [
        ("carol", "checking the receipt"), ("bob", "it is attached")]
    detail = api.get(f"/api/tasks/{task['id']}").json
    assert len(detail["comments"]) == 2 and detail["form"]["id"] == "approval-decision"
    assert api.post(f"/api/tasks/{task['id']}/comments", json={"body": ""}).status_code == 422


def test_the_inbox_pages_and_orders_by_priority(api):
    for amount in (10, 20, 30):
        api.post("/api/instances", json={"definition": "expense-approval", "payload": {**EXPENSE, "amount": amount}})
    first = api.as_("bob").get("/api/tasks?page=1&page_size=2")
    second = api.as_("bob").get("/api/tasks?page=2&page_size=2")
    assert len(first.json) == 2 and len(second.json) == 1
    assert '"total": 3' in first.headers["X-Pagination"]
    assert api.as_("ann").get("/api/tasks?scope=all").status_code == 403
    assert len(api.as_("admin").get("/api/tasks?scope=all").json) == 3


def _offers(rt) -> list[tuple]:
    from sqlalchemy import text

    with rt.db.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(text(
            "SELECT task_id, kind, name, definition_key, priority FROM task_candidate")))


def test_a_task_is_offered_while_it_is_open_and_unclaimed_and_keeps_its_candidates_for_good(api, rt):
    completed, cancelled, delegated = _finance_task(api), _finance_task(api), _finance_task(api)
    offer = [(task["id"], "group", "finance", "expense-approval", 50) for task in (completed, cancelled, delegated)]
    assert _offers(rt) == sorted(offer)
    carol = api.as_("carol")
    carol.post(f"/api/tasks/{completed['id']}/claim")
    assert _offers(rt) == sorted(offer[1:]), "a claimed task is offered to nobody else"
    carol.post(f"/api/tasks/{completed['id']}/unclaim")
    assert _offers(rt) == sorted(offer), "given back, it is offered again as it was"
    assert carol.post(f"/api/tasks/{delegated['id']}/delegate", json={"to": "frank"}).status_code == 200
    carol.post(f"/api/tasks/{completed['id']}/complete", json={"outcome": "approve"})
    api.post(f"/api/instances/{cancelled['instanceId']}/cancel", json={})
    assert _offers(rt) == []
    for task in (completed, cancelled, delegated):
        assert carol.get(f"/api/tasks/{task['id']}").json["candidateGroups"] == ["finance"]
    assert carol.get("/api/tasks").json == []
    done = carol.get("/api/tasks?status=completed").json
    assert [t["id"] for t in done] == [completed["id"]], "completing an unclaimed task claims it"
    assert done[0]["assignee"] == "carol" and done[0]["completedBy"] == "carol"


def test_the_inbox_lists_what_is_assigned_to_me_and_what_is_offered_to_me_or_my_groups_unclaimed(api):
    offered = _finance_task(api)  # offered to carol's group
    started = api.post("/api/instances", json={"definition": "expense-approval",
                                               "payload": {**EXPENSE, "manager": "carol"}})
    assigned = started.json["openTasks"][0]  # carol is this one's manager
    claimed_by_other = _finance_task(api)
    assert api.as_("admin").post(f"/api/tasks/{claimed_by_other['id']}/reassign", json={"to": "dave"}
                                 ).status_code == 200
    carol = api.as_("carol")
    assert {t["id"] for t in carol.get("/api/tasks").json} == {offered["id"], assigned["id"]}
    assert [t["id"] for t in carol.get("/api/tasks?scope=mine").json] == [assigned["id"]]
    assert [t["id"] for t in carol.get("/api/tasks?scope=candidate").json] == [offered["id"]]
    assert '"total": 2' in carol.get("/api/tasks").headers["X-Pagination"]
    assert [t["id"] for t in api.as_("dave").get("/api/tasks").json] == [claimed_by_other["id"]]


def test_the_inbox_breaks_ties_by_id_and_filters_by_process_and_instance_and_pages(api):
    first, second = _finance_task(api), _finance_task(api)
    carol = api.as_("carol")
    ids = [t["id"] for t in carol.get("/api/tasks").json]
    # Same priority; the earlier due date first, and the id where the clock gave both the same one.
    assert ids == sorted([first["id"], second["id"]], key=lambda i: {first["id"]: first, second["id"]: second}[i]
                         ["dueAt"] + i)
    assert [t["id"] for t in carol.get(f"/api/tasks?instanceId={second['instanceId']}").json] == [second["id"]]
    assert carol.get("/api/tasks?definitionKey=vacation-request").json == []
    assert len(carol.get("/api/tasks?definitionKey=expense-approval&scope=candidate").json) == 2
    page_two = carol.get("/api/tasks?page=2&page_size=1")
    assert [t["id"] for t in page_two.json] == ids[1:] and '"total": 2' in page_two.headers["X-Pagination"]
    assert carol.get("/api/tasks?page=3&page_size=1").json == []


TRIAGE = {
    "id": "triage", "name": "Triage",
    "nodes": [{"id": "ask", "type": "start"},
              {"id": "look", "type": "human-task",
               "data": {"title": "{{ ask.last.data.title }}", "priority": "{{ ask.last.data.priority }}",
                        "dueIn": "{{ ask.last.data.dueIn }}", "candidateGroups": ["finance"],
                        "candidateUsers": "{{ ask.last.data.users }}"}}],
    "edges": [{"id": "e1", "source": "ask", "target": "look"}],
}


def test_the_inbox_puts_the_most_urgent_first_and_lists_a_task_offered_twice_once(api):
    designer = api.as_("dana")
    assert designer.post("/api/definitions", json=TRIAGE).status_code == 201
    assert designer.post("/api/definitions/triage/versions/1/publish").status_code == 200
    for title, priority, due_in, users in (("low, due tomorrow", 20, "P1D", []), ("high, due in 3 days", 80, "P3D", []),
                                           ("high, due tomorrow", 80, "P1D", ["carol"]),
                                           ("high, due in 2 days", 80, "P2D", ["carol", "erin"])):
        started = api.post("/api/instances", json={"definition": "triage", "payload": {
            "title": title, "priority": priority, "dueIn": due_in, "users": users}})
        assert started.status_code == 201, started.json
    inbox = api.as_("carol").get("/api/tasks")
    assert [t["title"] for t in inbox.json] == ["high, due tomorrow", "high, due in 2 days", "high, due in 3 days",
                                               "low, due tomorrow"]
    assert '"total": 4' in inbox.headers["X-Pagination"]
    assert [t["title"] for t in api.as_("erin").get("/api/tasks").json] == ["high, due in 2 days"]


def test_every_change_of_who_may_act_and_every_comment_is_a_history_entry(api, rt):
    from ..conftest import database_dump

    task = _finance_task(api)
    carol = api.as_("carol")
    assert carol.post(f"/api/tasks/{task['id']}/claim").status_code == 200
    assert carol.post(f"/api/tasks/{task['id']}/unclaim").status_code == 200
    assert carol.post(f"/api/tasks/{task['id']}/delegate", json={"to": "frank"}).status_code == 200
    assert api.as_("frank").post(f"/api/tasks/{task['id']}/comments", json={"body": "on it"}).status_code == 201
    before = database_dump(rt)
    assert api.as_("erin").post(f"/api/tasks/{task['id']}/claim").status_code == 404
    assert database_dump(rt) == before, "a refused claim records nothing"
    history = api.get(f"/api/instances/{task['instanceId']}/history").json
    events = [(h["cause"], h["actor"], h["taskId"], h["changes"]) for h in history if h["taskId"] == task["id"]]
    assert events == [
        ("task_created", "bob", task["id"], {"candidateGroups": [None, ["finance"]],
                                             "due": [None, "2026-01-04T00:00:00.000000Z"]}),
        ("task_claimed", "carol", task["id"], {"assignee": [None, "carol"]}),
        ("task_unclaimed", "carol", task["id"], {"assignee": ["carol", None]}),
        ("task_delegated", "carol", task["id"], {"assignee": [None, "frank"]}),
        ("task_commented", "frank", task["id"], {"comment": [None, "on it"]}),
    ]
    snapshots = [h for h in history if not h["taskId"]]
    assert [h["revision"] for h in snapshots] == sorted({h["revision"] for h in snapshots}), "one per revision"
    assert all(h["snapshotVersion"] is None and h["delta"] == {} for h in history if h["taskId"])


def test_the_inbox_filters_by_words_priority_and_due_date(api, clock):
    designer = api.as_("dana")
    designer.post("/api/definitions", json=TRIAGE)
    designer.post("/api/definitions/triage/versions/1/publish")
    for title, priority, due_in, key in (("Laptop for Zoë", 80, "P1D", "INV-7"), ("Printer ink", 20, "P5D", "INV-100%"),
                                         ("Chairs", 50, "P10D", "X_1")):
        started = api.post("/api/instances", json={"definition": "triage", "businessKey": key, "payload": {
            "title": title, "priority": priority, "dueIn": due_in, "users": []}})
        assert started.status_code == 201, started.json
    carol = api.as_("carol")

    def titles(query: str) -> list[str]:
        response = carol.get(f"/api/tasks?{query}")
        assert response.status_code == 200, response.json
        return [t["title"] for t in response.json]

    assert titles("text=laptop") == ["Laptop for Zoë"], "any case"
    assert titles("text=inv-") == ["Laptop for Zoë", "Printer ink"], "the business key too"
    assert titles("text=100%25") == ["Printer ink"] and titles("text=X_") == ["Chairs"], "% and _ are just characters"
    assert titles("text=%25") == ["Printer ink"] and titles("text=_1") == ["Chairs"]
    assert titles("minPriority=50") == ["Laptop for Zoë", "Chairs"]
    assert titles("dueBefore=2026-01-07T00:00:00%2B00:00") == ["Laptop for Zoë", "Printer ink"]
    assert titles("scope=candidate&minPriority=60&text=zo") == ["Laptop for Zoë"]
    assert carol.get("/api/tasks?minPriority=101").status_code == 422


def test_the_inbox_sorts_by_urgency_due_date_or_age(api, clock):
    designer = api.as_("dana")
    designer.post("/api/definitions", json=TRIAGE)
    designer.post("/api/definitions/triage/versions/1/publish")
    for title, priority, due_in in (("Old, low, due late", 10, "P9D"), ("Middle, high, due soon", 90, "P3D"),
                                    ("New, normal, due first", 50, "P1D")):
        started = api.post("/api/instances", json={"definition": "triage", "payload": {
            "title": title, "priority": priority, "dueIn": due_in, "users": []}})
        assert started.status_code == 201, started.json
        clock.advance(60_000)
    carol = api.as_("carol")

    def first_words(sort: str, scope: str) -> list[str]:
        response = carol.get(f"/api/tasks?scope={scope}&{sort}")
        assert response.status_code == 200, response.json
        return [t["title"].split(",")[0] for t in response.json]

    expected = {"": ["Middle", "New", "Old"], "sort=urgency": ["Middle", "New", "Old"],  # priority first
                "sort=due": ["New", "Middle", "Old"], "sort=newest": ["New", "Middle", "Old"],
                "sort=oldest": ["Old", "Middle", "New"]}
    for sort, order in expected.items():
        assert first_words(sort, "candidate") == order, sort
    old = next(t for t in carol.get("/api/tasks").json if t["title"].startswith("Old"))
    assert carol.post(f"/api/tasks/{old['id']}/claim").status_code == 200
    for sort, order in expected.items():  # one task assigned, two offered: the union sorts the same way
        assert first_words(sort, "available") == order, sort
    for task in carol.get("/api/tasks?scope=candidate").json:
        assert carol.post(f"/api/tasks/{task['id']}/claim").status_code == 200
    for sort, order in expected.items():
        assert first_words(sort, "mine") == order, sort
    refused = carol.get("/api/tasks?sort=title")
    assert refused.status_code == 422 and "sort" in refused.json["errors"], refused.json
