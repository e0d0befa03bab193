"""What one step may produce, so a runaway definition fails its own run instead of the host.

A definition whose ``set`` nodes double a value at every step reaches
gigabytes in a few dozen steps. The expression layer bounds text (1,000,000
characters) and the number of values in a result (``jsonvalue.MAX_VALUES``);
the engine bounds what a node may add to the snapshot. Breaking a limit fails
the node with an error naming it and the limit, and is never retried: the
same input would break it again.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_OUTPUT_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-step limits of a WorkflowEngine; ``setting`` names the knob an operator turns."""

    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    setting: str = "BPM_MAX_OUTPUT_BYTES"
    max_items: int = 200
    """How many items a ``forEach`` list may give: one task each, so a list from a form stays humanly sized."""

    def __post_init__(self) -> None:
        if self.max_output_bytes < 1024:
            raise ValueError("max_output_bytes must be at least 1024")
