"""The names of the built-in node types, said once: the registry, the checks of a definition and the diagram use
these, never the strings."""

from __future__ import annotations

from enum import StrEnum


class NodeType(StrEnum):
    START = "start"
    HUMAN_TASK = "human-task"
    TIMER = "timer"
    DECISION = "decision"
    SET = "set"
    NOTIFY = "notify"
    END = "end"
    FORK = "fork"
    JOIN = "join"
    CALL = "call"
