"""Forms on pages: which fields a form shows and how, what a posted HTML form means as JSON, and how data reads.

The schema in ``forms/*.json`` is the only description of a form; this module
turns it into fields for the Jinja macros (``templates/forms.html``), and a
posted form back into the JSON the runtime validates (the server's check is
the guard; the browser's ``required``/``min``/``max`` are a convenience).

Input names are the field's JSON path with dots (``items.0.name``), the same
paths ``FormRegistry.validate`` names in its errors, so an error lands next
to its field. Text the browser sends is turned into the schema's type here
(numbers, booleans, arrays, nested objects); what cannot be turned (``"12a"``
for a number) is reported as a field error, never passed on as a string.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from bpm.engine.formats import date_text, moment_text, money_text
from bpm.forms import CURRENT_USER_WIDGET, Form
from bpm.forms.messages import not_a_number
from bpm.runtime.form_files import Upload
from bpm.runtime.paging import digits

EMPTY_ROWS = 1  # blank rows offered after an array's values (no JavaScript needed to add one)
MAX_ROWS = 50
INDEX = re.compile(r"^(0|[1-9][0-9]{0,3})$")
UNREADABLE = object()  # text that is not the field's type: reported, and left out of the data


@dataclass(frozen=True)
class Field:
    """One input (or group of inputs) of a form, as a page shows it."""

    name: str  # the JSON path with dots, and the input's name
    label: str
    schema: Mapping[str, Any]
    widget: str  # text | textarea | number | integer | money | checkbox | select | radio | date | datetime |
    #              email | current-user | person | group-pick | list | table | group
    required: bool = False
    description: str | None = None
    read_only: bool = False
    children: tuple[Field, ...] = ()  # a group's fields, a table row's columns, or a money amount's currency
    choices: tuple[tuple[Any, str], ...] = ()  # (value, label) of an enum

    @property
    def input_id(self) -> str:
        """An element id for the input (dots and brackets are not CSS-friendly)."""
        return "f-" + self.name.replace(".", "-")


def _label(name: str, schema: Mapping[str, Any]) -> str:
    title = schema.get("title")
    if isinstance(title, str) and title:
        return title
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name.rsplit(".", 1)[-1]).replace("_", " ")
    return words[:1].upper() + words[1:]


def _choices(schema: Mapping[str, Any]) -> tuple[tuple[Any, str], ...]:
    if isinstance(schema.get("enum"), list):
        names = schema.get("x-enumNames") or []
        return tuple((value, names[i] if i < len(names) else str(value)) for i, value in enumerate(schema["enum"]))
    options = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(options, list) and all(isinstance(o, dict) and "const" in o for o in options):
        return tuple((o["const"], o.get("title") or str(o["const"])) for o in options)
    return ()


def _widget(schema: Mapping[str, Any], asked: str | None) -> str:
    kind = schema.get("type")
    if asked == CURRENT_USER_WIDGET or schema.get("x-bpm-actor") is True:
        return CURRENT_USER_WIDGET
    if schema.get("x-bpm-file") is True:
        return "file"
    if kind == "string" and schema.get("x-picks") in ("user", "group") and not _choices(schema):
        return "person" if schema["x-picks"] == "user" else "group-pick"
    if _choices(schema):
        return "radio" if asked == "radio" else "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("number", "integer"):
        return kind
    if kind == "object":
        return "group"
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return "table" if items.get("type") == "object" else "list"
    if asked in ("textarea", "email", "date", "datetime"):
        return asked
    formats = {"date": "date", "date-time": "datetime", "email": "email"}
    return formats.get(schema.get("format", ""), "text")


def form_fields(form: Form) -> list[Field]:
    """The form's fields in ``ui.order`` (then schema order), each with its widget, label and rules."""
    return _fields(form.schema, "", form.ui)


def _fields(schema: Mapping[str, Any], prefix: str, ui: Mapping[str, Any]) -> list[Field]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    order = [name for name in ui.get("order", []) if name in properties] if not prefix else []
    money: Mapping[str, str] = ui.get("money", {}) if not prefix else {}
    currencies = set(money.values())
    names = [name for name in order + [name for name in properties if name not in order] if name not in currencies]
    required = set(schema.get("required") or [])
    widgets = ui.get("widgets", {}) if not prefix else {}
    read_only = set(ui.get("readOnly", [])) if not prefix else set()
    found = []
    for name in names:
        spec = properties[name] if isinstance(properties[name], dict) else {}
        path = f"{prefix}{name}"
        widget = _widget(spec, widgets.get(name))
        children: tuple[Field, ...] = ()
        if widget == "group":
            children = tuple(_fields(spec, path + ".", {}))
        elif widget == "table":
            children = tuple(_fields(spec["items"], "", {}))
        elif name in money:  # the amount and its currency, shown and read as one sum
            currency = properties[money[name]]
            widget, children = "money", (Field(money[name], _label(money[name], currency), currency,
                                               _widget(currency, None), money[name] in required,
                                               currency.get("description"), choices=_choices(currency)),)
        found.append(Field(path, _label(name, spec), spec, widget, name in required, spec.get("description"),
                           name in read_only or spec.get("readOnly") is True, children, _choices(spec)))
    return found


