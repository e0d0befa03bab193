"""Files on a request: add one on a task's page, download one, take back one added by mistake."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, request
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.errors import ConflictError, Forbidden, InvalidRequest
from bpm.http.downloads import send_download
from bpm.http.errors import status_of
from bpm.runtime import attachments
from bpm.web.pages import back
from bpm.web.task_page import said_at_field, task_page_answer

bp = Blueprint("files", __name__)


@bp.post("/tasks/<task_id>/attachments")
def add_attachment(task_id: str) -> Any:
    """Add a file to the request; a refused file is said at the field, and nothing is kept."""
    rt, actor = runtime(), current_actor()
    upload = request.files.get("file")
    try:
        added = attachments.add(rt, actor, task_id, upload.filename or "" if upload else "",
                                upload.read() if upload else b"")
    except InvalidRequest as exc:
        return said_at_field(task_id, "file", exc, "file")
    except Forbidden as exc:
        return task_page_answer(task_id, message=f"{exc}.", status=status_of(exc))
    flash(f"Added {added.filename}.", "success")
    return redirect(f"/tasks/{task_id}?" + urlencode({"back": back()}) + "#files", 303)


@bp.get("/attachments/<attachment_id>")
def download_attachment(attachment_id: str) -> Response:
    """A file of a request the person may read, as a download."""
    return send_download(attachments.download(runtime(), current_actor(), attachment_id))


@bp.post("/attachments/<attachment_id>/remove")
def remove_attachment(attachment_id: str) -> Response:
    """Take back a file one added by mistake (while its task is open)."""
    rt, actor = runtime(), current_actor()
    try:
        removed = attachments.remove(rt, actor, attachment_id)
    except (Forbidden, ConflictError) as exc:
        flash(f"Not removed: {exc}.", "error")
        return redirect(back(), 303)
    flash(f"Removed {removed.filename}.", "success")
    return redirect(f"/tasks/{removed.task_id}?" + urlencode({"back": back()}) + "#files", 303)
