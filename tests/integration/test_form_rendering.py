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
                                                       "size": "radio"}}})

WIDGETS = [("requester", "current-user"), ("name", "text"), ("notes", "textarea"), ("count", "integer"),
           ("price", "number"), ("urgent", "checkbox"), ("colour", "select"), ("size", "radio"), ("day", "date"),
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
    (r'<input type="number" inputmode="numeric" id="f-count" name="count" value="" min="1" max="9" step="1" required',
     "integer: min, max, whole steps"),
    (r'<input type="number" inputmode="decimal" id="f-price" name="price" value="" min="0" step="0.01"',
     "number with multipleOf as step"),
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


@pytest.mark.parametrize(("posted", "data", "errors"), [
    ({"name": "x", "count": "3"}, {"name": "x", "count": 3, "urgent": False}, {}),
    ({"name": "  ", "count": ""}, {"urgent": False}, {}),  # empty inputs are left out: "required" speaks
    ({"count": "3.5"}, {"urgent": False}, {"count": ["must be a whole number"]}),
    ({"price": "12a"}, {"urgent": False}, {"price": ["must be a number"]}),
    ({"price": "1,234.50", "urgent": "on"}, {"price": 1234.5, "urgent": True}, {}),
    ({"price": "NaN"}, {"urgent": False}, {"price": ["must be a number"]}),
    ({"colour": "green", "size": "l"}, {"colour": "green", "size": "l", "urgent": False}, {}),
    ({"at": "2026-07-01T09:30"}, {"at": "2026-07-01T09:30:00Z", "urgent": False}, {}),
    ([("tags", "a"), ("tags", ""), ("tags", "b")], {"tags": ["a", "b"], "urgent": False}, {}),
    ({"lines.0.item": "pen", "lines.0.qty": "2", "lines.1.item": "", "lines.1.qty": "", "lines.2.qty": "x"},
     {"lines": [{"item": "pen", "qty": 2}, {}], "urgent": False}, {"lines.1.qty": ["must be a whole number"]}),
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
    assert set(refused.value.errors) == {"name", "count", "lines.0", "lines.0.qty"}, \
        "input names: name, count, and the table's lines.<row>.<column>"


@pytest.mark.parametrize(("value", "field", "shown"), [
    (1500, "count", "1,500"), (12.5, "price", "12.50"), (True, "urgent", "Yes"), ("green", "colour", "Green"),
    ("l", "size", "Large"), ("2026-07-01", "day", "1 Jul 2026"),
    ("2026-07-01T09:30:00Z", "at", "1 Jul 2026, 09:30 UTC"),
    (None, "name", "—"), (["a", "b"], "tags", "a, b"), ("not a date", "day", "not a date")])
def test_data_reads_as_people_read_it(value, field, shown):
    spec = next(f for f in form_fields(EVERYTHING) if f.name == field)
    assert display(value, spec) == shown