# --- a posted HTML form -> JSON ----------------------------------------------------------------------------------

@dataclass
class Parsed:
    """What a posted form says, as JSON, with the fields whose text could not be read."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def shown_again(parsed: Parsed, posted: MultiDict[str, str]) -> dict[str, Any]:
    """The values to show back: what was read, and what could not be read as it was typed."""
    values = dict(parsed.data)
    for name in parsed.errors:
        set_value_at(values, name, posted.get(name))
    return values


def uploads_of(form: Form | None, files: Mapping[str, Any], limit: int) -> dict[str, Upload]:
    """The files posted for the form's file fields (read up to one byte past ``limit``: the runtime says
    "too large" with the size)."""
    found = {}
    for name in form.file_fields if form is not None else ():
        upload = files.get(name)
        if upload is not None and upload.filename:
            found[name] = Upload(upload.filename, upload.read(limit + 1))
    return found


def has_file_field(fields: Sequence[Field]) -> bool:
    """Whether a form needs to be sent as multipart (it has a file field)."""
    return any(f.widget == "file" for f in fields)


def parse_posted(form: Form, posted: MultiDict[str, str]) -> Parsed:
    """The JSON a posted form means; empty inputs are left out, so "required" speaks for them."""
    parsed = Parsed()
    for spec in form_fields(form):
        _read(spec, posted, parsed.data, parsed.errors)
    return parsed


def _read(spec: Field, posted: MultiDict[str, str], into: dict[str, Any], errors: dict[str, list[str]]) -> None:
    key = spec.name.rsplit(".", 1)[-1]
    if spec.widget in (CURRENT_USER_WIDGET, "file"):
        return  # the server fills it (the actor; the uploaded file's id): whatever was posted as text is not read
    if spec.widget in ("group", "table", "list"):
        value = _read_many(spec, posted, errors)
        if value:
            into[key] = value
        return
    if spec.widget == "checkbox":
        into[key] = spec.name in posted
        return
    if spec.widget == "money":
        _read(spec.children[0], posted, into, errors)
    text = posted.get(spec.name)
    if text is None or not text.strip():
        return
    value = _convert(text, spec.schema, spec.name, errors)
    if value is not UNREADABLE:
        into[key] = value


def _read_many(spec: Field, posted: MultiDict[str, str], errors: dict[str, list[str]]) -> Any:
    """A nested object's fields, a table's rows or a list's values (empty when nothing was typed)."""
    if spec.widget == "table":
        return _table_rows(spec, posted, errors)
    if spec.widget == "list":
        return _list_values(spec, posted, errors)
    inner: dict[str, Any] = {}
    for child in spec.children:
        _read(child, posted, inner, errors)
    return inner


def _list_values(spec: Field, posted: MultiDict[str, str], errors: dict[str, list[str]]) -> list[Any]:
    """The non-empty values of a list; an unreadable one keeps its place, so its error names the right row."""
    items = spec.schema.get("items") if isinstance(spec.schema.get("items"), dict) else {}
    values: list[Any] = []
    for text in posted.getlist(spec.name)[:MAX_ROWS]:
        if text.strip():
            values.append(_convert(text, items, f"{spec.name}.{len(values)}", errors))
    return [v for v in values if v is not UNREADABLE]


