"""The form designer's pages: a designer adds, orders, configures and removes fields and rules, sees the preview
drawn by the renderer employees see, saves a draft (with its revision) and publishes it — no restart."""

from __future__ import annotations

from ..conftest import database_dump


def _post(client, url: str, data: dict, user: str = "dana", **headers):
    return client.post(url, data=data, headers={"X-BPM-User": user, "Accept": "text/html", **headers},
                       follow_redirects=not headers)


def _page(client, url: str, user: str = "dana"):
    return client.get(url, headers={"X-BPM-User": user, "Accept": "text/html"})


def _revision(api, form_id: str) -> str:
    versions = api.as_("dana").get(f"/api/forms/{form_id}/versions").json
    draft = next(v for v in versions if v["status"] == "draft")
    return api.as_("dana").get(f"/api/forms/{form_id}/versions/{draft['version']}").headers["ETag"].strip('"')


PURCHASE = {"title": "Purchase request", "rows": "3", "rule_rows": "0",
            "field.0.name": "item", "field.0.label": "Item", "field.0.kind": "text", "field.0.required": "yes",
            "field.1.name": "price", "field.1.label": "Price", "field.1.kind": "money", "field.1.required": "yes",
            "field.1.minimum": "> 0", "field.1.choices": "EUR, USD", "field.1.message": "More than 0, please",
            "field.2.name": "supplier", "field.2.label": "Supplier", "field.2.kind": "text",
            "field.2.pattern": "^[A-Z]{2}-[0-9]{4}$", "field.2.message": "A supplier number such as AB-1234",
            "field.3.name": "window", "field.3.label": "Delivery window", "field.3.kind": "date-range",
            "rule.0.outcome": "reject", "rule.0.requires": "item"}


def test_a_designer_makes_a_purchase_form_and_publishes_it_without_a_restart(client, api):
    made = _post(client, "/designer/forms/new", {"id": "purchase-request", "title": "Purchase request"})
    assert "Form created as a draft." in made.get_data(as_text=True)
    revision = _revision(api, "purchase-request")
    saved = _post(client, "/designer/forms/purchase-request", {**PURCHASE, "revision": revision, "act": "save"})
    assert "Draft saved." in saved.get_data(as_text=True)
    version = api.as_("dana").get("/api/forms/purchase-request/versions/1").json
    assert version["schema"]["properties"]["price"]["x-messages"] == {"exclusiveMinimum": "More than 0, please"}
    assert version["ui"]["money"] == {"price": "priceCurrency"} and version["ui"]["ranges"] == {
        "window": ["windowStart", "windowEnd"]}
    assert {"if": {"outcome": "reject"}, "require": ["item"]} in version["rules"]
    page = _page(client, "/designer/forms/purchase-request").get_data(as_text=True)
    assert 'value="Delivery window"' in page and "Preview" in page
    published = _post(client, "/designer/forms/purchase-request/versions/1/publish", {})
    assert "Version 1 published" in published.get_data(as_text=True)
    assert api.get("/api/forms/purchase-request").json["version"] == 1


def test_fields_move_up_and_down_and_are_removed(client, api):
    _post(client, "/designer/forms/new", {"id": "ordering", "title": "Ordering"})
    posted = {"title": "Ordering", "rows": "1", "rule_rows": "0", "revision": _revision(api, "ordering"),
              "field.0.name": "name", "field.0.kind": "text", "field.1.name": "age", "field.1.kind": "number"}
    _post(client, "/designer/forms/ordering", {**posted, "act": "save"})
    posted.update(rows="2", revision=_revision(api, "ordering"))
    _post(client, "/designer/forms/ordering", {**posted, "act": "up:1"})
    assert api.as_("dana").get("/api/forms/ordering/versions/1").json["ui"]["order"] == ["age", "name"]
    posted.update(revision=_revision(api, "ordering"), **{"field.0.name": "age", "field.0.kind": "number",
                                                          "field.1.name": "name", "field.1.kind": "text"})
    _post(client, "/designer/forms/ordering", {**posted, "act": "remove:0"})
    assert list(api.as_("dana").get("/api/forms/ordering/versions/1").json["schema"]["properties"]) == ["name"]


def test_the_preview_is_drawn_by_the_renderer_employees_see_and_saves_nothing(client, rt):
    before = database_dump(rt)
    shown = _post(client, "/designer/forms/expense-request/preview", PURCHASE, **{"HX-Request": "true"})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'id="f-price"' in html and 'id="f-priceCurrency"' in html
    assert 'id="f-windowStart"' in html and "Delivery window: to" in html
    broken = _post(client, "/designer/forms/expense-request/preview", {**PURCHASE, "field.0.name": "1item"},
                   **{"HX-Request": "true"}).get_data(as_text=True)
    assert "The preview waits for these to be fixed" in broken
    assert database_dump(rt) == before


def test_a_field_that_cannot_be_is_said_at_its_input_and_nothing_is_saved(client, api, rt):
    before = database_dump(rt)
    refused = _post(client, "/designer/forms/expense-request", {**PURCHASE, "field.2.pattern": "(", "act": "save"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "not a pattern (a regular expression)" in page and 'aria-invalid="true"' in page
    assert database_dump(rt) == before


def test_saving_on_an_old_revision_is_refused(client, api, rt):
    _post(client, "/designer/forms/new", {"id": "twice", "title": "Twice"})
    old = _revision(api, "twice")
    posted = {"title": "Twice", "rows": "0", "rule_rows": "0", "field.0.name": "a", "field.0.kind": "text"}
    _post(client, "/designer/forms/twice", {**posted, "revision": old, "act": "save"})
    before = database_dump(rt)
    late = _post(client, "/designer/forms/twice", {**posted, "field.0.name": "b", "revision": old, "act": "save"})
    assert "reload it" in late.get_data(as_text=True)
    assert database_dump(rt) == before


def test_the_form_designer_is_not_there_for_employees(client):
    assert _page(client, "/designer/forms", "ann").status_code == 404
    assert _page(client, "/designer/forms/expense-request", "audrey").status_code == 404
    assert _post(client, "/designer/forms/expense-request", {"act": "save"}, "ann").status_code == 404
