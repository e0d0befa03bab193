"""Every step of every shipped process has a label: no page, diagram or list of steps shows a raw node id."""

from __future__ import annotations

import json

import pytest

from bpm.config import SHIPPED_PROCESSES


@pytest.mark.parametrize("path", sorted(SHIPPED_PROCESSES.glob("*.json")), ids=lambda p: p.stem)
def test_every_step_has_a_label(path):
    body = json.loads(path.read_text())
    unlabelled = [n["id"] for n in body["nodes"] if not (n.get("metadata") or {}).get("label")]
    assert unlabelled == []
