"""A stored file as an HTTP download: the one way files leave the service, from the API and the pages alike."""

from __future__ import annotations

import io

from flask import send_file
from werkzeug.wrappers import Response

from bpm.runtime.attachments import Download


def send_download(found: Download) -> Response:
    """The file as a download with the type it was found to be; never shown inline, never run by the browser."""
    response = send_file(io.BytesIO(found.content), mimetype=found.attachment.content_type, as_attachment=True,
                         download_name=found.attachment.filename, etag=found.attachment.sha256,
                         max_age=0, conditional=True)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
