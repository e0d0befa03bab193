"""NodeDefinition and NodeResult: where a node type's behaviour lives."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from bpm.engine.context import Context
from bpm.engine.undefined import UNDEFINED

BACKOFFS = ("fixed", "exponential")


class NodeResult(NamedTuple):
    """What an executor returns: its output, whether to pause, and which exit to take.

    ``next_handle`` None follows the default (handle-less) edge. Leaving
    ``data`` out records no output at all (Refluxo's ``undefined``: the
    snapshot's result has no ``output`` key); ``data=None`` records null.

    Two optional fields go beyond Refluxo, and a node that sets neither runs
    exactly as there: ``branches`` leaves by several exits at once, each
    edge a parallel branch (``EVERY_EXIT``: all of the node's edges; a tuple:
    the edges whose handle it names), and ``writes`` sets fields of the
    request's data (``data.<field>`` in expressions).
    """

    data: Any = UNDEFINED
    pause: bool = False
    next_handle: str | None = None
    branches: tuple[str | None, ...] | bool | None = None
    writes: Mapping[str, Any] | None = None


EVERY_EXIT = True
"""``NodeResult(branches=EVERY_EXIT)``: take every edge that leaves the node, at once."""


Executor = Callable[[Any, Context, Any, Any], NodeResult]
"""``executor(data, context, external_payload, globals) -> NodeResult``."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing node is tried, and how long to wait between tries.

    ``max_attempts`` counts every attempt, the first included: 3 means one
    try and two retries. ``interval`` is in milliseconds; with ``exponential``
    backoff the n-th retry waits ``interval * 2 ** (n - 1)``.
    """

    max_attempts: int
    interval: int = 0
    backoff: str = "fixed"

    def __post_init__(self) -> None:
        if type(self.max_attempts) is not int or self.max_attempts < 1:
            raise ValueError("max_attempts must be a whole number >= 1")
        if type(self.interval) is not int or self.interval < 0:
            raise ValueError("interval must be a whole number of milliseconds >= 0")
        if self.backoff not in BACKOFFS:
            raise ValueError(f"backoff must be one of {', '.join(BACKOFFS)}")

    def delay_ms(self, attempt: int) -> int:
        """Return the wait after failed attempt number ``attempt`` (1-based)."""
        if self.backoff == "exponential":
            return self.interval * 2 ** (attempt - 1)
        return self.interval


@dataclass(frozen=True, slots=True)
class NodeDefinition:
    """A node type: its executor, optional JSON schemas and optional retry policy.

    ``metadata`` may hold ``{"input": schema, "output": schema}`` (JSON Schema
    2020-12) checked before and after the executor runs.
    """

    executor: Executor
    metadata: Mapping[str, Any] = field(default_factory=dict)
    retry_policy: RetryPolicy | None = None

    @property
    def input_schema(self) -> Mapping[str, Any] | None:
        """The JSON schema node data must satisfy, if the type declares one."""
        return self.metadata.get("input") if self.metadata else None

    @property
    def output_schema(self) -> Mapping[str, Any] | None:
        """The JSON schema the executor's output must satisfy, if the type declares one."""
        return self.metadata.get("output") if self.metadata else None
