"""Every step of every shipped process has a label: no page, diagram or list of steps shows a raw node id."""

from __future__ import annotations

import json

import pytest

from bpm.config import SHIPPED_PROCESSES

SHIPPED = sorted(SHIPPED_PROCESSES.glob("*.json"))


def test_the_processes_are_there_to_check():
    assert len(SHIPPED) >= 4, "an empty glob would make the check below pass on nothing"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_step_has_a_label(path):
    body = json.loads(path.read_text())
    unlabelled = [n["id"] for n in body["nodes"] if not (n.get("metadata") or {}).get("label")]
    assert unlabelled == []
