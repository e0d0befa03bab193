"""ETags are revisions: ``ETag: "7"``; a write with ``If-Match`` must name the current one."""

from __future__ import annotations

from flask import request

from bpm.errors import PreconditionFailed


def etag_header(revision: int) -> dict[str, str]:
    """The response header for a resource at ``revision``."""
    return {"ETag": f'"{revision}"'}


def if_match() -> int | None:
    """The revision the caller says it saw, or None if it did not say (or said ``*``)."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed(f"If-Match {raw!r} names no revision of this resource")
    return int(value)