def _table_rows(spec: Field, posted: MultiDict[str, str], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Rows posted as ``items.0.name``, ``items.1.name``…; a row left wholly empty is no row."""
    depth = spec.name.count(".") + 1  # where the row index sits in "items.0.name"
    indices = sorted({int(key.split(".")[depth]) for key in posted
                      if key.startswith(spec.name + ".") and INDEX.match(key.split(".")[depth])})
    rows = []
    for index in indices[:MAX_ROWS]:
        row: dict[str, Any] = {}
        typed = False
        for column in spec.children:
            column_name = f"{spec.name}.{index}.{column.name}"
            if column.widget == "checkbox":
                if column_name in posted:
                    row[column.name] = True
                continue
            text = posted.get(column_name)
            if text is not None and text.strip():
                typed = True
                value = _convert(text, column.schema, f"{spec.name}.{len(rows)}.{column.name}", errors)
                if value is not UNREADABLE:
                    row[column.name] = value
        if row or typed:
            rows.append(row)
    return rows


def _convert(text: str, schema: Mapping[str, Any], path: str, errors: dict[str, list[str]]) -> Any:
    kind = schema.get("type")
    choices = _choices(schema)
    if choices:
        for value, _ in choices:
            if str(value) == text:
                return value
        return text  # not one of them: validation names the choices
    try:
        if kind == "integer":
            return int(text.strip())
        if kind == "number":
            number = float(text.strip().replace(",", ""))
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(text)
            return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    except ValueError:
        errors.setdefault(path, []).append(not_a_number(text.strip(), whole=kind == "integer"))
        return UNREADABLE
    if schema.get("format") == "date-time" and "T" in text and len(text) == 16:
        return text + ":00Z"  # <input type="datetime-local"> says minutes, no zone: taken as UTC
    return text


# --- reading data ------------------------------------------------------------------------------------------------

def money(amount: Any, currency: Any) -> str:
    """A sum as people read it (``bpm.engine.formats``: the rule task titles use too)."""
    if not isinstance(amount, int | float) or isinstance(amount, bool):
        return display(amount)
    return money_text(amount, currency if isinstance(currency, str) else "")


def display(value: Any, spec: Field | None = None, data: Any = None) -> str:
    """A value for people to read: chosen labels, grouped digits, sums with their currency, dates spelt out."""
    if value is None:
        return "—"
    if spec is not None and spec.widget == "money":
        return money(value, value_at(data, spec.children[0].name) if data is not None else None)
    if spec is not None and spec.choices:
        for choice, label in spec.choices:
            if choice == value:
                return label
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, str) and spec is not None:
        return _when(value, spec.schema.get("format"))
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(display(v) for v in value)
    return str(value)


def _when(value: str, fmt: Any) -> str:
    try:
        if fmt == "date":
            return date_text(dt.date.fromisoformat(value))
        if fmt == "date-time":
            return moment_text(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        pass
    return value


def row_count(spec: Field, value: Any) -> int:
    """How many rows a list or table shows: its values and one blank row to add another."""
    return min(len(value) if isinstance(value, list) else 0, MAX_ROWS) + EMPTY_ROWS


def value_at(data: Any, path: str) -> Any:
    """The value at a dotted path (``items.0.name``), or None."""
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and digits(part) and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def set_value_at(data: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at a dotted path, making the objects on the way (lists are left as they are)."""
    parts = path.split(".")
    current: Any = data
    for part in parts[:-1]:
        if isinstance(current, dict):
            current = current.setdefault(part, {})
        elif isinstance(current, list) and digits(part) and int(part) < len(current):
            current = current[int(part)]
        else:
            return
    if isinstance(current, dict):
        current[parts[-1]] = value


def in_form_order(fields: Sequence[Field], errors: Mapping[str, list[str]]) -> list[tuple[str, list[str]]]:
    """The errors in the order their fields appear (rows and nested fields where their parent is), for the summary."""
    position: dict[str, int] = {}

    def number(specs: Sequence[Field]) -> None:
        for spec in specs:
            position[spec.name] = len(position)
            number(spec.children if spec.widget in ("group", "money") else ())

    number(fields)

    def place(name: str) -> tuple[int, str]:
        if name == "_form":
            return -1, name  # about the whole form: first
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):  # "lines.0.qty" sits where "lines" is
            if ".".join(parts[:cut]) in position:
                return position[".".join(parts[:cut])], name
        return len(position), name  # a field the form does not show: last

    return sorted(errors.items(), key=lambda item: place(item[0]))


def label_of(fields: Sequence[Field], path: str) -> str:
    """The label people know a field by (for the error summary); the path itself when no field has it."""
    for spec in fields:
        if spec.name == path:
            return spec.label
        if path.startswith(spec.name + "."):
            rest = path[len(spec.name) + 1:]
            if spec.widget == "table":
                index, _, column = rest.partition(".")
                inner = next((c.label for c in spec.children if c.name == column), column)
                return f"{spec.label}, row {int(index) + 1 if digits(index) else index}: {inner}"
            if spec.widget == "list":
                return f"{spec.label} {int(rest) + 1 if digits(rest) else rest}"
            return label_of(spec.children, path)
        if spec.widget == "money" and spec.children[0].name == path:
            return spec.children[0].label
    return "The form" if path == "_form" else path
