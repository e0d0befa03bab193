"""Files on a request: add one on a task (multipart), list a request's, download or remove one."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from bpm.api.blueprint import Blueprint
from bpm.api.schemas import AttachmentSchema, NewAttachmentSchema
from bpm.auth import current_actor, runtime
from bpm.http.downloads import send_download
from bpm.runtime import attachments

blp = Blueprint("attachments", __name__, url_prefix="/api",
                description="Files on a request: receipts, quotes, signed forms.")


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
        return send_download(attachments.download(runtime(), current_actor(), attachment_id))

    @blp.response(204)
    def delete(self, attachment_id: str) -> Any:
        """Remove a file you added, while the task it was added on is open (the history keeps its name and hash)."""
        attachments.remove(runtime(), current_actor(), attachment_id)
        return ""
