"""/api/instances: start, inspect, cancel and retry process instances; their history."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from bpm.api.blueprint import Blueprint
from bpm.api.etag import etag_header, if_match
from bpm.api.schemas import (
    QUERY,
    CancelInstanceSchema,
    HistoryEntrySchema,
    InstanceDetailSchema,
    InstanceQuerySchema,
    InstanceSchema,
    RepairInstanceSchema,
    StartInstanceSchema,
    with_related,
)
from bpm.auth import current_actor, runtime
from bpm.engine import WorkflowEngine
from bpm.engine.positions import nodes_at
from bpm.runtime import instances
from bpm.runtime.advance import current_request
from bpm.store.models import ProcessInstanceRecord, TaskRecord
from bpm.store.uow import UnitOfWork

blp = Blueprint("instances", __name__, url_prefix="/api/instances",
                description="Process instances: start one, follow it, cancel or retry it.")


def _detail(instance: ProcessInstanceRecord, open_tasks: list[TaskRecord], uow: UnitOfWork | None = None,
            engine: WorkflowEngine | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """An instance with its open tasks, its request data, where it is and its sub-processes.

    ``engine``: the one the instance runs, when the caller has it; a unit of work is opened only when
    something must be read (the engine, or the children of a process with a call step).
    """
    needs_read = engine is None or bool(engine.call_ids)
    if needs_read and uow is None:
        with runtime().uow() as own:
            return _detail(instance, open_tasks, own, engine)
    engine = engine or runtime().engines.for_instance(uow, instance)  # type: ignore[arg-type]
    children = uow.instances.children(instance.id) if uow is not None and engine.call_ids else []
    return with_related(instance, open_tasks=open_tasks, data=current_request(engine, instance),
                        at_nodes=nodes_at(instance.snapshot), children=children), etag_header(instance.revision)


@blp.route("")
class Instances(MethodView):
    @blp.arguments(InstanceQuerySchema(), **QUERY)
    @blp.response(200, InstanceSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """List instances, newest first, filtered by status, process, business key or starter."""
        actor = current_actor()
        rows, total = runtime().read(actor, lambda uow: instances.list_instances(
            uow, actor, query, pagination_parameters.page, pagination_parameters.page_size))
        pagination_parameters.item_count = total
        return rows

    @blp.arguments(StartInstanceSchema())
    @blp.response(201, InstanceDetailSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Start the newest published version of a process with its start form's data."""
        actor, rt = current_actor(), runtime()
        instance, run = instances.start_instance(rt, actor, body["definition"], body["payload"],
                                                 body["business_key"])
        return _detail(instance, run.created_tasks, engine=run.engine)  # its open tasks: the ones it just made


@blp.route("/<string:instance_id>")
class Instance(MethodView):
    @blp.response(200, InstanceDetailSchema)
    def get(self, instance_id: str) -> Any:
        """Get an instance: status, snapshot and open tasks (ETag: its revision)."""
        actor = current_actor()
        with runtime().uow() as uow:
            return _detail(*instances.read_instance(uow, actor, instance_id), uow)


@blp.route("/<string:instance_id>/cancel")
class CancelInstance(MethodView):
    @blp.arguments(CancelInstanceSchema())
    @blp.response(200, InstanceDetailSchema)
    def post(self, body: dict[str, Any], instance_id: str) -> Any:
        """Cancel an unfinished instance with its open tasks and pending jobs (honours If-Match)."""
        actor, rt = current_actor(), runtime()
        instance = instances.cancel_instance(rt, actor, instance_id, if_match(), body["reason"])
        return _detail(instance, [])  # a cancelled instance has no open tasks


@blp.route("/<string:instance_id>/retry")
class RetryInstance(MethodView):
    @blp.response(200, InstanceDetailSchema)
    def post(self, instance_id: str) -> Any:
        """Run a failed or erroring instance's current node again now (honours If-Match)."""
        actor, rt = current_actor(), runtime()
        instance, run = instances.retry_instance(rt, actor, instance_id, if_match())
        return _detail(instance, run.created_tasks)  # a failed instance had no open tasks before


@blp.route("/<string:instance_id>/repair")
class RepairInstance(MethodView):
    @blp.arguments(RepairInstanceSchema())
    @blp.response(200, InstanceDetailSchema)
    def post(self, body: dict[str, Any], instance_id: str) -> Any:
        """Admins: move a stranded instance to a fixed version and/or another node, and run it (honours If-Match)."""
        actor, rt = current_actor(), runtime()
        instance, run = instances.repair_instance(rt, actor, instance_id, body["reason"], body["version"],
                                                  body["node"], if_match())
        return _detail(instance, run.created_tasks)  # its old open tasks were cancelled; these are new


@blp.route("/<string:instance_id>/history")
class InstanceHistory(MethodView):
    @blp.response(200, HistoryEntrySchema(many=True))
    def get(self, instance_id: str) -> Any:
        """Every persisted revision: who caused it, when, why, and what changed."""
        actor = current_actor()
        with runtime().uow() as uow:
            return instances.instance_history(uow, actor, instance_id)
