"""Plugin hooks fire in Refluxo's order, and a failing plugin never breaks a run."""

from __future__ import annotations

import logging

from bpm.engine import Plugin

from .conftest import chain


class Recorder(Plugin):
    name = "recorder"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def on_workflow_start(self, snapshot):
        self.calls.append("start")

    def on_before_node_execution(self, ctx):
        self.calls.append(f"before:{ctx.node.id}")

    def on_after_node_execution(self, ctx):
        self.calls.append(f"after:{ctx.node.id}={ctx.output}")

    def on_node_error(self, ctx):
        self.calls.append(f"error:{ctx.node.id}#{ctx.attempt}:{ctx.error}")

    def on_workflow_pause(self, snapshot):
        self.calls.append("pause")

    def on_workflow_complete(self, snapshot):
        self.calls.append("complete")


def test_hooks_fire_in_order_across_start_pause_and_resume(make_engine):
    recorder = Recorder()
    engine = make_engine(chain(("a", "pass", {"n": 1}), ("w", "wait")), plugins=[recorder])
    paused = engine.execute(initial_node_id="a")
    assert recorder.calls == ["start", "before:a", "after:a={'n': 1}", "before:w", "after:w=None", "pause"]
    recorder.calls.clear()
    engine.execute(snapshot=paused, external_payload={"ok": True})
    assert recorder.calls == ["before:w", "after:w={'ok': True}", "complete"]


def test_a_node_error_reaches_on_node_error_with_the_attempt(make_engine):
    recorder = Recorder()
    engine = make_engine(chain(("f", "retry-fixed")), plugins=[recorder])
    errored = engine.execute(initial_node_id="f")
    engine.execute(snapshot=errored)
    assert recorder.calls == ["start", "before:f", "error:f#1:boom", "before:f", "error:f#2:boom"]


def test_a_failing_plugin_is_logged_and_the_run_goes_on(make_engine, caplog):
    class Broken:
        name = "broken"

        def on_before_node_execution(self, ctx):
            raise RuntimeError("plugin bug")

        def on_workflow_complete(self, snapshot):
            raise ValueError("also broken")

    recorder = Recorder()
    engine = make_engine(chain(("a", "pass"), ("b", "pass")), plugins=[Broken(), recorder])
    with caplog.at_level(logging.ERROR, logger="bpm.engine.plugins"):
        snap = engine.execute(initial_node_id="a")
    assert snap.status == "completed" and snap.version == 2
    assert recorder.calls[-1] == "complete"
    assert sum("plugin broken failed" in r.getMessage() for r in caplog.records) == 3
