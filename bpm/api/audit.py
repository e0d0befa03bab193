"""/api/audit: checking that the history is what was written (auditors and admins)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from bpm.api.blueprint import Blueprint
from bpm.api.schemas import QUERY, VerificationSchema, VerifyQuerySchema
from bpm.auth import current_actor, runtime
from bpm.runtime import audit

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="The history's integrity.")


@blp.route("/verify")
class Verify(MethodView):
    @blp.arguments(VerifyQuerySchema(), **QUERY)
    @blp.response(200, VerificationSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Recompute the hash chains (one instance's, or all) and name the first broken entry of each."""
        rt = runtime()
        with rt.uow() as uow:
            return audit.verify(uow, current_actor(), query.get("instance_id"),
                                audit.audit_public_key(rt.settings.audit_signing_key), since=query.get("since"),
                                anchor_file=rt.settings.audit_anchor_file)
