"""Error handlers decide whether a failed node is tried again, and when."""

from __future__ import annotations

from typing import Protocol

from bpm.engine.definition import Node
from bpm.engine.errors import LimitExceeded
from bpm.engine.node import NodeDefinition


class ErrorHandler(Protocol):
    """The replaceable retry decision of the engine."""

    def should_retry(self, error: BaseException, attempt: int, node: Node,
                     definition: NodeDefinition) -> bool:
        """Return True if the node should run again after failed attempt ``attempt``."""
        ...

    def get_retry_delay(self, attempt: int, node: Node, definition: NodeDefinition) -> int:
        """Return how many milliseconds to wait before the next attempt."""
        ...


class DefaultErrorHandler:
    """Retry by the node type's RetryPolicy; ``max_attempts`` counts the first attempt too."""

    def should_retry(self, error: BaseException, attempt: int, node: Node,
                     definition: NodeDefinition) -> bool:
        """Retry while attempts are left under the type's policy; a broken limit never (it would break again)."""
        policy = definition.retry_policy
        return policy is not None and attempt < policy.max_attempts and not isinstance(error, LimitExceeded)

    def get_retry_delay(self, attempt: int, node: Node, definition: NodeDefinition) -> int:
        """Wait what the policy's backoff says; no policy means no wait."""
        policy = definition.retry_policy
        return policy.delay_ms(attempt) if policy is not None else 0
