"""/api/absences: out of office — who is away when, and who stands in (``bpm.runtime.absences``)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from bpm.api.blueprint import Blueprint
from bpm.api.schemas import QUERY, AbsenceBodySchema, AbsenceQuerySchema, AbsenceSchema
from bpm.auth import current_actor, runtime
from bpm.runtime import absences

blp = Blueprint("absences", __name__, url_prefix="/api/absences",
                description="Out of office: your absences and substitutes (HR and admins: anyone's).")


def _body(body: dict[str, Any]) -> dict[str, Any]:
    return {("from" if key == "from_" else "existingTasks" if key == "existing_tasks" else key): value
            for key, value in body.items()}


@blp.route("")
class Absences(MethodView):
    @blp.arguments(AbsenceQuerySchema(), **QUERY)
    @blp.response(200, AbsenceSchema(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Absences that have not ended, soonest first: yours and those you stand in for; HR's and admins':
        everyone's, or one `person`'s."""
        rt = runtime()
        with rt.uow() as uow:
            found, total = absences.list_absences(rt, uow, current_actor(), query["person"], query["ended"],
                                                  pagination_parameters.page, pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return [absences.described(a) for a in found]

    @blp.arguments(AbsenceBodySchema())
    @blp.response(201, AbsenceSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Record an absence: `from`, `to` (ISO dates, both days included), `substitute`, and optionally
        `processes` (keys; none: every process), `existingTasks` (default true: the substitute also sees the
        tasks waiting already) and `person` (HR and admins). Refused with the field: overlapping absences,
        a substitute away then, two people standing in for each other."""
        return absences.described(absences.record_absence(runtime(), current_actor(), _body(body)))


@blp.route("/<string:absence_id>")
class OneAbsence(MethodView):
    @blp.response(204)
    def delete(self, absence_id: str) -> None:
        """Remove an absence (yours; HR and admins: anyone's). Nothing moved, so nothing moves back."""
        absences.remove_absence(runtime(), current_actor(), absence_id)
