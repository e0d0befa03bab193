"""What publishing a draft changes: the nodes and edges it adds, removes and changes (and which settings), and
the running requests of older versions that wait at steps the new version no longer has.

The diff compares by id, as the engine and a migration do: a node kept under
its id is "changed" when its type, data or label differ; the canvas draws
the same lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bpm.store.uow import UnitOfWork


@dataclass(frozen=True)
class Change:
    """A node or edge kept under its id whose content differs: what it is called, and the settings that differ."""

    id: str
    label: str
    settings: tuple[str, ...]  # data keys, "type", "label", or for an edge "source", "target", "handle"


@dataclass(frozen=True)
class VersionDiff:
    """The differences between two bodies of one process."""

    nodes_added: tuple[str, ...]
    nodes_removed: tuple[str, ...]
    nodes_changed: tuple[Change, ...]
    edges_added: tuple[str, ...]
    edges_removed: tuple[str, ...]
    edges_changed: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return not (self.nodes_added or self.nodes_removed or self.nodes_changed or self.edges_added
                    or self.edges_removed or self.edges_changed)


@dataclass(frozen=True)
class Stranded:
    """Running requests of an older version waiting at a step the new version lacks (a migration must map it)."""

    version: int
    node: str
    count: int


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> VersionDiff:
    """What ``new`` adds, removes and changes against ``old``."""
    old_nodes, new_nodes = _by_id(old.get("nodes")), _by_id(new.get("nodes"))
    old_edges, new_edges = _by_id(old.get("edges")), _by_id(new.get("edges"))
    return VersionDiff(
        tuple(k for k in new_nodes if k not in old_nodes), tuple(k for k in old_nodes if k not in new_nodes),
        tuple(change for k, node in new_nodes.items() if k in old_nodes
              if (change := _node_change(old_nodes[k], node)) is not None),
        tuple(k for k in new_edges if k not in old_edges), tuple(k for k in old_edges if k not in new_edges),
        tuple(change for k, edge in new_edges.items() if k in old_edges
              if (change := _edge_change(old_edges[k], edge)) is not None))


def stranded(uow: UnitOfWork, key: str, new: Mapping[str, Any]) -> list[Stranded]:
    """Per older version and step, the unfinished requests waiting where ``new`` has no such step."""
    kept = set(_by_id(new.get("nodes")))
    return [Stranded(version, node, count) for (version, node), count in sorted(uow.instances.waiting_at(key).items())
            if node is not None and node not in kept]


def _by_id(items: Any) -> dict[str, Mapping[str, Any]]:
    return {str(item["id"]): item for item in items or () if isinstance(item, Mapping) and "id" in item}


def _label(item: Mapping[str, Any]) -> str:
    metadata = item.get("metadata")
    label = metadata.get("label") if isinstance(metadata, Mapping) else None
    return label if isinstance(label, str) and label.strip() else str(item.get("id"))


def _node_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> Change | None:
    old_data = old.get("data") if isinstance(old.get("data"), Mapping) else {}
    new_data = new.get("data") if isinstance(new.get("data"), Mapping) else {}
    settings = [key for key in dict.fromkeys([*old_data, *new_data]) if old_data.get(key) != new_data.get(key)]
    if old.get("type") != new.get("type"):
        settings.insert(0, "type")
    if _label(old) != _label(new):
        settings.append("label")
    return Change(str(new["id"]), _label(new), tuple(settings)) if settings else None


def _edge_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> Change | None:
    settings = tuple(name for name, key in (("source", "source"), ("target", "target"), ("handle", "sourceHandle"))
                     if old.get(key) != new.get(key))
    return Change(str(new["id"]), str(new["id"]), settings) if settings else None
