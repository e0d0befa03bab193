"""What every page shares: the Page a list shows, and the menu the policy allows."""

from __future__ import annotations

import pytest

from bpm.runtime.actors import Actor
from bpm.runtime.paging import Page
from bpm.web.pages import menu_of


@pytest.mark.parametrize(("total", "number", "pages", "previous", "following"), [
    (0, 1, 1, None, None), (20, 1, 1, None, None), (21, 1, 2, None, 2), (21, 2, 2, 1, None), (61, 2, 4, 1, 3)])
def test_a_page_knows_where_it_is(total, number, pages, previous, following):
    page = Page([], total, number, 20)
    assert (page.pages, page.previous, page.next) == (pages, previous, following)


@pytest.mark.parametrize(("roles", "sees_audit"), [
    ({"employee"}, False), ({"employee", "designer"}, False), ({"auditor"}, True), ({"admin"}, True)])
def test_the_menu_shows_the_audit_and_admin_pages_to_whoever_reads_everything(roles, sees_audit):
    paths = [item.path for item in menu_of(Actor("x", frozenset(roles)))]
    assert paths[:5] == ["/inbox", "/start", "/requests", "/notifications", "/tokens"]
    assert ("/audit" in paths and "/admin" in paths) is sees_audit
    limited = Actor("x", frozenset(roles), scopes=frozenset({"write"}))  # a token without "read" reads nothing
    assert "/audit" not in [item.path for item in menu_of(limited)]
