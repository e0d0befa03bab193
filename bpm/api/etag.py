"""ETags are revisions: ``ETag: "7"``; a write with ``If-Match`` must name the current one."""

from __future__ import annotations

import re

from flask import request

from bpm.errors import MalformedRequest, PreconditionFailed, shown

_ENTITY_TAG = re.compile(r'(?:W/)?"([0-9]+)"', re.ASCII)
MAX_REVISION_DIGITS = 18  # every revision fits a 64-bit column


def etag_header(revision: int) -> dict[str, str]:
    """The response header for a resource at ``revision``."""
    return {"ETag": f'"{revision}"'}


def if_match() -> int | None:
    """The revision the caller says it saw, or None if it did not say (or said ``*``).

    Only ``"7"`` (or ``W/"7"``) is read: anything else is a 400, never guessed
    at; a well-formed tag no revision can have is a 412.
    """
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    tag = _ENTITY_TAG.fullmatch(raw.strip())
    if tag is None:
        raise MalformedRequest(f"If-Match {shown(raw)} is not a quoted revision such as \"3\" (copy the ETag)")
    digits = tag.group(1)
    if len(digits) > MAX_REVISION_DIGITS:
        raise PreconditionFailed(f"If-Match {shown(raw)} names no revision of this resource")
    return int(digits)
