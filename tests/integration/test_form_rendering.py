"""Every widget of the form renderer: what it draws, what a posted form means, where an error lands."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from bpm.forms import FormRegistry, parse_form
from bpm.runtime.actors import Actor
from bpm.web.form_fields import display, form_fields, parse_posted

EVERYTHING = parse_form({"id": "everything", "title": "Everything", "schema": {
    "type": "object", "required": ["name", "count"], "additionalProperties": False,
    "properties": {
        "requester": {"type": "string", "title": "Requested by"},
        "name": {"type": "string", "title": "Name", "maxLength": 20, "description": "as on the badge"},
        "notes": {"type": "string"},
        "count": {"type": "integer", "minimum": 1, "maximum": 9},
        "price": {"type": "number", "minimum": 0, "multipleOf": 0.01},
        "cur": {"type": "string", "title": "Currency", "enum": ["EUR", "JPY"]},
        "urgent": {"type": "boolean", "title": "Urgent"},
        "colour": {"type": "string", "enum": ["red", "green"], "x-enumNames": ["Red", "Green"]},
        "size": {"type": "string", "oneOf": [{"const": "s", "title": "Small"}, {"const": "l", "title": "Large"}]},
        "day": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "mail": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "lines": {"type": "array", "items": {"type": "object", "required": ["item"], "properties": {
            "item": {"type": "string", "title": "Item"}, "qty": {"type": "integer", "title": "Qty", "minimum": 1}}}},
        "address": {"type": "object", "title": "Address", "properties": {
            "street": {"type": "string"}, "city": {"type": "string"}}},
    }},
    "ui": {"order": ["requester", "name"], "widgets": {"requester": "current-user", "notes": "textarea",
                                                       "size": "radio"}, "money": {"price": "cur"}}})

WIDGETS = [("requester", "current-user"), ("name", "text"), ("notes", "textarea"), ("count", "integer"),
           ("price", "money"), ("urgent", "checkbox"), ("colour", "select"), ("size", "radio"), ("day", "date"),
           ("at", "datetime"), ("mail", "email"), ("tags", "list"), ("lines", "table"), ("address", "group")]


def test_each_field_gets_its_widget_in_ui_order():
    assert [(f.name, f.widget) for f in form_fields(EVERYTHING)] == WIDGETS
    address = form_fields(EVERYTHING)[-1]
    assert [c.name for c in address.children] == ["address.street", "address.city"]


@pytest.fixture
def render(app):
    def draw(values=None, errors=None) -> str:
        with app.test_request_context("/"):
            macros = app.jinja_env.get_template("forms.html").module
            return str(macros.fields(form_fields(EVERYTHING), values or {}, errors or {},
                                     Actor("ann", frozenset({"employee"}))))
    return draw


@pytest.mark.parametrize(("pattern", "why"), [
    (r'<input id="f-requester" value="ann" readonly', "current-user shows the actor, and posts nothing"),
    (r'<input type="text" id="f-name" name="name" value="" maxlength="20" required aria-describedby="f-name-hint"',
     "text with its limits, required, described by its hint"),
    (r'<textarea id="f-notes" name="notes" rows="4"', "textarea"),
    (r'<input type="text" inputmode="numeric" id="f-count" name="count" value="" autocomplete="off" spellcheck="false"'
     r' required', "integer: text with a numeric keyboard, so '12e' reaches the server to be named"),
    (r'<input type="text" inputmode="decimal" id="f-price" name="price" value="" autocomplete="off"',
     "number: a decimal keyboard"),
    (r'<legend>Price</legend>\s*<div class="sum">\s*<div class="amount">\s*<label for="f-price" class="sr-only">Price'
     r'</label>[^<]*<input type="text" inputmode="decimal"[^>]*>\s*</div>\s*<div class="currency">\s*'
     r'<label for="f-cur" class="sr-only">Currency</label>\s*<select id="f-cur" name="cur">',
     "money: the amount and its currency as one sum"),
    (r'<input type="checkbox" id="f-urgent" name="urgent" value="on"', "boolean"),
    (r'<option value="red">Red</option><option value="green">Green</option>', "enum as a select, with names"),
    (r'<input type="radio" name="size" value="s"> Small', "oneOf consts as radio buttons"),
    (r'<input type="date" id="f-day" name="day"', "date"),
    (r'<input type="datetime-local" id="f-at" name="at"', "date-time"),
    (r'<input type="email" id="f-mail" name="mail"', "e-mail"),
    (r'<input id="f-tags-0" name="tags" value="">', "an array of values: one empty row to add"),
    (r'name="lines.0.item"', "an array of objects: a row of inputs"),
    (r'<legend>Address</legend>', "a nested object as a fieldset"),
    (r'name="address.street"', "its fields named by path"),
])
def test_each_widget_draws_accessible_html(render, pattern, why):
    assert re.search(pattern, render()), why


def test_every_input_has_a_label(render):
    html = render()
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', html))
    labelled = set(re.findall(r'<label[^>]* for="([^"]+)"', html))
    assert ids and ids <= labelled, ids - labelled


def test_values_are_kept_and_errors_land_next_to_their_field(render):
    html = render({"name": "Zoë <b>", "count": 3, "urgent": True, "tags": ["a", "b"], "lines": [{"item": "pen"}],
                   "address": {"city": "Porto"}, "at": "2026-07-01T09:30:00Z"},
                  {"count": ["must be a whole number"], "lines.0.qty": ["is required"]})
    assert 'value="Zoë &lt;b&gt;"' in html, "kept, and escaped"
    assert re.search(r'id="f-count"[^>]*aria-describedby="f-count-error" aria-invalid="true"', html)
    assert '<p class="field-error" id="f-count-error">must be a whole number</p>' in html
    assert 'id="f-urgent" name="urgent" value="on" checked' in html
    assert 'name="tags" value="a"' in html and 'name="tags" value="b"' in html and 'id="f-tags-2"' in html
    assert 'name="lines.0.item" value="pen"' in html and 'id="f-lines-1-item"' in html
    assert 'name="address.city" value="Porto"' in html
    assert 'value="2026-07-01T09:30"' in html, "a stored date-time fits the browser's input"
    assert html.count("is required") == 1


def test_the_error_summary_follows_the_form_top_to_bottom(render):
    from bpm.web.form_fields import in_form_order

    errors = {"lines.0.qty": ["x"], "address.city": ["x"], "cur": ["x"], "name": ["x"], "_form": ["x"], "zz": ["x"]}
    assert [name for name, _ in in_form_order(form_fields(EVERYTHING), errors)] == [
        "_form", "name", "cur", "lines.0.qty", "address.city", "zz"]


@pytest.mark.parametrize(("posted", "data", "errors"), [
    ({"name": "x", "count": "3"}, {"name": "x", "count": 3, "urgent": False}, {}),
    ({"name": "  ", "count": ""}, {"urgent": False}, {}),  # empty inputs are left out: "required" speaks
    ({"count": "3.5"}, {"urgent": False}, {"count": ["'3.5' is not a whole number"]}),
    ({"price": "12a"}, {"urgent": False}, {"price": ["'12a' is not a number"]}),
    ({"price": "1,234.50", "urgent": "on"}, {"price": 1234.5, "urgent": True}, {}),
    ({"price": "12", "cur": "JPY"}, {"price": 12, "cur": "JPY", "urgent": False}, {}),
    ({"price": "NaN"}, {"urgent": False}, {"price": ["'NaN' is not a number"]}),
    ({"colour": "green", "size": "l"}, {"colour": "green", "size": "l", "urgent": False}, {}),
    ({"at": "2026-07-01T09:30"}, {"at": "2026-07-01T09:30:00Z", "urgent": False}, {}),
    ([("tags", "a"), ("tags", ""), ("tags", "b")], {"tags": ["a", "b"], "urgent": False}, {}),
    ({"lines.0.item": "pen", "lines.0.qty": "2", "lines.1.item": "", "lines.1.qty": "", "lines.2.qty": "x"},
     {"lines": [{"item": "pen", "qty": 2}, {}], "urgent": False}, {"lines.1.qty": ["'x' is not a whole number"]}),
    ({"address.city": "Porto"}, {"address": {"city": "Porto"}, "urgent": False}, {}),
    ({"requester": "mallory"}, {"urgent": False}, {}),  # the server fills it; the post cannot
])
def test_a_posted_form_becomes_the_json_of_its_schema(posted, data, errors):
    parsed = parse_posted(EVERYTHING, MultiDict(posted))
    assert (parsed.data, parsed.errors) == (data, errors)


def test_the_server_validation_names_the_same_paths_the_inputs_have():
    from bpm.errors import FormInvalid

    registry = FormRegistry({"everything": EVERYTHING})
    parsed = parse_posted(EVERYTHING, MultiDict({"name": "x" * 30, "count": "12", "lines.0.qty": "0"}))
    with pytest.raises(FormInvalid) as refused:
        registry.validate("everything", registry.fill_actor("everything", parsed.data, "ann"))
    assert set(refused.value.errors) == {"name", "count", "lines.0.item", "lines.0.qty"}, \
        "input names: name, count, and the table's lines.<row>.<column> (a missing column too)"


@pytest.mark.parametrize(("value", "field", "shown"), [
    (1500, "count", "1,500"), (12.5, "price", "12.50"), (True, "urgent", "Yes"), ("green", "colour", "Green"),
    ("l", "size", "Large"), ("2026-07-01", "day", "1 Jul 2026"),
    ("2026-07-01T09:30:00Z", "at", "1 Jul 2026, 09:30 UTC"),
    (None, "name", "—"), (["a", "b"], "tags", "a, b"), ("not a date", "day", "not a date")])
def test_data_reads_as_people_read_it(value, field, shown):
    spec = next(f for f in form_fields(EVERYTHING) if f.name == field)
    assert display(value, spec) == shown


@pytest.mark.parametrize(("data", "shown"), [
    ({"price": 1500, "cur": "EUR"}, "1,500.00 EUR"), ({"price": 12000, "cur": "JPY"}, "12,000 JPY"),
    ({"price": 0.5}, "0.50"), ({"price": "oops", "cur": "EUR"}, "oops")])
def test_a_sum_reads_with_its_currency(data, shown):
    price = next(f for f in form_fields(EVERYTHING) if f.name == "price")
    assert display(data["price"], price, data) == shown
    assert "cur" not in [f.name for f in form_fields(EVERYTHING)], "the currency is part of the sum"


@pytest.mark.parametrize(("money", "reason"), [
    ({"name": "cur"}, "'name' must be a number field"), ({"price": "count"}, "needs a string currency field"),
    ({"price": "cur", "count": "cur"}, "each amount has its own currency field"), ("price", "must map amount")])
def test_a_money_pairing_that_cannot_work_is_refused_when_the_form_loads(money, reason):
    from bpm.forms import FormsBroken

    broken = {"id": "f", "title": "F", "schema": EVERYTHING.schema, "ui": {"money": money}}
    with pytest.raises(FormsBroken, match=reason):
        parse_form(broken)


def _hostile_form(payload: str):
    """EVERYTHING with the payload in every title, description, choice label and choice value."""
    import copy

    raw = copy.deepcopy(EVERYTHING.to_dict())

    def poison(properties: dict) -> None:
        for spec in properties.values():
            spec["title"], spec["description"] = payload, payload
            if "enum" in spec:
                spec["enum"], spec["x-enumNames"] = [*spec["enum"], payload], [payload] * (len(spec["enum"]) + 1)
            for option in spec.get("oneOf", []):
                option["title"] = payload
            poison(spec.get("properties", {}))
            poison(spec.get("items", {}).get("properties", {}))

    poison(raw["schema"]["properties"])
    raw["title"] = payload
    return parse_form(raw)


@pytest.mark.parametrize("payload", __import__("tests.hostile", fromlist=["CORPUS"]).CORPUS)
def test_hostile_text_in_every_widget_label_value_and_error_comes_back_escaped(app, payload):
    from markupsafe import escape

    from tests.hostile import UNESCAPED

    form = _hostile_form(payload)
    values = {"name": payload, "notes": payload, "count": payload, "price": payload, "cur": payload,
              "colour": payload, "size": payload, "day": payload, "at": payload, "mail": payload,
              "tags": [payload, payload], "lines": [{"item": payload, "qty": payload}],
              "address": {"street": payload, "city": payload}, "urgent": payload}
    errors = {name: [payload] for name in ("name", "notes", "count", "price", "cur", "colour", "size", "day", "at",
                                           "mail", "tags.0", "lines.0.item", "address.city", "urgent")}
    fields = form_fields(form)
    with app.test_request_context("/"):
        macros = app.jinja_env.get_template("forms.html").module
        pages = {"form": str(macros.fields(fields, values, errors, Actor(payload[:100], frozenset({"employee"})))),
                 "summary": str(macros.error_summary(errors, fields)),
                 "read": str(macros.read(fields, values))}
    for where, html in pages.items():
        for bad in UNESCAPED:
            assert not re.search(bad, html), f"{where}: {bad} came back unescaped"
        assert "</textarea><script>" not in html, f"{where}: a textarea was closed from inside"
        assert str(escape(payload)) in html, f"{where}: shown as the text it is"
        assert "49" not in html.replace(str(escape(payload)), ""), f"{where}: no template was evaluated"
