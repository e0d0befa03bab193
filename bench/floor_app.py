"""The floor for bench.http_floor: Flask on granian with hand-written SQL and nothing else.

It does what an approval process costs in SQL, with the same statements and
round trips as the real service (reads in autocommit; the writes of a
transaction as one multi-statement query of EXECUTEs of prepared statements,
BEGIN and COMMIT riding along, the completion's COMMIT after its row counts
are checked), without SQLAlchemy, flask-smorest, forms or the engine, so the
difference to bench.service is what those layers cost.
"""

from __future__ import annotations

import json
import os
import threading
import uuid

import psycopg
from flask import Flask, Response, jsonify, request

app = Flask(__name__)
_local = threading.local()

PREPARED = {
    "newest": "SELECT id, version FROM floor_definition WHERE key = $1::text",
    "add_instance": "INSERT INTO floor_instance (id, snapshot, revision) VALUES ($1::text, $2::jsonb, 1)",
    "add_history": "INSERT INTO floor_history (instance_id, revision, delta) VALUES ($1::text, $2::int, $3::jsonb)",
    "add_task": "INSERT INTO floor_task (id, instance_id, status, revision) VALUES ($1::text, $2::text, 'open', 1)",
    "task_and_instance": "SELECT t.instance_id, i.revision FROM floor_task t JOIN floor_instance i "
                         "ON i.id = t.instance_id WHERE t.id = $1::text",
    "complete_task": "UPDATE floor_task SET status = 'completed', revision = revision + 1 "
                     "WHERE id = $1::text AND revision = 1",
    "advance_instance": "UPDATE floor_instance SET snapshot = $1::jsonb, revision = revision + 1 "
                        "WHERE id = $2::text AND revision = $3::int",
}


def _cursor() -> psycopg.ClientCursor:
    cursor = getattr(_local, "cursor", None)
    if cursor is None:
        conn = psycopg.connect(os.environ["BPM_FLOOR_DATABASE_URL"], autocommit=True, prepare_threshold=None)
        cursor = _local.cursor = psycopg.ClientCursor(conn)
        for name, sql in PREPARED.items():
            cursor.execute(f"PREPARE {name} AS {sql}")
    return cursor


def _execute(cursor: psycopg.ClientCursor, name: str, *values: object) -> str:
    return cursor.mogrify(f"EXECUTE {name}({', '.join(['%s'] * len(values))})", values)


@app.post("/start")
def start() -> tuple[Response, int]:
    body = request.get_json()
    instance_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    cursor = _cursor()
    cursor.execute(_execute(cursor, "newest", "k")).fetchone()
    cursor.execute(";".join(["BEGIN",
                             _execute(cursor, "add_instance", instance_id, json.dumps({"payload": body})),
                             _execute(cursor, "add_history", instance_id, 1, json.dumps({"started": True})),
                             _execute(cursor, "add_task", task_id, instance_id),
                             "COMMIT"]))
    return jsonify({"id": instance_id, "openTasks": [{"id": task_id}]}), 201


@app.post("/complete/<task_id>")
def complete(task_id: str) -> Response:
    cursor = _cursor()
    row = cursor.execute(_execute(cursor, "task_and_instance", task_id)).fetchone()
    cursor.execute(";".join(["BEGIN",
                             _execute(cursor, "complete_task", task_id),
                             _execute(cursor, "advance_instance", json.dumps({"done": True}), row[0], row[1]),
                             _execute(cursor, "add_history", row[0], 2, json.dumps({"completed": True}))]))
    counts = []
    while cursor.nextset():
        counts.append(cursor.rowcount)
    if counts[:2] != [1, 1]:
        cursor.execute("ROLLBACK")
        return jsonify({"status": "conflict"}), 409  # type: ignore[return-value]
    cursor.execute("COMMIT")
    return jsonify({"status": "completed"})
