"""The one exception tree of Refluxo BPM, rooted where every layer can import it.

The engine is the lowest layer, so the root lives here; the service adds its
own subclasses (conflicts, permissions, ...) on top of ``BpmError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class BpmError(Exception):
    """Root of every error Refluxo BPM raises on purpose."""


class EngineError(BpmError):
    """Root of every error raised by ``bpm.engine``."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a definition, snapshot or payload.

    ``path`` is a JSON path (``$.nodes[2].data.title``) so an editor can point
    at the offending field; ``severity`` is ``"error"`` or ``"warning"``.
    """

    path: str
    message: str
    severity: str = "error"

    def to_dict(self) -> dict[str, str]:
        """Return the problem as plain JSON."""
        return {"path": self.path, "message": self.message, "severity": self.severity}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ProblemsError(EngineError):
    """An error that carries every problem found, not only the first."""

    summary = "invalid input"

    def __init__(self, problems: Iterable[Problem], summary: str | None = None) -> None:
        self.problems: list[Problem] = list(problems)
        if summary is not None:
            self.summary = summary
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = len(self.problems) - 5
        if more > 0:
            shown += f"; and {more} more"
        super().__init__(f"{self.summary}: {shown}" if shown else self.summary)


class DefinitionError(ProblemsError):
    """A workflow definition cannot be loaded."""

    summary = "invalid workflow definition"


class SnapshotError(ProblemsError):
    """A serialized snapshot is malformed."""

    summary = "invalid snapshot"


class ExpressionError(EngineError):
    """An expression failed to parse or to evaluate.

    The message names the expression, and the node once the engine knows it.
    """

    def __init__(self, message: str, expression: str | None = None) -> None:
        self.expression = expression
        self.detail = message
        self.node_id: str | None = None
        self.path: str | None = None
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.node_id is not None:
            where.append(f"node '{self.node_id}'")
        if self.path:
            where.append(f"at {self.path}")
        prefix = f"{', '.join(where)}: " if where else ""
        expr = f"expression '{self.expression}' " if self.expression is not None else ""
        return f"{prefix}{expr}{'failed: ' if expr else ''}{self.detail}"

    def nest(self, segment: str) -> ExpressionError:
        """Prefix the path with the segment of the container holding it; returns self."""
        self.path = segment + (self.path or "")
        self.args = (self._render(),)
        return self

    def locate(self, node_id: str | None = None, path: str | None = None) -> ExpressionError:
        """Attach where the expression sits; returns self for re-raising."""
        if node_id is not None:
            self.node_id = node_id
        if path is not None and self.path is None:
            self.path = path
        self.args = (self._render(),)
        return self


class NodeValidationError(ProblemsError):
    """A node's input or output broke its type's JSON schema."""

    summary = "node data does not match its schema"


class NodeOutputError(EngineError):
    """An executor returned something that cannot live in a snapshot."""


class LimitExceeded(EngineError):
    """A step produced more than a limit allows (output size, values); the node fails and is not retried."""


class UnknownNodeError(EngineError):
    """A snapshot points at a node the definition does not have."""
