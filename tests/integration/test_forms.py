"""Forms are checked at start-up: a broken form is a clear error, never a surprise in the inbox."""

from __future__ import annotations

import json

import pytest

from bpm.forms import FormRegistry, FormsBroken

from ..conftest import REPO


def test_the_shipped_forms_load():
    assert FormRegistry.load(REPO / "forms").ids() == [
        "approval-decision", "expense-request", "post-draft", "vacation-request"]


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
