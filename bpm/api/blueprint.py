"""Our flask-smorest Blueprint: request bodies are read through ``bpm.inbound``, never by webargs' own json.

webargs decodes bodies with the standard library, which recurses once per
nesting level (a 1,000-deep body was a 500), accepts NaN and lone surrogates,
and turns a 5,000-digit number into a ValueError. A JSON body is parsed once,
before any view runs (``guards.parse_request_body``, so even an operation that takes
no body refuses a hostile one), and webargs is handed that value.
"""

from __future__ import annotations

from typing import Any

import flask
from flask import g
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser


class BodyParser(FlaskParser):
    """webargs' Flask parser, given the body ``parse_request_body`` read."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        return g.get("json_body", core.missing)


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint, parsing with ``BodyParser``."""

    ARGUMENTS_PARSER = BodyParser()
