"""JSON for the API via orjson: every response and request body goes through it."""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider on orjson: several times faster than the stdlib, same output types."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise; anything orjson cannot handle falls back to Flask's rules (dates, UUIDs, ...)."""
        return orjson.dumps(obj, default=self.default, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text."""
        return orjson.loads(s)
