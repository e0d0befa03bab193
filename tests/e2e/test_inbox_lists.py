"""The task lists as pages: sorting, and the htmx fragment that updates them in place."""

from __future__ import annotations

import re

from .test_tasks_api import TRIAGE

FRAGMENT = {"HX-Request": "true", "HX-Target": "results", "HX-Current-URL": "http://localhost/inbox"}


def _start_three(api, clock) -> None:
    designer = api.as_("dana")
    designer.post("/api/definitions", json=TRIAGE)
    designer.post("/api/definitions/triage/versions/1/publish")
    for title, priority, due_in in (("Old low", 10, "P9D"), ("Middle high", 90, "P3D"), ("New normal", 50, "P1D")):
        started = api.post("/api/instances", json={"definition": "triage", "payload": {
            "title": title, "priority": priority, "dueIn": due_in, "users": []}})
        assert started.status_code == 201, started.json
        clock.advance(60_000)


def _titles(html: str) -> list[str]:
    return re.findall(r'class="task-title"[^>]*>([^<]+)</a>', html)


def test_the_group_list_sorts_as_the_person_chose_and_keeps_it_in_the_links(client, api, clock):
    _start_three(api, clock)
    page = client.get("/inbox?view=group&sort=oldest", headers={"X-BPM-User": "carol"}).get_data(as_text=True)
    assert _titles(page) == ["Old low", "Middle high", "New normal"]
    assert '<option value="oldest" selected>' in page
    assert "back=/inbox%3Fview%3Dgroup%26sort%3Doldest" in page, "a task opened from here comes back sorted"
    default = client.get("/inbox?view=group&sort=urgency", headers={"X-BPM-User": "carol"}).get_data(as_text=True)
    assert _titles(default) == ["Middle high", "New normal", "Old low"]
    assert "sort%3D" not in default, "the default order is not spelled out in the links"
    unknown = client.get("/inbox?view=group&sort=%3Cscript%3E", headers={"X-BPM-User": "carol"})
    assert unknown.status_code == 200 and _titles(unknown.get_data(as_text=True)) == _titles(default)


def test_a_filter_change_made_with_htmx_gets_the_results_alone(client, api, clock):
    _start_three(api, clock)
    response = client.get("/inbox?view=group&q=high&process=&due=&priority=&sort=",
                          headers={"X-BPM-User": "carol", **FRAGMENT})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and "<header" not in html
    assert 'id="q"' not in html, "the search box, where the person types, is not sent again"
    assert html.lstrip().startswith('<div id="results">') and _titles(html) == ["Middle high"]
    assert 'id="tabs" aria-label="Which tasks" hx-swap-oob="true"' in html, "the tabs' counts follow the filter"
    assert '<p id="results-status" hx-swap-oob="innerHTML">1 task matches these filters.</p>' in html
    assert 'name="query" value="view=group&amp;q=high"' in html, "saving a view saves these filters"
    assert response.headers["HX-Push-Url"] == "/inbox?view=group&q=high", "the address without the empty fields"
    assert "HX-Request" in response.headers["Vary"]
    full = client.get("/inbox?view=group&q=high", headers={"X-BPM-User": "carol", **FRAGMENT,
                                                           "HX-History-Restore-Request": "true"})
    assert "<html" in full.get_data(as_text=True), "going back in history gets the whole page"
    other_target = client.get("/inbox?view=group", headers={"X-BPM-User": "carol", "HX-Request": "true"})
    assert "<html" in other_target.get_data(as_text=True), "only the results target gets a fragment"


def test_a_fragment_shows_only_what_the_person_may_see(client, api, clock):
    _start_three(api, clock)
    html = client.get("/inbox?view=group", headers={"X-BPM-User": "ann", **FRAGMENT}).get_data(as_text=True)
    assert _titles(html) == [] and "Nothing is offered to you" in html
    refused = client.get("/inbox?view=group", headers=FRAGMENT)
    assert refused.status_code in (302, 303, 401) and "Middle high" not in refused.get_data(as_text=True)
