"""Every form by id and version, with the one validation rule the API, the inbox and the engine use.

Forms are data: the newest published version of each id is its current
one, and a published process pins the versions it was published with
(``pinned``), so a running request keeps the forms it started with. The
registry is a cache: published versions never change, so a version this
process has not seen yet (published by another server) is read through
``loader`` on first use; the current versions are re-read by ``replace``
whenever a designer's action needs them fresh.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Union

from jsonschema import Draft202012Validator

from bpm.errors import FormInvalid, NotFound, shown
from bpm.forms.documents import COMPARISONS, FormsBroken, parse_form
from bpm.forms.form import Form
from bpm.forms.messages import said_for_person

ROOT_FIELD = "_form"
Forms = Union["FormRegistry", "PinnedForms"]
"""What a node or a check reads forms from: every current form, or those one published process pinned."""
VersionLoader = Callable[[str, int], "Form | None"]


class FormRegistry:
    """All forms by id (their current version) and by (id, version).

    ``today`` gives the date rules compare with ``"today"`` (the injected clock's, in UTC).
    """

    def __init__(self, forms: Mapping[str, Form], today: Callable[[], dt.date] | None = None,
                 loader: VersionLoader | None = None) -> None:
        self.today = today or (lambda: dt.datetime.now(dt.UTC).date())
        self.loader = loader
        self._lock = threading.Lock()
        self._seed = dict(forms)
        self._current: dict[str, Form] = dict(forms)
        self._versions: dict[tuple[str, int], Form] = {(f.id, f.version): f for f in forms.values()}
        self._validators: dict[tuple[str, int], Draft202012Validator] = {}

    @classmethod
    def load(cls, directory: Path, today: Callable[[], dt.date] | None = None) -> FormRegistry:
        """Load every ``*.json`` form in ``directory`` (as version 1); raise FormsBroken listing every broken file."""
        return cls(read_seed(directory), today)

    @property
    def seed(self) -> dict[str, Form]:
        """The forms the files gave at start-up (version 1 of each, until the database has them)."""
        return dict(self._seed)

    def replace(self, published: Iterable[Form], retired: Iterable[Form] = ()) -> None:
        """Take the database's versions as the truth: the newest ``published`` one of each form is its current
        version, ``retired`` ones serve only the processes that pinned them; the seed files stand for the ids
        the database has no version of."""
        published, retired = list(published), list(retired)
        stored_ids = {form.id for form in (*published, *retired)}
        current = {form_id: form for form_id, form in self._seed.items() if form_id not in stored_ids}
        for form in sorted(published, key=lambda f: f.version):
            current[form.id] = form
        versions = {(f.id, f.version): f for f in current.values()}
        versions.update({(f.id, f.version): f for f in (*published, *retired)})
        with self._lock:
            self._current, self._versions = current, versions
            self._validators = {k: v for k, v in self._validators.items() if k in versions}

    def __contains__(self, form_id: object) -> bool:
        return form_id in self._current

    def ids(self) -> list[str]:
        """Every form id, sorted."""
        return sorted(self._current)

    def current(self) -> list[Form]:
        """The current version of every form, by id."""
        return [self._current[form_id] for form_id in sorted(self._current)]

    def get(self, form_id: str, version: int | None = None) -> Form:
        """Version ``version`` of the form (None: its current version), or NotFound."""
        if version is None:
            found = self._current.get(form_id)
        else:
            found = self._versions.get((form_id, version))
            if found is None and self.loader is not None:
                found = self.loader(form_id, version)
                if found is not None:
                    with self._lock:
                        self._versions[(form_id, version)] = found
        if found is None:
            raise NotFound(f"no form {shown(form_id)}" + (f" version {version}" if version is not None else ""))
        return found

    def version_of(self, form_id: str | None) -> int | None:
        """The version of ``form_id`` a process without pins uses: its current one (None: no such form)."""
        found = self._current.get(form_id) if form_id is not None else None
        return found.version if found is not None else None

    def pinned(self, pins: Mapping[str, int] | None) -> Forms:
        """This registry as a process pinned to ``pins`` ({form id: version}) sees it (no pins: itself)."""
        return PinnedForms(self, pins) if pins else self

    def fill_actor(self, form_id: str | None, data: Any, username: str, version: int | None = None) -> Any:
        """``data`` with the form's actor fields set to ``username`` (other values are left to ``validate``)."""
        if form_id is None or form_id not in self or not isinstance(data, dict):
            return data
        names = self.get(form_id, version).actor_fields
        return {**data, **dict.fromkeys(names, username)} if names else data

    def validate(self, form_id: str | None, data: Any, outcome: str | None = None,
                 version: int | None = None) -> dict[str, Any]:
        """Check submitted ``data`` (for ``outcome``); return it, or raise FormInvalid with field errors.

        No form means anything object-shaped is accepted.
        """
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise FormInvalid("form data must be an object", {ROOT_FIELD: ["must be an object"]})
        if form_id is None:
            return data
        form = self.get(form_id, version)
        errors = _schema_errors(self._validator(form), data)
        for rule in form.rules:
            for name, message in _rule_errors(form, rule, data, outcome, self.today):
                if not errors.get(name) or "require" in rule:  # a comparison of a value already wrong says nothing
                    errors.setdefault(name, []).append(message)
        if errors:
            raise FormInvalid(f"the data does not fit form '{form_id}'", errors)
        return data

    def _validator(self, form: Form) -> Draft202012Validator:
        key = (form.id, form.version)
        validator = self._validators.get(key)
        if validator is None or validator.schema is not form.schema:
            validator = Draft202012Validator(form.schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            with self._lock:
                self._validators[key] = validator
        return validator


class PinnedForms:
    """A registry as one published process sees it: the form versions it pinned, the current one otherwise
    (a form it names only through an expression)."""

    def __init__(self, registry: FormRegistry, pins: Mapping[str, int]) -> None:
        self.registry, self.pins = registry, dict(pins)
        self.today = registry.today

    def __contains__(self, form_id: object) -> bool:
        return form_id in self.pins or form_id in self.registry

    def version_of(self, form_id: str | None) -> int | None:
        """The version this process pinned of ``form_id`` (not pinned: its current version)."""
        pinned = self.pins.get(form_id) if form_id is not None else None
        return pinned if pinned is not None else self.registry.version_of(form_id)

    def get(self, form_id: str, version: int | None = None) -> Form:
        """The pinned version of the form."""
        return self.registry.get(form_id, version if version is not None else self.pins.get(form_id))

    def fill_actor(self, form_id: str | None, data: Any, username: str, version: int | None = None) -> Any:
        """As ``FormRegistry.fill_actor``, with the pinned version."""
        return self.registry.fill_actor(form_id, data, username, version or self.version_of(form_id))

    def validate(self, form_id: str | None, data: Any, outcome: str | None = None,
                 version: int | None = None) -> dict[str, Any]:
        """As ``FormRegistry.validate``, with the pinned version."""
        return self.registry.validate(form_id, data, outcome, version or self.version_of(form_id))


def read_seed(directory: Path) -> dict[str, Form]:
    """Every ``*.json`` form in ``directory``; FormsBroken naming every broken file."""
    forms: dict[str, Form] = {}
    problems: list[str] = []
    for path in sorted(directory.glob("*.json")):
        try:
            form = parse_form(json.loads(path.read_text()), expected_id=path.stem)
        except (ValueError, FormsBroken) as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        forms[form.id] = form
    if problems:
        raise FormsBroken("broken forms in " + str(directory) + ": " + "; ".join(problems))
    return forms


def _rule_errors(form: Form, rule: Mapping[str, Any], data: Mapping[str, Any], outcome: str | None,
                 today: Callable[[], dt.date]) -> list[tuple[str, str]]:
    """What one rule says is wrong with ``data``: (field, message) pairs."""
    properties = form.schema.get("properties", {})
    if "field" in rule:
        message = compare_rule(rule, properties, data, today)
        return [] if message is None else [(rule["field"], message)]
    if not _rule_applies(rule.get("if", {}), data, outcome):
        return []
    reason = f" when you {str(outcome).replace('-', ' ').replace('_', ' ')}" if "outcome" in rule.get("if", {}) else ""
    return [(name, f"is required{reason}") for name in rule.get("require", []) if data.get(name) in (None, "", [])]


def compare_rule(rule: Mapping[str, Any], properties: Mapping[str, Any], data: Mapping[str, Any],
                 today: Callable[[], dt.date]) -> str | None:
    """The rule's message if the field's value breaks it; None if it holds or a value is missing or unreadable."""
    op = next(op for op in COMPARISONS if op in rule)
    field_name, other = rule["field"], rule[op]
    kind = _kind(properties.get(field_name, {}))
    left = _comparable(data.get(field_name), kind)
    if other == "today":
        right: Any = today() if kind == "date" else None
    elif isinstance(other, dict):
        right = _comparable(data.get(other["field"]), kind)
    else:
        right = _comparable(other, kind)
    if left is None or right is None:
        return None  # a missing value is the "required" check's to report, a malformed one the schema's
    try:
        return None if COMPARISONS[op](left, right) else str(rule["message"])
    except TypeError:
        return None


def _kind(spec: Any) -> str:
    if not isinstance(spec, dict):
        return "text"
    if spec.get("format") in ("date", "date-time"):
        return str(spec["format"])
    return "number" if spec.get("type") in ("number", "integer") else "text"


def _comparable(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    try:
        if kind == "date":
            return dt.date.fromisoformat(str(value))
        if kind == "date-time":
            return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if kind == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return value if isinstance(value, str) else None


def _rule_applies(condition: Mapping[str, Any], data: Mapping[str, Any], outcome: str | None) -> bool:
    return all((outcome if key == "outcome" else data.get(key)) == value for key, value in condition.items())


def _schema_errors(validator: Draft202012Validator, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each field's messages; a value of the wrong kind says only that (its limits say nothing more to a person)."""
    errors: dict[str, list[str]] = {}
    mistyped: set[str] = set()
    for error in sorted(validator.iter_errors(data), key=lambda e: e.validator != "type"):
        for name, message in _field_errors(error):
            if name in mistyped:
                continue
            messages = errors.setdefault(name, [])
            if message not in messages:  # jsonschema reports a missing field once per missing field
                messages.append(message)
            if error.validator == "type":
                mistyped.add(name)
    return errors


def _field_errors(error: Any) -> list[tuple[str, str]]:
    """Name the field an error is about, in words for the person who filled it in (``bpm.forms.messages``):
    a missing or unknown field is reported on itself, at any depth (a table row's column too); a field whose
    schema says what a person reads when a limit is broken (``x-messages``) says that."""
    path = ".".join(str(p) for p in error.absolute_path)
    said = error.schema.get("x-messages") if isinstance(error.schema, Mapping) else None
    if isinstance(said, Mapping) and isinstance(said.get(error.validator), str):
        return [(path or ROOT_FIELD, said[error.validator])]
    where = f"{path}." if path else ""
    if error.validator == "required" and isinstance(error.instance, Mapping):
        return [(where + name, "is required") for name in error.validator_value if name not in error.instance]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(error.schema.get("properties", {}))
        return [(where + name, "is not a field of this form") for name in error.instance if name not in allowed]
    return [(path or ROOT_FIELD, said_for_person(error))]
