"""File fields of a form: the file comes with the form (a quote with the purchase request, a signed contract
with the decision), is checked like any attachment, and is kept as an attachment of the request in the same
transaction as the start or the decision — the field's value is the attachment's id. A refused form keeps no
file; a client cannot point a file field at a file of its choosing (the value is always the server's)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple

from bpm.errors import FormInvalid, InvalidRequest
from bpm.forms import Form
from bpm.runtime.actors import Actor
from bpm.runtime.attachments import checked
from bpm.runtime.runtime import Runtime
from bpm.store.models import Attachment, AttachmentContent
from bpm.store.uow import UnitOfWork


class Upload(NamedTuple):
    """A file as the browser sent it."""

    filename: str
    content: bytes


class StagedFile(NamedTuple):
    """A checked upload, waiting for its request to be written."""

    field: str
    filename: str
    content_type: str
    content: bytes


def with_files(rt: Runtime, form: Form | None, data: Any, uploads: Mapping[str, Upload] | None
               ) -> tuple[Any, dict[str, StagedFile]]:
    """``data`` with each file field set to the id its upload will be kept under, and the checked files by id.

    A value a client sent for a file field is dropped: only an upload fills one (so "required" speaks when
    none came). A file that is too large, empty or of a kind not accepted is a field error.
    """
    if form is None or not form.file_fields or not isinstance(data, dict):
        return data, {}
    data = {key: value for key, value in data.items() if key not in form.file_fields}
    staged: dict[str, StagedFile] = {}
    errors: dict[str, list[str]] = {}
    for field in form.file_fields:
        upload = (uploads or {}).get(field)
        if upload is None or not upload.filename:
            continue
        try:
            name, content_type = checked(upload.filename, upload.content, rt.settings.max_attachment_bytes)
        except InvalidRequest as refused:
            errors[field] = [m for ms in refused.errors.values() for m in ms] or [str(refused)]
            continue
        file_id = str(uuid.uuid4())
        data[field] = file_id
        staged[file_id] = StagedFile(field, name, content_type, upload.content)
    if errors:
        raise FormInvalid("a file could not be taken", errors)
    return data, staged


def keep(rt: Runtime, uow: UnitOfWork, actor: Actor, instance_id: str, task_id: str | None,
         staged: Mapping[str, StagedFile]) -> None:
    """Store the staged files as attachments of the request (in the caller's unit of work, which commits)."""
    for file_id, file in staged.items():
        uow.objects.add(Attachment(id=file_id, instance_id=instance_id, task_id=task_id, filename=file.filename,
                                   content_type=file.content_type, size=len(file.content),
                                   sha256=hashlib.sha256(file.content).hexdigest(), added_by=actor.username,
                                   added_at=rt.now()))
        uow.flush()  # the row first: the content's foreign key points at it
        uow.objects.add(AttachmentContent(attachment_id=file_id, content=file.content))
