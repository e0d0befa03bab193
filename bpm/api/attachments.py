"""Files on a request: add one on a task (multipart), list a request's, download or remove one."""

from __future__ import annotations

from typing import Any

from flask import Response, send_file
from flask.views import MethodView

from bpm.api.blueprint import Blueprint
from bpm.api.schemas import AttachmentSchema, NewAttachmentSchema
from bpm.auth import current_actor, runtime
from bpm.runtime import attachments

blp = Blueprint("attachments", __name__, url_prefix="/api",
                description="Files on a request: receipts, quotes, signed forms.")


def send_attachment(found: attachments.Download) -> Response:
    """The file as a download with the type it was found to be; never shown inline, never run by the browser."""
    import io

    response = send_file(io.BytesIO(found.content), mimetype=found.attachment.content_type, as_attachment=True,
                         download_name=found.attachment.filename, etag=found.attachment.sha256,
                         max_age=0, conditional=True)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/tasks/<string:task_id>/attachments")
class TaskAttachments(MethodView):
    @blp.arguments(NewAttachmentSchema, location="files")
    @blp.response(201, AttachmentSchema)
    def post(self, files: dict[str, Any], task_id: str) -> Any:
        """Add a file to the request of an open task you may comment on (its type is checked from its bytes)."""
        upload = files["file"]
        return attachments.add(runtime(), current_actor(), task_id, upload.filename or "", upload.read())


@blp.route("/instances/<string:instance_id>/attachments")
class InstanceAttachments(MethodView):
    @blp.response(200, AttachmentSchema(many=True))
    def get(self, instance_id: str) -> Any:
        """List a request's files, oldest first."""
        with runtime().uow() as uow:
            return attachments.of_instance(uow, current_actor(), instance_id)


@blp.route("/attachments/<string:attachment_id>")
class AttachmentResource(MethodView):
    @blp.response(200, content_type="application/octet-stream",
                  description="the file, as an attachment, with the content type it was found to be")
    def get(self, attachment_id: str) -> Any:
        """Download a file of a request you may read."""
        return send_attachment(attachments.download(runtime(), current_actor(), attachment_id))

    @blp.response(204)
    def delete(self, attachment_id: str) -> Any:
        """Remove a file you added, while the task it was added on is open (the history keeps its name and hash)."""
        attachments.remove(runtime(), current_actor(), attachment_id)
        return ""
