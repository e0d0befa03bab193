"""What the designer costs on a big process: ``python -m bench.designer`` prints p50/p95 in ms of

- the editor page (``GET /designer/<key>``: checks, canvas data, outline, diagram) of a ``--nodes``-node draft,
- a canvas save (``POST /designer/<key>/draft``: the whole draft with its revision, answered with its problems,
  exits and the outline),
- one step's properties panel (``GET /designer/<key>/steps/<id>``: fields, what can be read there),
- its validation (``POST /api/definitions/validate``),
- a test run through all of it (``POST /api/definitions/simulate``, a decision at every task),

in process over a scratch SQLite database (the directory look-ups of the checks included). Target: p95 under
100 ms each for 200 nodes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def big_process(tasks: int) -> dict[str, Any]:
    """A chain of ``tasks`` approvals, each followed by a decision on an amount (4 nodes per stage)."""
    nodes: list[dict[str, Any]] = [{"id": "submit", "type": "start", "data": {"form": "expense-request"}}]
    edges: list[dict[str, Any]] = []
    previous, handle = "submit", None
    for i in range(tasks):
        task, check, note = f"review_{i}", f"check_{i}", f"note_{i}"
        nodes += [
            {"id": task, "type": "human-task", "metadata": {"label": f"Review {i}"},
             "data": {"title": f"Review {i}: {{{{ data.description }}}}", "form": "approval-decision",
                      "assignee": "bob" if i % 2 else "{{ data.manager }}", "outcomes": ["approve", "reject"],
                      "escalations": [{"after": "P2D", "action": "remind"}]}},
            {"id": check, "type": "decision",
             "data": {"rules": [{"when": f"{{{{ submit.last.data.amount > {i * 10} }}}}", "handle": "high"}],
                      "default": "low"}},
            {"id": note, "type": "set", "data": {"values": {f"seen{i}": "{{ data.amount }}"}}}]
        edges += [{"id": f"in_{i}", "source": previous, "target": task, **({"sourceHandle": handle} if handle else {})},
                  {"id": f"ok_{i}", "source": task, "target": check, "sourceHandle": "approve"},
                  {"id": f"no_{i}", "source": task, "target": "rejected", "sourceHandle": "reject"},
                  {"id": f"hi_{i}", "source": check, "target": note, "sourceHandle": "high"},
                  {"id": f"lo_{i}", "source": check, "target": note, "sourceHandle": "low"}]
        previous, handle = note, None
    nodes += [{"id": "approved", "type": "end", "data": {"outcome": "approved"}},
              {"id": "rejected", "type": "end", "data": {"outcome": "rejected"}}]
    edges.append({"id": "done", "source": previous, "target": "approved"})
    return {"id": "big", "name": "A big process", "nodes": nodes, "edges": edges}


def _times(action: Any, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200, help="about this many nodes (3 per stage, plus 3)")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    from bpm.app import create_app
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import create_user
    from bpm.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'designer.db'}"
        upgrade(url)
        app = create_app({"database_url": url, "dev_identity": True, "log_level": "WARNING"})
        rt = app.extensions["bpm"]
        create_user(rt, SYSTEM_ACTOR, "dana", roles=["employee", "designer"])
        create_user(rt, SYSTEM_ACTOR, "bob", roles=["employee"])
        body = big_process(max(1, (args.nodes - 3) // 3))
        client, who = app.test_client(), {"X-BPM-User": "dana"}
        saved = client.post("/api/definitions", json=body, headers=who)
        assert saved.status_code == 201, saved.get_json()
        tasks = [n["id"] for n in body["nodes"] if n["type"] == "human-task"]
        run = {"definition": body, "start": {"data": {"manager": "bob", "amount": 500, "currency": "EUR",
                                                      "spentOn": "2026-12-01", "description": "Press"}},
               "steps": [{"node": task, "outcome": "approve", "by": "dave"} for task in tasks]}

        def page() -> None:
            assert client.get("/designer/big", headers={**who, "Accept": "text/html"}).status_code == 200

        revision = [client.get("/designer/big/draft.json", headers=who).get_json()["revision"]]

        def save() -> None:
            answer = client.post("/designer/big/draft", json={"revision": revision[0], "definition": body},
                                 headers=who)
            assert answer.status_code == 200, answer.get_json()
            revision[0] = answer.get_json()["revision"]

        def panel() -> None:
            assert client.get(f"/designer/big/steps/{tasks[len(tasks) // 2]}",
                              headers={**who, "HX-Request": "true"}).status_code == 200

        def validate() -> None:
            assert client.post("/api/definitions/validate", json=body, headers=who).get_json()["valid"]

        def simulate() -> None:
            answer = client.post("/api/definitions/simulate", json=run, headers=who).get_json()
            assert answer["status"] == "completed", answer

        print(f"definition: {len(body['nodes'])} nodes, {len(body['edges'])} edges, {len(tasks)} tasks")
        for name, action in (("editor page", page), ("canvas save", save), ("step panel", panel),
                             ("validate", validate), ("test run (every task)", simulate)):
            action()  # warm: templates compiled, caches filled
            p50, p95 = _times(action, args.repeat)
            print(f"{name:<24} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
        rt.close()


if __name__ == "__main__":
    main()
