"""/api/incidents: jobs that failed too often (auditors and admins read them; admins retry them)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from bpm.api.blueprint import Blueprint
from bpm.api.schemas import IncidentSchema
from bpm.auth import current_actor, runtime
from bpm.runtime import jobs

blp = Blueprint("incidents", __name__, url_prefix="/api/incidents",
                description="Timers, escalations, retries and continuations that keep failing.")


@blp.route("")
class Incidents(MethodView):
    @blp.response(200, IncidentSchema(many=True))
    def get(self) -> Any:
        """List the jobs that failed too often, newest first (auditors and admins)."""
        with runtime().uow() as uow:
            return jobs.incidents(uow, current_actor())


@blp.route("/<int:job_id>/retry")
class RetryIncident(MethodView):
    @blp.response(200, IncidentSchema)
    def post(self, job_id: int) -> Any:
        """Admins: try the job again at the worker's next tick, with fresh attempts."""
        return jobs.retry_incident(runtime(), current_actor(), job_id)
