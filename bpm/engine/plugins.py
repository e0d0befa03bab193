"""Plugins observe a run; they can never break it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bpm.engine.definition import Node
    from bpm.engine.node import NodeDefinition
    from bpm.engine.snapshot import Snapshot

logger = logging.getLogger(__name__)

HOOKS = ("on_workflow_start", "on_before_node_execution", "on_after_node_execution",
         "on_node_error", "on_workflow_pause", "on_workflow_complete")


@dataclass(frozen=True, slots=True)
class PluginContext:
    """What a node hook sees. ``output`` is set after execution; ``error`` and ``attempt`` on failure."""

    node: Node
    definition: NodeDefinition
    snapshot: Snapshot
    globals: Any
    external_payload: Any
    input: Any
    output: Any = None
    error: BaseException | None = None
    attempt: int | None = None


class Plugin:
    """Base class with every hook a no-op; override the ones you need.

    Duck-typed objects work too: any object with some of these methods.
    """

    name = "plugin"

    def on_workflow_start(self, snapshot: Snapshot) -> None:
        """A new run was created (not called on resume)."""

    def on_before_node_execution(self, ctx: PluginContext) -> None:
        """A node is about to run."""

    def on_after_node_execution(self, ctx: PluginContext) -> None:
        """A node ran (or paused) without error."""

    def on_node_error(self, ctx: PluginContext) -> None:
        """A node raised; ``ctx.error`` and ``ctx.attempt`` say what and which try."""

    def on_workflow_pause(self, snapshot: Snapshot) -> None:
        """An ``execute`` call ended on a pause."""

    def on_workflow_complete(self, snapshot: Snapshot) -> None:
        """An ``execute`` call ended with the run completed."""


class HookRunner:
    """Calls one hook on every plugin that has it, logging and swallowing failures.

    Hooks are looked up once, so a run with no plugins pays nothing per step.
    """

    def __init__(self, plugins: Sequence[Any]) -> None:
        self._hooks: dict[str, list[tuple[str, Callable[[Any], Any]]]] = {name: [] for name in HOOKS}
        for plugin in plugins:
            label = getattr(plugin, "name", type(plugin).__name__)
            for name in HOOKS:
                hook = getattr(plugin, name, None)
                if callable(hook):
                    self._hooks[name].append((label, hook))

    def has(self, name: str) -> bool:
        """Return True if any plugin implements hook ``name``."""
        return bool(self._hooks[name])

    def call(self, name: str, arg: Any) -> None:
        """Call hook ``name`` with ``arg`` on every plugin; a failing hook is logged and ignored."""
        for label, hook in self._hooks[name]:
            try:
                hook(arg)
            except Exception:
                logger.exception("plugin %s failed in %s; the run goes on", label, name)
