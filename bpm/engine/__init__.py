"""The Refluxo workflow model in pure Python: definitions, snapshots, the step engine.

Imports only the standard library and small pure libraries; knows nothing of
Flask, databases or the wall clock (a clock is injected).
"""

from bpm.engine.clock import Clock, ManualClock, SystemClock
from bpm.engine.context import Context, NodeRun, RunLog
from bpm.engine.definition import Edge, Node, WorkflowDefinition, load_definition
from bpm.engine.engine import STEP_LIMIT_REASON, WorkflowEngine
from bpm.engine.errors import (
    BpmError,
    DefinitionError,
    EngineError,
    ExpressionError,
    LimitExceeded,
    NodeOutputError,
    NodeValidationError,
    Problem,
    ProblemsError,
    SnapshotError,
    UnknownNodeError,
)
from bpm.engine.expressions import JexlTransformEngine, TransformEngine
from bpm.engine.limits import Limits
from bpm.engine.node import NodeDefinition, NodeResult, RetryPolicy
from bpm.engine.plugins import Plugin, PluginContext
from bpm.engine.retry import DefaultErrorHandler, ErrorHandler
from bpm.engine.roles import NodeRole, nodes_with_role, role_of
from bpm.engine.schema import JsonSchemaValidator, ValidationResult, Validator
from bpm.engine.snapshot import RetryState, Snapshot
from bpm.engine.validation import check_definition, validate_definition

__all__ = [
    "STEP_LIMIT_REASON",
    "BpmError",
    "Clock",
    "Context",
    "DefaultErrorHandler",
    "DefinitionError",
    "Edge",
    "EngineError",
    "ErrorHandler",
    "ExpressionError",
    "JexlTransformEngine",
    "JsonSchemaValidator",
    "LimitExceeded",
    "Limits",
    "ManualClock",
    "Node",
    "NodeDefinition",
    "NodeOutputError",
    "NodeResult",
    "NodeRole",
    "NodeRun",
    "NodeValidationError",
    "Plugin",
    "PluginContext",
    "Problem",
    "ProblemsError",
    "RetryPolicy",
    "RetryState",
    "RunLog",
    "Snapshot",
    "SnapshotError",
    "SystemClock",
    "TransformEngine",
    "UnknownNodeError",
    "ValidationResult",
    "Validator",
    "WorkflowDefinition",
    "WorkflowEngine",
    "check_definition",
    "load_definition",
    "nodes_with_role",
    "role_of",
    "validate_definition",
]
