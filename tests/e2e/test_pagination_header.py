"""X-Pagination (issue 23) is documented as what it is — JSON content — and every paged answer's header is valid
against that documented schema (it was documented as a bare object, which OpenAPI reads as "total,3,...")."""

from __future__ import annotations

import json

from jsonschema import Draft7Validator

from ..conftest import EXPENSE


def test_every_paged_list_documents_and_sends_x_pagination_as_json(api):
    api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    spec = api.as_("admin").get("/api/openapi.json").json
    header = spec["components"]["headers"]["PAGINATION"]
    assert "schema" not in header and "application/json" in header["content"]
    schema = spec["components"]["schemas"]["PaginationMetadata"]
    paged = [path for path, ops in spec["paths"].items()
             if "X-Pagination" in ops.get("get", {}).get("responses", {}).get("200", {}).get("headers", {})]
    assert set(paged) >= {"/api/instances", "/api/tasks", "/api/notifications", "/api/audit/search"}
    for path, user in (("/api/instances?page=1&page_size=1", "ann"), ("/api/instances?page=9", "ann"),
                       ("/api/tasks", "bob"), ("/api/notifications", "bob"),
                       ("/api/audit/search?process=expense-approval", "audrey")):
        answer = api.as_(user).get(path)
        assert answer.status_code == 200, path
        sent = json.loads(answer.headers["X-Pagination"])
        assert not list(Draft7Validator(schema).iter_errors(sent)), (path, sent)
