"""The SHA-256 a token's or a session's secret is kept as: its secrets are random, so a fast hash protects them."""

from __future__ import annotations

import hashlib


def digest(secret: str) -> str:
    """The hex SHA-256 of ``secret``, as stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()
