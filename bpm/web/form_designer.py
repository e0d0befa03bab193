"""The form designer's pages: the forms, and one form's fields, rules and live preview (drawn by the renderer
employees see). Plain forms that work without a script; htmx refreshes the preview as the designer types.
Designers and admins only (others: 404)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.errors import NotFound
from bpm.forms import FormsBroken, parse_form
from bpm.runtime import designer, form_design, form_versions
from bpm.web.form_fields import form_fields
from bpm.web.outcome import ANSWERED, act_and_say
from bpm.web.pages import render_page

bp = Blueprint("form_designer", __name__)


@bp.get("/designer/forms")
def forms() -> tuple[str, int]:
    """Every form, with the version processes pin and its newest draft."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    with rt.uow() as uow:
        lines = form_versions.catalogue(rt, uow, actor)
    return render_page("designer/forms.html", lines=lines)


@bp.post("/designer/forms/new")
def new_form() -> Response:
    """A new form's first draft: one text field to begin with."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    form_id, title = request.form.get("id", "").strip(), request.form.get("title", "").strip()

    back = f"/designer/forms/{form_id}" if form_design.NAME.match(form_id.replace("-", "_")) else "/designer/forms"
    return act_and_say(lambda: form_versions.create(rt, actor, form_id, title), "Form created as a draft.", back,
                       refused="Not created")


def _editable(form_id: str) -> tuple[Any, list[Any]]:
    """The version the designer edits (the draft, else the newest published) and every version."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        versions = form_versions.versions(rt, uow, actor, form_id)
    draft = next((v for v in versions if v.status == form_versions.DRAFT), None)
    return draft or next((v for v in versions if v.status == form_versions.PUBLISHED), versions[0]), versions


def _document(row: Any) -> dict[str, Any]:
    return {"id": row.form_id, "title": row.title, "schema": row.schema_, "rules": row.rules, "ui": row.ui}


@bp.get("/designer/forms/<form_id>")
def form_page(form_id: str) -> tuple[str, int]:
    """One form in the designer: its fields and rules beside a live preview."""
    designer.require_designer(current_actor())
    row, versions = _editable(form_id)
    spec = form_design.spec_of(_document(row))
    return _render(form_id, spec, row, versions)


def _render(form_id: str, spec: form_design.FormSpec, row: Any, versions: list[Any],
            errors: dict[str, list[str]] | None = None, status: int = 200) -> tuple[str, int]:
    document, found = form_design.document_of(spec)
    return render_page("designer/form.html", status, form_id=form_id, spec=spec, row=row, versions=versions,
                       errors=errors or {}, kinds=form_design.KINDS, comparisons=form_design.COMPARISONS,
                       revision=row.revision if row.status == form_versions.DRAFT else "",
                       names=form_design.field_names(spec.fields), preview=_preview(document, found),
                       actor=current_actor())


def _preview(document: dict[str, Any], found: dict[str, list[str]]) -> dict[str, Any]:
    """The form as an employee will see it, or why it cannot be drawn yet."""
    if found:
        return {"fields": [], "problems": [m for ms in found.values() for m in ms]}
    try:
        form = parse_form(document)
    except FormsBroken as broken:
        return {"fields": [], "problems": [p.message for p in broken.problems]}
    return {"fields": form_fields(form), "problems": []}


@bp.post("/designer/forms/<form_id>/preview")
def preview(form_id: str) -> str:
    """The preview of what the designer has typed so far (nothing is saved)."""
    designer.require_designer(current_actor())
    spec = form_design.read_posted(form_id, request.form, _rows())
    document, found = form_design.document_of(spec)
    return render_template("designer/form_preview.html", preview=_preview(document, found),
                           actor=current_actor())


def _rows() -> int:
    raw = request.form.get("rows", "0")
    return min(int(raw), form_design.MAX_FIELDS) if raw.isdigit() else 0


@bp.post("/designer/forms/<form_id>")
def save_form(form_id: str) -> Response | tuple[str, int]:
    """Save the draft (or move or remove a field first): on top of the revision the page showed."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    spec = form_design.read_posted(form_id, request.form, _rows())
    act, _, at = request.form.get("act", "save").partition(":")
    index = int(at) if at.isdigit() else -1
    if act in ("up", "down"):
        spec = form_design.moved(spec, index, -1 if act == "up" else 1)
    elif act == "remove":
        spec = form_design.without(spec, index)
    document, errors = form_design.document_of(spec)
    if errors:
        row, versions = _editable(form_id)
        return _render(form_id, spec, row, versions, errors, 422)
    raw = request.form.get("revision", "")
    revision = int(raw) if raw.isdigit() and len(raw) < 18 else None
    said = {"up": "Field moved up.", "down": "Field moved down.", "remove": "Field removed."}.get(act, "Draft saved.")
    return act_and_say(lambda: form_versions.save_draft(rt, actor, document, revision), said,
                       f"/designer/forms/{form_id}", refused="Not saved")


@bp.post("/designer/forms/<form_id>/versions/<int:version>/publish")
def publish_form(form_id: str, version: int) -> Response:
    """Publish the draft: processes published from now on pin it."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    return act_and_say(lambda: form_versions.publish(rt, actor, form_id, version),
                       f"Version {version} published: processes published from now on use it.",
                       f"/designer/forms/{form_id}", refused="Not published", answered=(*ANSWERED, NotFound))
