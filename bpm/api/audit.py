"""/api/audit: searching, exporting and checking the history (auditors and admins; read-only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from bpm.api.blueprint import Blueprint
from bpm.api.schemas import (
    QUERY,
    AuditExportQuerySchema,
    AuditInstanceSchema,
    AuditSearchQuerySchema,
    HoldReasonSchema,
    LegalHoldSchema,
    VerificationSchema,
    VerifyQuerySchema,
)
from bpm.auth import current_actor, runtime
from bpm.runtime import audit, audit_export, audit_search, retention

OPEN_QUERY = {"location": "query", "unknown": ma.INCLUDE}  # data.FIELD keys vary: audit_search.parse checks them

blp = Blueprint("audit", __name__, url_prefix="/api/audit",
                description="The history: search it, export it, check that it is what was written.")


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


def _search_args() -> dict[str, str]:
    return {key: value for key, value in request.args.items() if key not in ("page", "page_size", "pageSize")}


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(AuditSearchQuerySchema(), **OPEN_QUERY)
    @blp.response(200, AuditInstanceSchema(many=True))
    @blp.paginate()
    def get(self, _: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Instances by process, version, status, business key, person, node, start date, outcome and form data;
        newest first, with the total in X-Pagination."""
        query = audit_search.parse(_search_args())
        rt, actor = runtime(), current_actor()
        found, total = rt.read(actor, lambda uow: audit_search.search(
            rt, uow, actor, query, pagination_parameters.page, pagination_parameters.page_size))
        pagination_parameters.item_count = total
        return [{**row.instance.model_dump(), "held": row.held} for row in found]


@blp.route("/export")
class Export(MethodView):
    @blp.arguments(AuditExportQuerySchema(), **OPEN_QUERY)
    @blp.response(200, content_type="application/json", description="the export, streamed (or text/csv)")
    def get(self, args: dict[str, Any]) -> Any:
        """Export one instance's history, or that of every instance a search matches, as CSV or JSON.

        The export is recorded in the admin chain first. JSON carries the hashes, the chains' heads, the admin
        chain and the anchors, so `bpm audit verify --file EXPORT` checks it offline.
        """
        rt, actor = runtime(), current_actor()
        export_format, instance_id = args.get("format", "json"), args.get("instance_id")
        query = None if instance_id else audit_search.parse(
            {k: v for k, v in _search_args().items() if k not in ("format", "instanceId")})
        count = audit_export.begin(rt, actor, export_format, query, instance_id)
        # The rows are read as they are sent (not in the request context: the generator holds what it needs).
        lines = (audit_export.csv_lines if export_format == "csv" else audit_export.json_chunks)(
            rt, actor, query, instance_id)
        # The instance exists (begin checked), so its id is a UUID: nothing of the request reaches the header raw.
        name = f"audit-{instance_id or 'search'}-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.{export_format}"
        return Response(lines, mimetype="text/csv" if export_format == "csv"
                        else "application/json", headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                          "X-BPM-Instances": str(count)})


@blp.route("/holds")
class Holds(MethodView):
    @blp.response(200, LegalHoldSchema(many=True))
    def get(self) -> Any:
        """Every legal hold, newest first."""
        with runtime().uow() as uow:
            return list(retention.holds(uow, current_actor()))


@blp.route("/holds/<string:instance_id>")
class Hold(MethodView):
    @blp.arguments(HoldReasonSchema())
    @blp.response(201, LegalHoldSchema)
    def put(self, body: dict[str, Any], instance_id: str) -> Any:
        """Put an instance under legal hold: retention keeps all of it until the hold is lifted (auditors)."""
        return retention.set_hold(runtime(), current_actor(), instance_id, body["reason"])

    @blp.arguments(HoldReasonSchema())
    @blp.response(204)
    def delete(self, body: dict[str, Any], instance_id: str) -> None:
        """Lift an instance's legal hold, saying why (auditors)."""
        retention.lift_hold(runtime(), current_actor(), instance_id, body["reason"])
