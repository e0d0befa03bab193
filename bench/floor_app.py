"""The floor for bench.http_floor: Flask on granian with hand-written SQL and nothing else.

It does what an approval process costs in SQL (the same statements and round
trips as the real service) without SQLAlchemy, flask-smorest, forms or the
engine, so the difference to bench.service is what those layers cost.
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


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["BPM_FLOOR_DATABASE_URL"])
    return conn


@app.post("/start")
def start() -> tuple[Response, int]:
    body = request.get_json()
    instance_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    conn = _connection()
    with conn.transaction():
        conn.execute("SELECT id, version FROM floor_definition WHERE key = %s", ("k",)).fetchone()
        conn.execute("INSERT INTO floor_instance (id, snapshot, revision) VALUES (%s, %s, 1)",
                     (instance_id, json.dumps({"payload": body})))
        conn.execute("INSERT INTO floor_history (instance_id, revision, delta) VALUES (%s, 1, %s)",
                     (instance_id, json.dumps({"started": True})))
        conn.execute("INSERT INTO floor_task (id, instance_id, status, revision) VALUES (%s, %s, 'open', 1)",
                     (task_id, instance_id))
    return jsonify({"id": instance_id, "openTasks": [{"id": task_id}]}), 201


@app.post("/complete/<task_id>")
def complete(task_id: str) -> Response:
    conn = _connection()
    with conn.transaction():
        row = conn.execute("SELECT t.instance_id, i.revision FROM floor_task t JOIN floor_instance i "
                           "ON i.id = t.instance_id WHERE t.id = %s", (task_id,)).fetchone()
        conn.execute("UPDATE floor_task SET status = 'completed', revision = revision + 1 "
                     "WHERE id = %s AND revision = 1", (task_id,))
        conn.execute("UPDATE floor_instance SET snapshot = %s, revision = revision + 1 "
                     "WHERE id = %s AND revision = %s", (json.dumps({"done": True}), row[0], row[1]))
        conn.execute("INSERT INTO floor_history (instance_id, revision, delta) VALUES (%s, 2, %s)",
                     (row[0], json.dumps({"completed": True})))
    return jsonify({"status": "completed"})
