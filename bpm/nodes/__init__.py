"""The built-in node types of the design (docs/design.md), as engine NodeDefinitions."""

from __future__ import annotations

from bpm.engine import Clock, NodeDefinition
from bpm.forms import Forms
from bpm.nodes.branches import FORK, JOIN
from bpm.nodes.calls import CALL
from bpm.nodes.effects import CallRequest, Effects, MessageRequest, StepGlobals, TaskRequest, TimerRequest
from bpm.nodes.flow import DECISION, END, END_HANDLE, SET, start_type
from bpm.nodes.human_task import human_task_type
from bpm.nodes.notify import NOTIFY
from bpm.nodes.timer import timer_type
from bpm.nodes.types import NodeType

__all__ = ["END_HANDLE", "CallRequest", "Effects", "MessageRequest", "NodeType", "StepGlobals", "TaskRequest",
           "TimerRequest", "build_node_types"]


def build_node_types(forms: Forms, clock: Clock) -> dict[str, NodeDefinition]:
    """Every built-in type by name; types that need forms or time get them here."""
    return {
        NodeType.START: start_type(forms),
        NodeType.HUMAN_TASK: human_task_type(clock),
        NodeType.TIMER: timer_type(clock),
        NodeType.DECISION: DECISION,
        NodeType.SET: SET,
        NodeType.NOTIFY: NOTIFY,
        NodeType.END: END,
        NodeType.FORK: FORK,
        NodeType.JOIN: JOIN,
        NodeType.CALL: CALL,
    }
