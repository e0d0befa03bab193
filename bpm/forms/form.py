"""A loaded, checked form: one version of ``{id, title, schema, rules, ui}``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CURRENT_USER_WIDGET = "current-user"


@dataclass(frozen=True)
class Form:
    """A loaded, checked form (one version of it; the seed files are version 1)."""

    id: str
    title: str
    schema: Mapping[str, Any]
    rules: tuple[Mapping[str, Any], ...] = ()
    ui: Mapping[str, Any] = field(default_factory=dict)
    version: int = 1

    @property
    def actor_fields(self) -> tuple[str, ...]:
        """Top-level fields the server fills with the acting user's name."""
        widgets = self.ui.get("widgets", {})
        return tuple(name for name, spec in self.schema.get("properties", {}).items()
                     if widgets.get(name) == CURRENT_USER_WIDGET
                     or (isinstance(spec, dict) and spec.get("x-bpm-actor") is True))

    @property
    def requester_fields(self) -> tuple[str, ...]:
        """Fields naming who asked: the actor fields, and fields marked ``x-bpm-requester``."""
        marked = tuple(name for name, spec in self.schema.get("properties", {}).items()
                       if isinstance(spec, dict) and spec.get("x-bpm-requester") is True)
        return self.actor_fields + tuple(name for name in marked if name not in self.actor_fields)

    @property
    def file_fields(self) -> tuple[str, ...]:
        """Top-level fields that hold a file: uploaded with the form, kept as an attachment of the request, the
        field's value its id (``"x-bpm-file": true``)."""
        return tuple(name for name, spec in self.schema.get("properties", {}).items()
                     if isinstance(spec, dict) and spec.get("x-bpm-file") is True)

    def to_dict(self) -> dict[str, Any]:
        """The form as served to clients."""
        return {"id": self.id, "title": self.title, "schema": self.schema, "rules": list(self.rules),
                "ui": self.ui, "version": self.version}

    def document(self) -> dict[str, Any]:
        """The form as a file holds it (no version): what ``forms/*.json`` and an export contain."""
        return {"id": self.id, "title": self.title, "schema": self.schema, "rules": list(self.rules), "ui": self.ui}
