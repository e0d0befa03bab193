"""The form designer's vocabulary: fields of the kinds people name become the form document validation and the
renderer read, and every stored form opens in the designer and saves again unchanged in meaning."""

from __future__ import annotations

import json

import pytest

from bpm.errors import FormInvalid
from bpm.forms import FormRegistry, parse_form
from bpm.runtime.form_design import FieldSpec, FormSpec, RuleSpec, document_of, moved, read_posted, spec_of, without

from ..conftest import REPO

SHIPPED = sorted((REPO / "forms").glob("*.json"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_form_opens_in_the_designer_and_saves_to_the_same_schema(path):
    document = json.loads(path.read_text())
    again, errors = document_of(spec_of(document))
    assert errors == {}
    parse_form(again)
    before, after = document["schema"], again["schema"]
    assert after["properties"] == before["properties"], "no field lost or changed"
    assert sorted(after.get("required", [])) == sorted(before.get("required", []))
    assert again["ui"].get("money", {}) == document.get("ui", {}).get("money", {})
    assert again["ui"].get("widgets", {}) == document.get("ui", {}).get("widgets", {})
    assert again["rules"] == document.get("rules", [])


PURCHASE = FormSpec("purchase-request", "Purchase request", (
    FieldSpec("item", "text", "Item", required=True, min_length="2", max_length="200"),
    FieldSpec("price", "money", "Price", required=True, minimum="> 0", maximum="100000",
              message="A price above 0 and at most 100,000"),
    FieldSpec("supplier", "text", "Supplier", pattern="^[A-Z]{2}-[0-9]{4}$",
              message="A supplier number such as AB-1234"),
    FieldSpec("trip", "date-range", "Delivery window"),
    FieldSpec("urgent", "yes-no", "Urgent?"),
    FieldSpec("category", "choice", "Category", choices=("hardware", "software", "services")),
    FieldSpec("approver", "person", "Approver"),
    FieldSpec("notes", "long-text", "Notes", help="Anything the approver should know"),
    FieldSpec("quote", "file", "The supplier's quote")),
    (RuleSpec(outcome="reject", requires=("notes",)),))


def test_a_designed_form_validates_with_the_messages_the_designer_wrote():
    document, errors = document_of(PURCHASE)
    assert errors == {}
    forms = FormRegistry({"purchase-request": parse_form(document)})
    good = {"item": "Desk", "price": 300, "priceCurrency": "EUR", "supplier": "AB-1234",
            "tripStart": "2026-12-10", "tripEnd": "2026-12-12", "urgent": False, "category": "hardware",
            "approver": "bob", "quote": "a1b2"}
    assert forms.validate("purchase-request", good) == good
    with pytest.raises(FormInvalid) as caught:
        forms.validate("purchase-request", {**good, "price": 0, "supplier": "12", "tripEnd": "2026-12-01"},
                       outcome="reject")
    assert caught.value.errors == {"price": ["A price above 0 and at most 100,000"],
                                   "supplier": ["A supplier number such as AB-1234"],
                                   "tripEnd": ["Delivery window: the end is not before the start"],
                                   "notes": ["is required when you reject"]}


def test_a_designed_form_opens_again_as_it_was_designed():
    document, _ = document_of(PURCHASE)
    reopened = spec_of(document)
    assert [(f.name, f.kind, f.label) for f in reopened.fields] == [(f.name, f.kind, f.label) for f in PURCHASE.fields]
    assert document_of(reopened)[0] == document


def test_what_cannot_be_a_form_is_said_at_its_input():
    spec = FormSpec("f", "F", (FieldSpec("1bad", "text"), FieldSpec("n", "number", minimum="lots"),
                               FieldSpec("c", "choice"), FieldSpec("p", "text", pattern="(")),
                    (RuleSpec("ghost", "atLeast", "today", "m"), RuleSpec("n", "atLeast", "soon", "m")))
    _, errors = document_of(spec)
    assert set(errors) == {"field.0.name", "field.1.minimum", "field.2.choices", "field.3.pattern",
                           "rule.0.field", "rule.1.other"}


def test_a_posted_designer_form_reads_back_with_an_added_row():
    posted = {"title": "T", "field.0.name": "a", "field.0.kind": "number", "field.0.minimum": "1",
              "field.1.name": "b", "field.1.kind": "choice", "field.1.choices": "x, y", "field.1.required": "yes",
              "rule_rows": "0", "rule.0.field": "a", "rule.0.op": "below", "rule.0.other": "10",
              "rule.0.message": "below ten"}
    spec = read_posted("t", posted, rows=1)
    assert [f.name for f in spec.fields] == ["a", "b"] and spec.fields[1].choices == ("x", "y")
    assert spec.fields[1].required and spec.rules == (RuleSpec("a", "below", "10", "below ten"),)
    assert [f.name for f in moved(spec, 1, -1).fields] == ["b", "a"]
    assert [f.name for f in without(spec, 0).fields] == ["b"]
