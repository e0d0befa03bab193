"""The designer's pages: the catalogue of processes, one process with its versions and problems, and the node
reference. Designers and admins only (``runtime.designer.require_designer``); others get a 404."""

from __future__ import annotations

from flask import Blueprint, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.auth.browser import csrf_token
from bpm.engine.errors import DefinitionError
from bpm.runtime import definitions, designer, editor, node_reference
from bpm.runtime.definitions import list_versions
from bpm.web import try_it
from bpm.web.diagram import RunState, render_svg, steps_in_order
from bpm.web.outcome import ANSWERED, act_and_say
from bpm.web.pages import render_page

bp = Blueprint("designer", __name__)
SAID_HERE = (*ANSWERED, DefinitionError)


@bp.get("/designer")
def catalogue() -> tuple[str, int]:
    """Every process with its versions; new, from an example, import."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        processes = designer.catalogue(uow, actor)
    return render_page("designer/catalogue.html", processes=processes,
                       examples=sorted((key, body.get("name", key)) for key, body in
                                       designer.examples(rt.settings.processes_dir).items()))


@bp.post("/designer/new")
def new() -> Response:
    """A new process: blank, or from an example."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)  # before anything is read: for others the page is not there
    key, name = request.form.get("key", "").strip(), request.form.get("name", "").strip()
    example = request.form.get("example") or None
    return act_and_say(lambda: designer.create(rt, actor, key, name, from_example=example),
                       lambda made: f"Process {made.name} created as a draft.", f"/designer/{key}"
                       if designer.KEY_PATTERN.match(key) else "/designer", refused="Not created",
                       answered=SAID_HERE)


@bp.post("/designer/<key>/versions/<int:version>/duplicate")
def duplicate(key: str, version: int) -> Response:
    """A copy of a version under a new key and name."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)  # before anything is read: for others the page is not there
    new_key, name = request.form.get("key", "").strip(), request.form.get("name", "").strip()
    return act_and_say(lambda: designer.create(rt, actor, new_key, name, from_process=(key, version)),
                       lambda made: f"Copied to {made.name}, a new draft.", "/designer", refused="Not copied",
                       answered=SAID_HERE)


@bp.post("/designer/import")
def import_file() -> Response:
    """A definition file (Refluxo JSON) saved as a draft."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)  # before anything is read: for others the page is not there
    upload = request.files.get("file")
    content = upload.read(2_000_001) if upload is not None else b""
    return act_and_say(lambda: designer.import_file(rt, actor, content),
                       lambda made: f"Imported {made.name} as draft version {made.version}.", "/designer",
                       refused="Not imported", answered=SAID_HERE)


@bp.get("/designer/<key>/versions/<int:version>/export")
def export(key: str, version: int) -> Response:
    """A version as a definition file, to keep or to import elsewhere."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        filename, content = designer.export(uow, actor, key, version)
    return Response(content, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff"})


@bp.get("/designer/<key>")
def process(key: str) -> tuple[str, int]:
    """The process editor: the canvas and the outline of its draft (or newest version), the problems the checks
    find, the publish preview and every version."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    with rt.uow() as uow:
        versions = list_versions(uow, actor, key)
        preview = designer.publish_preview(uow, versions)
        found = designer.findings(rt, versions[0].body, uow)
        state = editor.state(rt, uow, actor, key, [*found.errors, *found.warnings, *found.portability])
    newest = versions[0]
    palette = editor.palette(rt.node_types)
    changes = preview.changes if preview is not None else None
    diff = {"against": preview.against, "added": list(changes.nodes_added),
            "changed": [c.id for c in changes.nodes_changed], "edgesAdded": list(changes.edges_added),
            "edgesChanged": [c.id for c in changes.edges_changed]} if changes is not None else None
    data = {**state.to_json(), "types": palette, "csrf": csrf_token(), "diff": diff,
            "urls": {"save": f"/designer/{key}/draft", "draft": f"/designer/{key}/draft.json",
                     "panel": f"/designer/{key}/steps/__node__"}}
    return render_page("designer/process.html", key=key, versions=versions, newest=newest, state=state,
                       **try_it.first_context(state),
                       found=found, preview=preview, palette=palette, data=data,
                       outline=designer.outline(newest.body, rt.node_types),
                       diagram=Markup(render_svg(newest.body, title=newest.name)),  # escaped in the renderer
                       diagram_steps=steps_in_order(newest.body, RunState()))


@bp.post("/designer/<key>/versions/<int:version>/publish")
def publish(key: str, version: int) -> Response:
    """Publish the draft, with the comment that says why."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    comment = request.form.get("comment", "").strip() or None
    return act_and_say(lambda: definitions.publish(rt, actor, key, version, comment),
                       lambda done: f"Version {done.version} published: new requests start on it.",
                       f"/designer/{key}", refused="Not published", answered=SAID_HERE)


@bp.post("/designer/<key>/versions/<int:version>/retire")
def retire(key: str, version: int) -> Response:
    """Retire a published version: no new requests start on it; running ones carry on."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    fallback = request.form.get("fallback") == "yes"  # the page says what retiring does, before the button
    return act_and_say(lambda: definitions.retire(rt, actor, key, version, fallback=fallback),
                       lambda done: f"Version {version} retired: " + (
                           f"new requests start version {done[1]}" if done[1] else "nobody can start the process now")
                       + "; running requests carry on.", f"/designer/{key}",
                       refused="Not retired", answered=SAID_HERE)


@bp.get("/designer/nodes")
def nodes() -> tuple[str, int]:
    """The node types: what each is for, its data, its exits, an example."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    return render_page("designer/nodes.html", entries=node_reference.entries(rt.node_types))


