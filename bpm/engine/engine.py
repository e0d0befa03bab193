"""WorkflowEngine: Refluxo's step function, pure and stateless.

Each step takes a snapshot and returns a new one; nothing is stored here
between calls, so the service can run any step of any instance anywhere.
Room to grow: parallel branches and sub-processes will add optional snapshot
fields and a different choice of "which node next", leaving ``_run_node``
(one node, one result) as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import orjson

from bpm.engine import parallel
from bpm.engine.clock import Clock, SystemClock
from bpm.engine.context import Context, NodeRun
from bpm.engine.data import RequestData
from bpm.engine.definition import Edge, Node, WorkflowDefinition, load_definition
from bpm.engine.errors import (
    DefinitionError,
    EngineError,
    ExpressionError,
    LimitExceeded,
    NodeOutputError,
    NodeValidationError,
    Problem,
    UnknownNodeError,
)
from bpm.engine.expressions import JexlTransformEngine, TransformEngine
from bpm.engine.jsonvalue import NotJsonError, TooManyValues, to_json_value
from bpm.engine.limits import Limits
from bpm.engine.node import NodeDefinition, NodeResult
from bpm.engine.plugins import HookRunner, PluginContext
from bpm.engine.retry import DefaultErrorHandler, ErrorHandler
from bpm.engine.roles import NodeRole, role_of
from bpm.engine.schema import JsonSchemaValidator, Validator
from bpm.engine.snapshot import (
    ACTIVE,
    COMPLETED,
    ERROR,
    FAILED,
    FINISHED,
    PAUSED,
    RetryState,
    Snapshot,
)
from bpm.engine.undefined import UNDEFINED

STEP_LIMIT_REASON = "Step limit exceeded"


def _frozen(metadata: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(metadata)


_DATA_WORD = re.compile(r"\bdata\b")


def _reads_data(text: str) -> bool:
    """Whether a template may read ``data`` (the word after its first ``{{``). Two linear searches: the one
    pattern ``{{.*\bdata\b`` backtracked over every ``{{`` of a long template (35 s for a 62 KB one)."""
    first = text.find("{{")
    return first >= 0 and _DATA_WORD.search(text, first) is not None
"""A template that may read the request's data: only then does a step build its view (it costs a little)."""


def _templates(nodes: Sequence[Node]) -> list[str]:
    """Every string with an expression in the nodes' data."""
    out: list[str] = []
    stack: list[Any] = [node.data for node in nodes]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "{{" in value:
                out.append(value)
        elif isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
    return out


class WorkflowEngine:
    """Runs one workflow definition with a fixed set of node types.

    Build one per definition version and reuse it: construction indexes the
    graph; ``execute`` and ``execute_step`` keep no state between calls.
    """

    def __init__(
        self,
        workflow: WorkflowDefinition | Mapping[str, Any] | str | bytes,
        node_definitions: Mapping[str, NodeDefinition],
        validator: Validator | None = None,
        transform_engines: Sequence[TransformEngine] | None = None,
        error_handler: ErrorHandler | None = None,
        plugins: Sequence[Any] | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
    ) -> None:
        """Load the definition and check every node has a known type.

        Args:
            workflow: the definition, as an object, dict or JSON text.
            node_definitions: node type name -> NodeDefinition.
            validator: checks node input/output schemas; None means JSON Schema 2020-12.
            transform_engines: data pipeline before each executor; None means
                ``[JexlTransformEngine()]``, ``[]`` means data is passed as written.
            error_handler: retry decisions; None reads each type's RetryPolicy.
            plugins: lifecycle observers; a failing hook is logged and ignored.
            clock: source of time (epoch ms); None means the system clock.
            limits: what one step may produce; None means ``Limits()``'s defaults.

        Raises:
            DefinitionError: the definition is malformed or uses an unknown node type.
        """
        self.workflow = load_definition(workflow)
        self.node_definitions = dict(node_definitions)
        unknown = [
            Problem(f"$.nodes[{i}].type", f"node '{node.id}' has unknown type '{node.type}'")
            for i, node in enumerate(self.workflow.nodes) if node.type not in self.node_definitions
        ]
        if unknown:
            raise DefinitionError(unknown)
        self.validator = validator if validator is not None else JsonSchemaValidator()
        self.transform_engines = (
            list(transform_engines) if transform_engines is not None else [JexlTransformEngine()])
        self.error_handler = error_handler if error_handler is not None else DefaultErrorHandler()
        self.plugins = list(plugins or [])
        self.clock = clock if clock is not None else SystemClock()
        self.limits = limits if limits is not None else Limits()
        roles = {node.id: role_of(self.node_definitions.get(node.type)) for node in self.workflow.nodes}
        starts = [node for node in self.workflow.nodes if roles[node.id] == NodeRole.START]
        self.start_node: Node | None = starts[0] if len(starts) == 1 else None
        """Where a run begins (its role says so); its output is the request's data before any step writes."""
        self.start_id: str | None = self.start_node.id if self.start_node is not None else None
        self._reads_data = any(_reads_data(text) for text in _templates(self.workflow.nodes))
        self._static_ids = frozenset(node.id for node in self.workflow.nodes if not _templates((node,)))
        self._valid_static: set[str] = set()  # static nodes whose data passed the type's schema once
        edges_from: dict[str, list[Edge]] = {}
        for edge in self.workflow.edges:
            edges_from.setdefault(edge.source, []).append(edge)
        self._edges_from = {source: tuple(edges) for source, edges in edges_from.items()}  # a fork's branches
        self._join_ids = frozenset(node_id for node_id, role in roles.items() if role == NodeRole.JOIN)
        self.call_ids = frozenset(node_id for node_id, role in roles.items() if role == NodeRole.CALL)
        """The call steps (their instances may have sub-processes)."""
        self._hooks = HookRunner(self.plugins)
        self._hook_before = self._hooks.has("on_before_node_execution")
        self._hook_after = self._hooks.has("on_after_node_execution")

    def execute(
        self,
        initial_node_id: str | None = None,
        workflow_id: str | None = None,
        snapshot: Snapshot | None = None,
        external_payload: Any = None,
        step_limit: int = 100,
        globals: Any = None,
        resume: str | None = None,
    ) -> Snapshot:
        """Run from a start node or a snapshot until it pauses, errors, completes or fails.

        Args:
            initial_node_id: where a new run starts (when no snapshot is given).
            workflow_id: the new run's id; defaults to "default" as in Refluxo.
            snapshot: a snapshot to resume; ``paused`` and ``error`` ones become active.
            external_payload: given to the first step only (the resumed node).
            step_limit: steps allowed in this call; exceeding it fails the run.
            globals: secrets for executors and transforms, never stored.
            resume: with parallel branches, the node of the paused branch the payload is for
                (default: ``currentNodeId``); a sequential run ignores it.

        Returns:
            The new snapshot; a completed or failed snapshot is returned unchanged.
        """
        if snapshot is None:
            if initial_node_id is None:
                raise EngineError("either snapshot or initial_node_id must be given")
            current = self.initial_snapshot(initial_node_id, workflow_id or "default")
            self._hooks.call("on_workflow_start", current)
        elif snapshot.status in FINISHED:
            return snapshot
        else:
            current = self._resumed(snapshot, resume, external_payload is not None)
        payload = external_payload
        steps = 0
        while current.status == ACTIVE:
            if steps >= step_limit:
                return current._replace(
                    status=FAILED, metadata=_frozen({**current.metadata, "failedReason": STEP_LIMIT_REASON}))
            current = self._step(current, payload, globals)
            payload = None
            steps += 1
        if current.status == COMPLETED:
            self._hooks.call("on_workflow_complete", current)
        elif current.status == PAUSED:
            self._hooks.call("on_workflow_pause", current)
        return current

    def execute_step(self, snapshot: Snapshot, external_payload: Any = None, globals: Any = None,
                     resume: str | None = None) -> Snapshot:
        """Run exactly one node and return the snapshot after it.

        A ``paused`` or ``error`` snapshot is resumed (its node runs again with
        the payload; with parallel branches, the branch paused at ``resume``);
        a completed or failed one is returned unchanged.
        """
        if snapshot.status in FINISHED:
            return snapshot
        if snapshot.status != ACTIVE or (resume is not None and snapshot.positions is not None):
            snapshot = self._resumed(snapshot, resume, external_payload is not None)
        return self._step(snapshot, external_payload, globals)

    def _resumed(self, snapshot: Snapshot, resume: str | None, with_payload: bool) -> Snapshot:
        if snapshot.positions is not None:
            snapshot = parallel.resume(snapshot, resume, with_payload)
        return snapshot._replace(status=ACTIVE, last_started_at=self.clock.now_ms())

    def initial_snapshot(self, node_id: str, workflow_id: str = "default") -> Snapshot:
        """Return the ``active`` snapshot of a new run at ``node_id``, before any step.

        ``execute`` calls this (and the ``on_workflow_start`` hook); a runner
        that drives ``execute_step`` itself can start from it directly.
        """
        if node_id not in self.workflow.nodes_by_id:
            raise UnknownNodeError(f"no node '{node_id}' in the definition")
        return Snapshot(workflow_id, ACTIVE, node_id, Context(), 0, self.clock.now_ms(), 0, _frozen({}), None)

    def _step(self, snapshot: Snapshot, payload: Any, globals: Any) -> Snapshot:
        if snapshot.positions is not None:
            return parallel.step(self, snapshot, payload, globals)
        node_id = snapshot.current_node_id
        if node_id is None:
            now = self.clock.now_ms()
            return snapshot._replace(status=COMPLETED, last_started_at=now,
                                     total_execution_time=self._total(snapshot, now))
        if node_id in self._join_ids:  # one position and no fork around it: a join lets it through
            payload = parallel.lone_arrival()
        ran = self._run(snapshot, node_id, payload, globals)
        if type(ran) is Snapshot:
            return ran
        output, result, attempt, now, total = ran
        if output is parallel.PAUSED_RUN:
            return snapshot._replace(status=PAUSED, last_started_at=now, total_execution_time=total)
        context = snapshot.context.appended(node_id, NodeRun(output, self.clock.now_ms(), attempt))
        data = snapshot.data if result.writes is None else self._written(snapshot, node_id, result)
        if result.branches is not None:
            return parallel.fork(self, snapshot, node_id, result, context, data, now, total)
        next_id = self.workflow.next_node_id(node_id, result.next_handle)
        return Snapshot(snapshot.workflow_id, ACTIVE if next_id is not None else COMPLETED, next_id,
                        context, snapshot.version + 1, now, total, snapshot.metadata, None, data)

    @staticmethod
    def _total(snapshot: Snapshot, now: int) -> int | float:
        started = snapshot.last_started_at
        return (snapshot.total_execution_time or 0) + (now - started if started is not None else 0)

    def _run(self, snapshot: Snapshot, node_id: str, payload: Any, globals: Any) -> Snapshot | tuple[
            Any, NodeResult, int, int, int | float]:
        """Run one node: the snapshot it fails with, else (output, result, attempt, now, total).

        A pause is ``(parallel.PAUSED_RUN, result, 0, now, total)``: the caller builds the paused snapshot (one
        position or several), so a step builds one snapshot, not two.
        """
        now = self.clock.now_ms()
        started = snapshot.last_started_at
        total = (snapshot.total_execution_time or 0) + (now - started if started is not None else 0)
        node = self.workflow.nodes_by_id.get(node_id)
        if node is None:
            raise UnknownNodeError(f"the snapshot is at node '{node_id}', which the definition does not have")
        definition = self.node_definitions[node.type]
        retry = snapshot.retry_state
        attempt = retry.attempts + 1 if retry is not None and retry.node_id == node_id else 1
        hooks = self._hooks
        if self._hook_before:
            hooks.call("on_before_node_execution",
                       PluginContext(node, definition, snapshot, globals, payload, node.data))
        data = node.data
        context = snapshot.context
        if self._reads_data:
            context = context.carrying(RequestData(context, self.start_id, snapshot.data))
        try:
            data = self._prepare_input(node, definition, context, globals)
            result = definition.executor(data, context, payload, globals)
            if type(result) is not NodeResult:
                raise NodeOutputError(
                    f"the executor of '{node.type}' returned {type(result).__name__}, not a NodeResult")
            if result.pause:
                if self._hook_after:
                    hooks.call("on_after_node_execution",
                               PluginContext(node, definition, snapshot, globals, payload, data))
                return parallel.PAUSED_RUN, result, 0, now, total
            output = self._check_output(node, definition, result.data)
            if result.writes is not None:
                result = result._replace(writes=self._check_writes(node, result.writes))
        except Exception as error:  # an executor may raise anything; the run records it
            return self._fail(snapshot, node, definition, error, attempt, data, payload, globals)
        if self._hook_after:
            hooks.call("on_after_node_execution",
                       PluginContext(node, definition, snapshot, globals, payload, data, output))
        return output, result, attempt, now, total

    @staticmethod
    def _written(snapshot: Snapshot, node_id: str, result: NodeResult) -> Mapping[str, Any] | None:
        """The snapshot's ``data`` after a step: what it held, and what this step wrote."""
        if not result.writes:
            return snapshot.data
        return _frozen({**(snapshot.data or {}), **result.writes})

    def _check_writes(self, node: Node, writes: Any) -> dict[str, Any]:
        if not isinstance(writes, Mapping) or not all(type(k) is str and k for k in writes):
            raise NodeOutputError(f"node '{node.id}' wrote request data that is not an object of named fields")
        try:
            return to_json_value(dict(writes), "writes")  # type: ignore[return-value]
        except NotJsonError as exc:
            raise NodeOutputError(f"node '{node.id}' wrote request data that is not JSON: {exc}") from None

    def _prepare_input(self, node: Node, definition: NodeDefinition, context: Context, globals: Any) -> Any:
        each = definition.metadata.get("each") if definition.metadata else None
        if each is not None and isinstance(node.data, Mapping) and each in node.data:
            return self._prepare_each(node, definition, context, globals, each)
        data = node.data
        if self.transform_engines:
            for engine in self.transform_engines:
                data = engine.transform(data, context, globals)
        else:
            data = to_json_value(data)  # the executor gets a copy, never the definition itself
        schema = definition.input_schema
        if schema is not None and node.id not in self._valid_static:
            checked = self.validator.validate(data, schema)
            if not checked.valid:
                raise NodeValidationError(checked.errors, f"input of node '{node.id}' is invalid")
            data = checked.data if checked.data is not None else data
            if node.id in self._static_ids and isinstance(self.validator, JsonSchemaValidator):
                self._valid_static.add(node.id)  # data without expressions: valid once, valid always (the
                # reference's rule; a subclass answers as it does)
        return data

    def _prepare_each(self, node: Node, definition: NodeDefinition, context: Context, globals: Any,
                      each: str) -> dict[str, Any]:
        """A type whose metadata names an ``each`` key (``forEach``): the rest of the data once per item.

        The key's value must resolve to a list; every other value is resolved
        once per item with ``item`` and ``itemIndex`` in scope, and checked
        against the type's input schema. The executor gets the first item's
        data, the list under ``each``, and every item's data under ``"each"``
        (an empty list: the data as written, unresolved).
        """
        engines = self.transform_engines
        items = {each: node.data[each]}
        for engine in engines:
            items = engine.transform(items, context, globals)
        listed = items.get(each) if isinstance(items, Mapping) else None
        if not isinstance(listed, list):
            raise NodeValidationError([Problem(f"$.{each}", "must give a list")],
                                      f"input of node '{node.id}' is invalid: {each} gave no list")
        if len(listed) > self.limits.max_items:
            raise LimitExceeded(f"node '{node.id}': {each} gave {len(listed):,} items, over the limit of "
                                f"{self.limits.max_items:,}")
        rest = {k: v for k, v in node.data.items() if k != each}
        if not listed:  # no item: nothing to resolve per item; the executor gets the data as written
            return {**to_json_value(rest), each: [], "each": []}  # type: ignore[dict-item]
        per_item = []
        for index, item in enumerate(listed):
            data: Any = rest
            for engine in engines:
                data = (engine.transform(data, context, globals, names={"item": item, "itemIndex": index})
                        if isinstance(engine, JexlTransformEngine) else engine.transform(data, context, globals))
            if not engines:
                data = to_json_value(data)
            schema = definition.input_schema
            if schema is not None:
                checked = self.validator.validate({**data, each: listed}, schema)
                if not checked.valid:
                    raise NodeValidationError(checked.errors, f"input of node '{node.id}' is invalid for item "
                                                              f"{index + 1}")
            per_item.append(data)
        return {**per_item[0], each: listed, "each": per_item}

    def _check_output(self, node: Node, definition: NodeDefinition, output: Any) -> Any:
        try:
            output = to_json_value(output, "output")
        except TooManyValues as exc:
            raise LimitExceeded(f"the output of node '{node.id}' holds {exc}") from None
        except NotJsonError as exc:
            raise NodeOutputError(f"node '{node.id}' returned output that is not JSON: {exc}") from None
        kind = type(output)
        if kind is dict or kind is list or kind is str:
            size = len(orjson.dumps(output))
            limits = self.limits
            if size > limits.max_output_bytes:
                raise LimitExceeded(f"the output of node '{node.id}' is {size:,} bytes, over the limit of "
                                    f"{limits.max_output_bytes:,} ({limits.setting})")
        schema = definition.output_schema
        if schema is not None:
            checked = self.validator.validate(None if output is UNDEFINED else output, schema)
            if not checked.valid:
                raise NodeValidationError(checked.errors, f"output of node '{node.id}' is invalid")
        return output

    def _fail(self, snapshot: Snapshot, node: Node, definition: NodeDefinition, error: Exception,
              attempt: int, data: Any, payload: Any, globals: Any) -> Snapshot:
        """Record a failed attempt: ``error`` with a retry time if attempts are left, else ``failed``.

        As in Refluxo's handleError, the failed work counts: ``lastStartedAt``
        and ``totalExecutionTime`` are taken when the failure is handled, and
        the clock is read in Refluxo's order (retry time, then the result's
        timestamp). The text is JavaScript's ``String(error)``.
        """
        now = self.clock.now_ms()
        total = self._total(snapshot, now)
        if isinstance(error, ExpressionError):
            error.locate(node_id=node.id)
        if self._hooks.has("on_node_error"):
            self._hooks.call("on_node_error", PluginContext(
                node, definition, snapshot, globals, payload, data, None, error, attempt))
        detail = str(error)
        message = f"Error: {detail}" if detail else "Error"
        if self.error_handler.should_retry(error, attempt, node, definition):
            delay = self.error_handler.get_retry_delay(attempt, node, definition)
            retry_at = self.clock.now_ms() + delay
            context = snapshot.context.appended(node.id, NodeRun(None, self.clock.now_ms(), attempt, message))
            return snapshot._replace(
                status=ERROR, current_node_id=node.id, context=context, last_started_at=now,
                total_execution_time=total,
                retry_state=RetryState(node.id, attempt, retry_at),
                metadata=_frozen({**snapshot.metadata, "pausedReason": f"Retry attempt {attempt}"}))
        context = snapshot.context.appended(node.id, NodeRun(None, self.clock.now_ms(), attempt, message))
        return snapshot._replace(status=FAILED, current_node_id=node.id, context=context, last_started_at=now,
                                 total_execution_time=total, retry_state=None)
