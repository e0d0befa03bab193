"""Forms are checked at start-up: a broken form is a clear error, never a surprise in the inbox."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bpm.errors import FormInvalid
from bpm.forms import FormRegistry, FormsBroken, parse_form

from ..conftest import REPO


def test_the_shipped_forms_load():
    assert FormRegistry.load(REPO / "forms").ids() == [
        "approval-decision", "contract-request", "expense-request", "expense-review", "post-draft", "vacation-request"]


@pytest.mark.parametrize("content, reason", [
    ("{", "Expecting property name"),
    (json.dumps({"id": "other", "title": "x", "schema": {"type": "object"}}), "does not match the file name"),
    (json.dumps({"id": "f", "title": "x", "schema": {"type": "string"}}), "type object"),
    (json.dumps({"id": "f", "title": "x", "schema": {"type": "object", "properties": {"a": {"type": 3}}}}),
     "invalid schema"),
    (json.dumps({"id": "f", "title": "x", "schema": {"type": "object"}, "rules": [{"require": ["ghost"]}]}),
     "'rules'"),
])
def test_a_broken_form_stops_start_up_naming_the_file(tmp_path, content, reason):
    (tmp_path / "f.json").write_text(content)
    with pytest.raises(FormsBroken) as caught:
        FormRegistry.load(tmp_path)
    assert "f.json" in str(caught.value) and reason in str(caught.value)


def test_a_broken_form_stops_the_app_from_starting(tmp_path, database_url):
    from bpm.app import create_app

    (tmp_path / "f.json").write_text("{}")
    with pytest.raises(FormsBroken):
        create_app({"database_url": database_url, "forms_dir": tmp_path})


def _leave(**values):
    return {"employee": "ann", "manager": "bob", "firstDay": "2026-03-02", "lastDay": "2026-03-06", **values}


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"lastDay": "2026-03-01"}, "lastDay", "The last day cannot be before the first day."),
    ({"firstDay": "2026-01-31", "lastDay": "2026-02-02"}, "firstDay", "The first day cannot be in the past."),
])
def test_a_leave_that_ends_before_it_starts_or_starts_in_the_past_is_refused_at_the_field(values, field, message):
    forms = FormRegistry.load(REPO / "forms", today=lambda: dt.date(2026, 2, 1))
    with pytest.raises(FormInvalid) as refused:
        forms.validate("vacation-request", _leave(**values))
    assert refused.value.errors == {field: [message]}


def test_a_leave_of_one_day_starting_today_is_fine_and_a_malformed_date_is_the_schemas_to_report():
    forms = FormRegistry.load(REPO / "forms", today=lambda: dt.date(2026, 3, 2))
    assert forms.validate("vacation-request", _leave(lastDay="2026-03-02"))["lastDay"] == "2026-03-02"
    with pytest.raises(FormInvalid) as refused:
        forms.validate("vacation-request", _leave(lastDay="02/03/2026"))
    assert list(refused.value.errors) == ["lastDay"] and "cannot be before" not in refused.value.errors["lastDay"][0]


@pytest.mark.parametrize("rule", [
    {"field": "nope", "atLeast": 1, "message": "m"},
    {"field": "n", "atLeast": {"field": "nope"}, "message": "m"},
    {"field": "n", "atLeast": 1},
    {"field": "n", "atLeast": 1, "atMost": 2, "message": "m"},
    {"field": "n", "sideways": 1, "message": "m"},
])
def test_a_comparison_rule_that_names_no_field_or_no_message_is_refused_when_the_form_loads(rule):
    form = {"id": "f", "title": "F", "schema": {"type": "object", "properties": {"n": {"type": "number"}}},
            "rules": [rule]}
    with pytest.raises(FormsBroken, match="rules"):
        parse_form(form)


def test_number_rules_compare_numbers():
    form = parse_form({"id": "f", "title": "F", "schema": {"type": "object", "properties": {
        "low": {"type": "number"}, "high": {"type": "number"}}},
        "rules": [{"field": "high", "above": {"field": "low"}, "message": "High must be above low."}]})
    forms = FormRegistry({"f": form})
    assert forms.validate("f", {"low": 2, "high": 10}) == {"low": 2, "high": 10}  # 10 > 2 (as text "10" < "2")
    with pytest.raises(FormInvalid) as refused:
        forms.validate("f", {"low": 2, "high": 2})
    assert refused.value.errors == {"high": ["High must be above low."]}
