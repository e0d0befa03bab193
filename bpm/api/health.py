"""/api/health: is the service up and can it reach its database."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from bpm import __version__
from bpm.api.blueprint import Blueprint
from bpm.api.schemas import HealthSchema
from bpm.auth import runtime
from bpm.store.db import answers

blp = Blueprint("health", __name__, url_prefix="/api/health", description="Liveness and database reachability.")


@blp.route("")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema)
    def get(self) -> Any:
        """Report whether the service and its database answer."""
        if not answers(runtime().db):
            return {"status": "unavailable", "database": "unreachable", "version": __version__}, 503
        return {"status": "ok", "database": "ok", "version": __version__}
