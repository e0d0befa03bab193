"""What every page shares: the Page a list shows, and the menu the policy allows."""

from __future__ import annotations

import pytest

from bpm.runtime.actors import Actor
from bpm.runtime.paging import Page
from bpm.web.pages import home_of, menu_of


@pytest.mark.parametrize(("total", "number", "pages", "previous", "following"), [
    (0, 1, 1, None, None), (20, 1, 1, None, None), (21, 1, 2, None, 2), (21, 2, 2, 1, None), (61, 2, 4, 1, 3)])
def test_a_page_knows_where_it_is(total, number, pages, previous, following):
    page = Page([], total, number, 20)
    assert (page.pages, page.previous, page.next) == (pages, previous, following)


@pytest.mark.parametrize(("roles", "menu"), [
    ({"employee"}, ["/inbox", "/start", "/requests", "/absences", "/notifications", "/tokens"]),
    ({"employee", "designer"}, ["/inbox", "/start", "/requests", "/absences", "/designer", "/notifications",
                                "/tokens"]),
    ({"auditor"}, ["/audit", "/admin", "/notifications", "/tokens"]),
    ({"designer"}, ["/designer", "/notifications", "/tokens"]),
    ({"admin"}, ["/inbox", "/start", "/requests", "/absences", "/designer", "/audit", "/admin", "/notifications",
                 "/tokens"]),
])
def test_the_menu_shows_what_the_roles_may_do_and_home_is_its_first_page(roles, menu):
    actor = Actor("x", frozenset(roles))
    assert [item.path for item in menu_of(actor)] == menu
    assert home_of(actor) == menu[0], "an auditor lands on the audit search, not on an empty inbox"
    limited = Actor("x", frozenset(roles), scopes=frozenset({"write"}))  # a token without "read" reads nothing
    assert "/audit" not in [item.path for item in menu_of(limited)]


def test_signed_out_home_is_the_inbox_behind_the_sign_in():
    assert home_of(None) == "/inbox"
