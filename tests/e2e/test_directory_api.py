"""GET /api/people?q= and /api/groups?q= (issue 22): the pickers' source — signed-in people find others by a few
letters of a name or display name, see names, display names and groups, never an e-mail or a role; paged."""

from __future__ import annotations


def test_a_few_letters_find_people_by_name_or_display_name_and_nothing_private(api):
    found = api.get("/api/people?q=fin").json
    assert [p["username"] for p in found] == ["carol", "frank"], "Carol Finance, Frank Finance"
    assert found[0] == {"username": "carol", "displayName": "Carol Finance", "groups": ["finance"]}
    assert all(set(p) == {"username", "displayName", "groups"} for p in api.get("/api/people").json)
    assert [p["username"] for p in api.get("/api/people?q=BOB").json] == ["bob"], "any case"


def test_the_pattern_characters_of_sql_are_plain_letters(api):
    assert api.get("/api/people?q=%25").json == [], "a % matches a %, not everyone"
    assert api.get("/api/people?q=_").json == []


def test_groups_are_found_the_same_way_and_lists_are_paged(api):
    assert [g["name"] for g in api.get("/api/groups?q=head").json] == ["department-heads"]
    page = api.get("/api/people?page=1&page_size=2")
    assert len(page.json) == 2 and '"total": 10' in page.headers["X-Pagination"]
    assert api.get("/api/people?page_size=51").status_code == 422, "a page holds at most 50"
    assert api.get("/api/people?q=" + "x" * 101).status_code == 422


def test_a_disabled_person_is_not_offered(api, rt):
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import set_active

    set_active(rt, SYSTEM_ACTOR, "frank", False)
    assert [p["username"] for p in api.get("/api/people?q=fin").json] == ["carol"]


def test_nobody_unsigned_finds_anyone(client):
    assert client.get("/api/people?q=a").status_code == 401


def test_a_page_past_anything_that_can_exist_is_empty_not_an_error(api):
    """Found by the OpenAPI fuzzer: page 2**62 overflowed SQLite's integer as an offset."""
    for url in ("/api/people?q=a&page=4611686018427387904", "/api/groups?q=a&page=4611686018427387904"):
        answer = api.get(url)
        assert answer.status_code == 200 and answer.json == [], url
