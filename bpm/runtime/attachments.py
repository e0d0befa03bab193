"""Files on a request: added on one of its open tasks, read by whoever may read the request, checked at the door.

What a file *is* is decided from its bytes, never from the name or the type
the uploader's browser sent: the content is sniffed (``filetype``'s magic
numbers; text is text when it decodes as UTF-8 without control characters),
must be one of ``ACCEPTED``, and must agree with the name's extension, so a
program renamed ``invoice.pdf`` or a web page renamed ``notes.txt`` that
claims to be HTML is refused with the reason. Files are always downloaded
as attachments with the sniffed type (pages add ``nosniff`` and a sandbox),
so nothing uploaded ever runs in a colleague's browser.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from typing import NamedTuple

import filetype

from bpm.errors import ConflictError, InvalidRequest, NotFound, shown
from bpm.runtime.access import instance_facts, task_and_instance, task_facts
from bpm.runtime.actors import Actor
from bpm.runtime.advance import add_task_event
from bpm.runtime.history import Deed
from bpm.runtime.policy import Action, AttachmentFacts, allows, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import Attachment, AttachmentContent, ProcessInstance
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import Cause

# content type -> (what people call it, the extensions a name of that type may end in)
ACCEPTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "application/pdf": ("PDF document", ("pdf",)),
    "image/png": ("PNG image", ("png",)),
    "image/jpeg": ("JPEG image", ("jpg", "jpeg")),
    "image/gif": ("GIF image", ("gif",)),
    "image/webp": ("WebP image", ("webp",)),
    "image/heic": ("HEIC photo", ("heic",)),
    "text/plain": ("text", ("txt", "text", "log", "md")),
    "text/csv": ("CSV table", ("csv",)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("Word document", ("docx",)),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("Excel workbook", ("xlsx",)),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("PowerPoint file", ("pptx",)),
    "application/vnd.oasis.opendocument.text": ("OpenDocument text", ("odt",)),
    "application/vnd.oasis.opendocument.spreadsheet": ("OpenDocument spreadsheet", ("ods",)),
    "application/vnd.oasis.opendocument.presentation": ("OpenDocument presentation", ("odp",)),
}
ACCEPTED_IN_WORDS = ("PDF, images (PNG, JPEG, GIF, WebP, HEIC), text, CSV and office documents "
                     "(Word, Excel, PowerPoint, OpenDocument)")
MAX_PER_REQUEST = 50
MAX_NAME = 200
_UNSAFE_IN_NAMES = re.compile(r"[\x00-\x1f\x7f/\\]")
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # tab, newlines and form feed are text
_MARKUP = re.compile(rb"^\s*<(?:!doctype\s+html|html|svg|script|\?xml)", re.IGNORECASE)


class Download(NamedTuple):
    """A file to send: its row and its bytes."""

    attachment: Attachment
    content: bytes


def clean_name(name: str) -> str:
    """The name a file is kept under: its last path part, without control or format characters, at most MAX_NAME."""
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(c for c in name if unicodedata.category(c) != "Cf")  # bidi overrides: "fdp.exe" shown as "exe.pdf"
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_IN_NAMES.sub("", name).strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:MAX_NAME - len(extension) - 1] + dot + extension) if dot and len(extension) <= 10 \
            else name[:MAX_NAME]
    return name


def sniff(content: bytes) -> str | None:
    """The content type the bytes are (None: nothing we recognise)."""
    kind = filetype.guess(content)
    if kind is not None:
        return kind.mime
    if _MARKUP.match(content[:512]):
        return "text/html"
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return None if _TEXT_CONTROLS.search(text) else "text/plain"


def checked(filename: str, content: bytes, limit: int) -> tuple[str, str]:
    """The clean name and the content type of an acceptable file; InvalidRequest (on ``file``) otherwise."""
    name = clean_name(filename)
    if not name:
        raise InvalidRequest("the file has no name", {"file": ["choose a file with a name"]})
    if not content:
        raise InvalidRequest("the file is empty", {"file": [f"{name} is empty"]})
    if len(content) > limit:
        raise InvalidRequest("the file is too large", {"file": [
            f"{name} is {len(content):,} bytes; files may hold at most {limit:,} bytes"]})
    found = sniff(content)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if found == "text/plain" and extension == "csv":
        found = "text/csv"
    if found not in ACCEPTED:
        what = f"of type {found}" if found else "not a kind of file we recognise"
        raise InvalidRequest("this kind of file is not accepted", {"file": [
            f"{name} is {what}; accepted: {ACCEPTED_IN_WORDS}"]})
    label, extensions = ACCEPTED[found]
    if extension not in extensions:
        raise InvalidRequest("the file's name does not match its content", {"file": [
            f"{name} holds a {label}, so its name should end in .{extensions[0]}"]})
    return name, found


def add(rt: Runtime, actor: Actor, task_id: str, filename: str, content: bytes) -> Attachment:
    """Add a file to the request of an open task the actor may comment on; recorded in the request's history."""
    with rt.uow() as uow:
        task, instance = task_and_instance(uow, task_id)
        require(actor, Action.ATTACHMENT_ADD, task_facts(rt, uow, actor, task, instance))
        name, content_type = checked(filename, content, rt.settings.max_attachment_bytes)
        # Counted under the request's lock: parallel uploads must not each see room for one more (51-52 stored).
        uow.objects.get(ProcessInstance, instance.id, for_update=True)
        if len(_of_instance(uow, instance.id)) >= MAX_PER_REQUEST:
            raise InvalidRequest("too many files", {"file": [f"a request holds at most {MAX_PER_REQUEST} files"]})
        attachment = Attachment(id=str(uuid.uuid4()), instance_id=instance.id, task_id=task.id, filename=name,
                                content_type=content_type, size=len(content),
                                sha256=hashlib.sha256(content).hexdigest(), added_by=actor.username,
                                added_at=rt.now())
        uow.objects.add(attachment)
        uow.flush()  # the row first: the content's foreign key points at it
        uow.objects.add(AttachmentContent(attachment_id=attachment.id, content=content))
        uow.participants.join(instance.id, actor.username, rt.now())
        add_task_event(rt, uow, task, Deed(actor.username, Cause.ATTACHMENT_ADDED, changes={
            "attachment": [None, {"id": attachment.id, "filename": name, "size": len(content),
                                  "sha256": attachment.sha256}]}))
        uow.commit()
        uow.objects.reload(attachment)
        uow.objects.detach(attachment)
        return attachment


