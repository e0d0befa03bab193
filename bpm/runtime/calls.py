"""Sub-processes: what a ``call`` step starts, and the rules around it.

A child is a full instance of another published process (its own tasks,
history chain and audit timeline), linked both ways: ``parent_id`` and
``parent_node_id`` on the child; the children are found by ``parent_id``.
The child's requester is the parent's (four-eyes bars the same person in
both), its business key the parent's. When it ends, a ``call_return`` job
resumes the parent's step (``bpm.runtime.jobs``); a child that failed or was
cancelled makes that job an incident the admin sees. Cancelling the parent
cancels its running children unless the call says ``onParentEnd: leave``.
A definition that calls itself, directly or through others, is refused at
publish, and a chain of calls deeper than ``MAX_DEPTH`` stops at run time.
"""

from __future__ import annotations

import uuid
from typing import Any

from bpm.engine import Snapshot, WorkflowEngine
from bpm.errors import ConflictError, FormInvalid, InvalidRequest, NotFound, shown
from bpm.nodes import CallRequest
from bpm.runtime import definitions
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessInstanceRecord
from bpm.store.uow import UnitOfWork

MAX_DEPTH = 10
"""Calls within calls: a chain this deep is a runaway (a loop of processes calling each other), not a design."""


def prepare_child(rt: Runtime, uow: UnitOfWork, parent: ProcessInstanceRecord,
                  request: CallRequest) -> tuple[ProcessInstanceRecord, WorkflowEngine, Snapshot, Any]:
    """The child instance a call asks for, its engine, its first snapshot and its checked start data."""
    depth, above = 1, parent
    while above.parent_id is not None and depth <= MAX_DEPTH:
        above = uow.instances.get(above.parent_id) or above
        depth += 1
    if depth > MAX_DEPTH:
        raise ConflictError(f"the step '{request.node_id}' would start a sub-process {MAX_DEPTH + 1} calls deep; "
                            "processes that call each other in a loop must be fixed")
    key = request.process
    try:
        if request.version is None:
            definition_id, version = definitions.newest_published_ref(uow, key)
        else:
            found = definitions.get_version(uow, key, request.version)
            if found.status == definitions.DRAFT:
                raise NotFound(f"version {request.version} of {shown(key)} is a draft")
            definition_id, version = int(found.id or 0), request.version
    except NotFound as exc:
        raise ConflictError(f"the step '{request.node_id}' calls {shown(key)}, which cannot start: {exc}") from None
    engine = rt.engines.for_version(uow, definition_id, key, version)
    start = engine.workflow.nodes_by_id[engine.start_id or ""]
    form = start.data.get("form") if isinstance(start.data, dict) else None
    try:
        forms = rt.engines.forms_of(engine)  # the called version's own form versions
        payload = forms.validate(form, forms.fill_actor(form, request.input, parent.started_by))
    except FormInvalid as exc:
        raise InvalidRequest(f"the sub-process {shown(key)} refuses the data the step '{request.node_id}' gives it",
                             {f"input.{name}": messages for name, messages in exc.errors.items()}) from None
    child_id = str(uuid.uuid4())
    now = rt.now()
    child = ProcessInstanceRecord(id=child_id, definition_id=definition_id, definition_key=key,
                                  definition_version=version, business_key=parent.business_key, status="",
                                  snapshot={}, started_by=parent.started_by, started_at=now, updated_at=now,
                                  parent_id=parent.id, parent_node_id=request.node_id)
    return child, engine, engine.initial_snapshot(start.id, child_id), payload


def leaves_children(engine: WorkflowEngine, node_id: str | None) -> bool:
    """Whether a call step lets its children run on when the parent ends (``onParentEnd: leave``)."""
    node = engine.workflow.nodes_by_id.get(node_id or "")
    return node is not None and isinstance(node.data, dict) and node.data.get("onParentEnd") == "leave"
