"""The bell: one's own notices over the API and on the page, marking them read, and choosing how they come."""

from __future__ import annotations

from bpm.scheduler import Worker

from ..conftest import EXPENSE, database_dump


def _deliver(rt) -> None:
    assert Worker(rt).deliver().get("sent", 0) >= 1


def test_a_notice_is_in_the_bell_of_its_person_only_and_opens_what_it_is_about(api, client, rt):
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    task_id = started["openTasks"][0]["id"]
    _deliver(rt)
    bob = api.as_("bob").get("/api/notifications").json
    assert [(n["kind"], n["title"], n["readAt"]) for n in bob] == [
        ("task-assigned", "Approve expense of 1,500.00 EUR for ann", None)]
    assert bob[0]["link"].endswith(f"/tasks/{task_id}")
    assert api.as_("carol").get("/api/notifications").json == [], "nobody sees another's notices"
    before = database_dump(rt)
    assert api.as_("carol").post("/api/notifications/read", json={"ids": [bob[0]["id"]]}).json == {"unread": 0}
    assert database_dump(rt) == before, "marking someone else's notice read does nothing"
    page = client.get("/inbox", headers={"X-BPM-User": "bob"}).get_data(as_text=True)
    assert 'id="unread-count" aria-label="1 unread"' in page, "the header's bell"
    before = database_dump(rt)
    followed = client.get(f"/notifications/{bob[0]['id']}/open", headers={"X-BPM-User": "bob"})
    assert followed.status_code == 303 and followed.headers["Location"] == f"/tasks/{task_id}"
    assert database_dump(rt) == before, "a GET changes nothing (a link followed by a mail scanner, a prefetch)"
    opened = client.post(f"/notifications/{bob[0]['id']}/open", headers={"X-BPM-User": "bob"})
    assert opened.status_code == 303 and opened.headers["Location"] == f"/tasks/{task_id}"
    assert api.as_("bob").get("/api/notifications?unread=true").json == []
    assert 'aria-label="0 unread"' in client.get("/notifications/count", headers={"X-BPM-User": "bob"}).get_data(
        as_text=True)


def test_people_choose_how_each_kind_comes_and_a_wrong_choice_is_said_per_field(api, client, rt):
    assert api.as_("bob").get("/api/notifications/settings").json["modes"]["task-assigned"] == "now"
    before = database_dump(rt)
    wrong = api.as_("bob").put("/api/notifications/settings",
                               json={"modes": {"task-assigned": "pigeon", "gossip": "now"}})
    assert wrong.status_code == 422 and set(wrong.json["errors"]) == {"task-assigned", "gossip"}
    assert database_dump(rt) == before
    saved = api.as_("bob").put("/api/notifications/settings", json={"modes": {"task-assigned": "digest"}})
    assert saved.status_code == 200 and saved.json["modes"]["task-assigned"] == "digest"
    posted = client.post("/notifications/settings", data={"mode-reminder": "in-app", "csrf_token": "-"},
                         headers={"X-BPM-User": "bob"})
    assert posted.status_code == 303
    modes = api.as_("bob").get("/api/notifications/settings").json["modes"]
    assert modes["reminder"] == "in-app" and modes["task-assigned"] == "now", "the form says every kind"
    page = client.get("/notifications", headers={"X-BPM-User": "bob"}).get_data(as_text=True)
    assert 'name="mode-reminder" value="in-app" checked' in page


def test_mark_all_read_on_the_page(api, client, rt):
    for _ in range(3):
        api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    _deliver(rt)
    assert len(api.as_("bob").get("/api/notifications?unread=true").json) == 3
    client.post("/notifications/read", data={"all": "yes", "csrf_token": "-"}, headers={"X-BPM-User": "bob"})
    assert api.as_("bob").get("/api/notifications?unread=true").json == []


def test_marking_read_says_which_and_a_wrong_method_says_which_are_allowed(api, client):
    """POST /api/notifications/read without saying which was a 200 that did nothing; a 405 named no method."""
    empty = api.as_("bob").post("/api/notifications/read", json={})
    assert empty.status_code == 422 and "ids" in empty.json["errors"]
    wrong = api.as_("bob").delete("/api/notifications/read")
    assert wrong.status_code == 405 and "POST" in wrong.headers.get("Allow", "")
    page = client.delete("/notifications/read", headers={"X-BPM-User": "bob", "Accept": "text/html"})
    assert page.status_code == 405 and "POST" in page.headers.get("Allow", "")