def _of_instance(uow: UnitOfWork, instance_id: str) -> list[Attachment]:
    return uow.attachments.of_instance(instance_id)


def of_instance(uow: UnitOfWork, actor: Actor, instance_id: str) -> list[Attachment]:
    """The files of a request the actor may read, oldest first (NotFound otherwise)."""
    instance = uow.instances.get(instance_id)
    if instance is None:
        raise NotFound(f"no instance {shown(instance_id)}")
    require(actor, Action.INSTANCE_READ, instance_facts(uow, actor, instance))
    return _of_instance(uow, instance_id)


def listed_for(uow: UnitOfWork, instance_id: str) -> list[Attachment]:
    """The files of a request whose reader the caller has checked already (the task page: ``task_view``)."""
    return _of_instance(uow, instance_id)


def _found(uow: UnitOfWork, attachment_id: str) -> Attachment:
    attachment = uow.objects.get(Attachment, attachment_id) if len(attachment_id) <= 36 else None
    if attachment is None:
        raise NotFound(f"no attachment {shown(attachment_id)}")
    return attachment


def download(rt: Runtime, actor: Actor, attachment_id: str) -> Download:
    """A file and its bytes, for whoever may read its request (to anyone else it does not exist)."""
    with rt.uow() as uow:
        attachment = _found(uow, attachment_id)
        instance = uow.instances.get(attachment.instance_id)
        if instance is None or not allows(actor, Action.INSTANCE_READ, instance_facts(uow, actor, instance)):
            raise NotFound(f"no attachment {shown(attachment_id)}")
        content = uow.objects.get(AttachmentContent, attachment_id)
        uow.objects.detach(attachment)
        return Download(attachment, content.content if content is not None else b"")


def remove(rt: Runtime, actor: Actor, attachment_id: str) -> Attachment:
    """Remove a file its own uploader added by mistake, while its task is open; the history keeps its name and hash."""
    with rt.uow() as uow:
        attachment = _found(uow, attachment_id)
        if attachment.task_id is None:
            raise ConflictError("this file came with the request's start form: it is part of the request's data "
                                "and stays with it")
        task, instance = task_and_instance(uow, attachment.task_id)
        facts = AttachmentFacts(attachment.id, attachment.added_by, task_facts(rt, uow, actor, task, instance))
        require(actor, Action.ATTACHMENT_REMOVE, facts)
        removed = {"id": attachment.id, "filename": attachment.filename, "size": attachment.size,
                   "sha256": attachment.sha256}
        content = uow.objects.get(AttachmentContent, attachment.id)
        if content is not None:
            uow.objects.remove(content)
            uow.flush()
        uow.objects.remove(attachment)
        add_task_event(rt, uow, task, Deed(actor.username, Cause.ATTACHMENT_REMOVED,
                                           changes={"attachment": [removed, None]}))
        uow.commit()
        return attachment
