"""Marshmallow schemas of the REST resources; attribute names are snake_case, JSON keys camelCase."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate

from bpm.nodes.types import NodeType
from bpm.runtime.inbox import ORDERS, SCOPES
from bpm.store.vocabulary import DefinitionStatus, InstanceStatus, TaskStatus


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class RecordSchema(ma.Schema):
    """Reads dicts by key and everything else (our records) by attribute.

    marshmallow's own lookup first asks ``hasattr(obj, "__getitem__")``; on a
    pydantic record that is an AttributeError raised and caught inside
    pydantic for every field of every response (one-off measurement in
    docs/service.md).
    """

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if isinstance(obj, dict):
            return obj.get(attr, default)
        if "." in attr:
            return super().get_attribute(obj, attr, default)
        return getattr(obj, attr, default)


class CamelSchema(RecordSchema):
    """Fields appear in JSON as camelCase."""

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        field_obj.data_key = _camel(field_obj.data_key or field_name)


# How every list reads its filters: webargs would otherwise drop unknown query parameters silently.
QUERY: dict[str, Any] = {"location": "query", "unknown": ma.RAISE}


class QuerySchema(CamelSchema):
    """Filters read from the query string (with ``QUERY``): a misspelt one is a 422 naming it, not ignored."""

    error_messages = {"unknown": "unknown query parameter"}


class PagedQuerySchema(QuerySchema):
    """Filters of a paged list: ``page`` and ``page_size`` belong to flask-smorest's pagination, passed over here."""

    PAGING = frozenset({"page", "page_size"})

    @ma.pre_load
    def _without_paging(self, data: Any, **kwargs: Any) -> dict[str, Any]:
        return {key: data[key] for key in data if key not in self.PAGING}


# --- definitions -------------------------------------------------------------------------------

class DefinitionBodySchema(ma.Schema):
    """A WorkflowDefinition: React Flow's nodes and edges plus the process key and name."""

    class Meta:
        unknown = ma.INCLUDE

    id = ma.fields.String(required=True, metadata={"description": "the process key"})
    name = ma.fields.String(required=True)
    version = ma.fields.Integer(metadata={"description": "assigned by the server"})
    description = ma.fields.String()
    nodes = ma.fields.List(ma.fields.Dict(), required=True)
    edges = ma.fields.List(ma.fields.Dict(), load_default=list)


class ProblemSchema(ma.Schema):
    """One finding about a definition."""

    path = ma.fields.String(metadata={"description": "JSON path into the definition"})
    message = ma.fields.String()
    severity = ma.fields.String(validate=validate.OneOf(["error", "warning"]))


class ValidationReportSchema(ma.Schema):
    """Every problem of a definition; valid when none is an error."""

    valid = ma.fields.Boolean()
    problems = ma.fields.List(ma.fields.Nested(ProblemSchema))


class PublishBodySchema(ma.Schema):
    """Optional: why this version is published (kept in the admin chain)."""

    comment = ma.fields.String(validate=validate.Length(max=2000))


class SimulatedStartSchema(ma.Schema):
    """How the test run begins: the start form's data, and who fills it (the caller if not said)."""

    data = ma.fields.Dict(load_default=dict)
    by = ma.fields.String(validate=validate.Length(min=1, max=100))


class SimulatedStepSchema(ma.Schema):
    """One thing a person (or a called process) does in a test run, at a node the run waits at; or, with
    ``advance`` instead of ``node``, the clock moved on at that point (timers and escalations fire)."""

    node = ma.fields.String(validate=validate.Length(min=1, max=200))
    outcome = ma.fields.String(validate=validate.Length(min=1, max=100))
    data = ma.fields.Dict(load_default=dict)
    by = ma.fields.String(validate=validate.Length(min=1, max=100))
    advance = ma.fields.String(validate=validate.Length(min=2, max=40),
                               metadata={"description": "an ISO 8601 duration: move the clock here"})

    @ma.validates_schema
    def _node_or_advance(self, data: dict[str, Any], **_: Any) -> None:
        if ("node" in data) == ("advance" in data):
            raise ma.ValidationError("give node (a step at a waiting node) or advance (a duration), not both",
                                     "node")


class SimulationBodySchema(ma.Schema):
    """A definition (saved or not) and what to do with it; nothing is written."""

    definition = ma.fields.Nested(DefinitionBodySchema, required=True)
    start = ma.fields.Nested(SimulatedStartSchema, load_default=dict)
    steps = ma.fields.List(ma.fields.Nested(SimulatedStepSchema), load_default=list,
                           validate=validate.Length(max=500))
    advance = ma.fields.String(validate=validate.Length(min=2, max=40),
                               metadata={"description": "an ISO 8601 duration to move the clock after the steps"})


class ScenarioExpectSchema(ma.Schema):
    """How a scenario must end; only what is given is compared."""

    status = ma.fields.String(required=True, validate=validate.OneOf(["waiting", "completed", "failed"]))
    outcome = ma.fields.String(allow_none=True)
    waitingAt = ma.fields.List(ma.fields.String(), data_key="waitingAt", attribute="waitingAt")  # noqa: N815
    path = ma.fields.List(ma.fields.String())


class ScenarioBodySchema(ma.Schema):
    """A test run kept with a process: what to do (as for simulate, without the definition) and how it ends."""

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    start = ma.fields.Nested(SimulatedStartSchema, load_default=dict)
    steps = ma.fields.List(ma.fields.Nested(SimulatedStepSchema), load_default=list,
                           validate=validate.Length(max=500))
    advance = ma.fields.String(validate=validate.Length(min=2, max=40))
    expect = ma.fields.Nested(ScenarioExpectSchema, required=True)


class ScenarioSchema(ma.Schema):
    """A saved scenario."""

    name = ma.fields.String()
    run = ma.fields.Dict(metadata={"description": "{start, steps, advance?}"})
    expect = ma.fields.Dict()
    created_by = ma.fields.String(data_key="createdBy")
    created_at = ma.fields.DateTime(data_key="createdAt")


class SimulationSchema(ma.Schema):
    """What the test run did: the nodes in the order they ran, where it waits, and what would have happened."""

    status = ma.fields.String(validate=validate.OneOf(["waiting", "completed", "failed"]))
    path = ma.fields.List(ma.fields.String())
    waiting_at = ma.fields.List(ma.fields.String(), data_key="waitingAt")
    effects = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "tasks (for whom), e-mails, webhooks, notices, timers, escalations and calls, in order"})
    data = ma.fields.Raw(metadata={"description": "the request's data at the end"})
    clock = ma.fields.String(metadata={"description": "the simulated time at the end"})
    outcome = ma.fields.String(allow_none=True)
    error = ma.fields.String()


class DefinitionVersionSchema(CamelSchema):
    """One numbered version of a process."""

    key = ma.fields.String()
    version = ma.fields.Integer()
    status = ma.fields.String(validate=validate.OneOf(list(DefinitionStatus)))
    name = ma.fields.String()
    checksum = ma.fields.String()
    created_by = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    published_by = ma.fields.String(allow_none=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    retired_at = ma.fields.AwareDateTime(allow_none=True)
    start_form = ma.fields.Method("_start_form", metadata={
        "description": "the id of the start form (GET /api/forms/{id}), or null: starting takes no input",
        "type": "string", "nullable": True})

    @staticmethod
    def _start_form(definition: Any) -> str | None:
        for node in (getattr(definition, "body", None) or {}).get("nodes", []):
            if isinstance(node, dict) and node.get("type") == NodeType.START:
                form = (node.get("data") or {}).get("form")
                return form if isinstance(form, str) else None
        return None


class DefinitionDetailSchema(DefinitionVersionSchema):
    """A version with its WorkflowDefinition."""

    definition = ma.fields.Dict(attribute="body")


class FormSchema(ma.Schema):
    """A form: its JSON Schema, layout hints and outcome rules, for clients drawing their own screens."""

    id = ma.fields.String()
    title = ma.fields.String()
    schema = ma.fields.Dict(metadata={"description": "JSON Schema 2020-12 of the data"})
    rules = ma.fields.List(ma.fields.Dict(), metadata={"description": "[{if: {outcome|field: value}, require: [...]}]"})
    ui = ma.fields.Dict(metadata={"description": "order, widgets (textarea, radio, current-user…), readOnly"})
    version = ma.fields.Integer(metadata={"description": "which version of the form this is"})


class FormBodySchema(ma.Schema):
    """A form document: a new draft version of its id (or the draft's replacement). Its schema, rules and ui
    are checked as the form loads, each problem at its path (``$.schema.properties.price.minimum``)."""

    id = ma.fields.String(required=True, metadata={"description": "the form id, as definitions name it"})
    title = ma.fields.String(required=True)
    schema = ma.fields.Dict(required=True, metadata={"description": "JSON Schema 2020-12 of type object"})
    rules = ma.fields.List(ma.fields.Dict(), load_default=list)
    ui = ma.fields.Dict(load_default=dict)


class FormLineSchema(CamelSchema):
    """A form in the list of forms: its newest version and the version processes published now pin."""

    id = ma.fields.String(attribute="form_id")
    title = ma.fields.String()
    newest = ma.fields.Integer(metadata={"description": "the newest version number"})
    status = ma.fields.String(metadata={"description": "of the newest version: draft, published or retired"})
    published = ma.fields.Integer(allow_none=True, metadata={"description": "the version processes now pin"})
    updated_at = ma.fields.AwareDateTime(allow_none=True)
    updated_by = ma.fields.String()


class FormVersionSchema(CamelSchema):
    """One numbered version of a form, with the form."""

    id = ma.fields.String(attribute="form_id")
    version = ma.fields.Integer()
    status = ma.fields.String(validate=validate.OneOf(list(DefinitionStatus)))
    title = ma.fields.String()
    schema = ma.fields.Dict(attribute="schema_")
    rules = ma.fields.List(ma.fields.Dict())
    ui = ma.fields.Dict()
    created_by = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    published_by = ma.fields.String(allow_none=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)


class RetirementSchema(DefinitionDetailSchema):
    """A retired version, and what new instances start now."""

    new_instances_start = ma.fields.Integer(allow_none=True, metadata={
        "description": "the version new instances of the process start from now on; null: it cannot be started"})


class RetireQuerySchema(QuerySchema):
    """How to retire the newest published version."""

    fallback = ma.fields.Boolean(load_default=False, metadata={
        "description": "retire the newest published version even though new instances then start an older one"})


class MigrationQuerySchema(QuerySchema):
    """Plan or carry out a move of running instances."""

    dry_run = ma.fields.Boolean(data_key="dryRun", load_default=False, metadata={
        "description": "report which instances would move and which cannot, and move none"})


class MigrationBodySchema(ma.Schema):
    """Which instances move, from which version to which, with the nodes that changed id."""

    from_version = ma.fields.Integer(data_key="fromVersion", required=True, validate=validate.Range(min=1))
    to_version = ma.fields.Integer(data_key="toVersion", required=True, validate=validate.Range(min=1))
    node_mapping = ma.fields.Dict(data_key="nodeMapping", keys=ma.fields.String(validate=validate.Length(1, 200)),
                                  values=ma.fields.String(validate=validate.Length(1, 200)), load_default=dict,
                                  metadata={"description": "old node id -> node id in the new version"})
    instance_ids = ma.fields.List(ma.fields.String(validate=validate.Length(1, 36)), data_key="instanceIds",
                                  load_default=None, validate=validate.Length(1, 10_000),
                                  metadata={"description": "only these instances (default: every unfinished one)"})


class MovedSchema(CamelSchema):
    """An instance that moves (dry run) or moved."""

    instance_id = ma.fields.String()
    nodes = ma.fields.List(ma.fields.String(), metadata={"description": "where it waits in the old version"})
    to = ma.fields.List(ma.fields.String(), metadata={"description": "where it waits in the new version"})
    recreated = ma.fields.List(ma.fields.String(), metadata={
        "description": "nodes that changed: their open work is cancelled and made again as the new version says"})


class RefusedSchema(CamelSchema):
    """An instance that cannot move."""

    instance_id = ma.fields.String()
    nodes = ma.fields.List(ma.fields.String())
    reason = ma.fields.String()


class MigrationReportSchema(CamelSchema):
    """What a move does, or did."""

    key = ma.fields.String()
    from_version = ma.fields.Integer()
    to_version = ma.fields.Integer()
    dry_run = ma.fields.Boolean()
    moved = ma.fields.List(ma.fields.Nested(MovedSchema))
    refused = ma.fields.List(ma.fields.Nested(RefusedSchema))


class DefinitionListQuerySchema(QuerySchema):
    """Filters for the process list."""

    status = ma.fields.String(validate=validate.OneOf(list(DefinitionStatus)))


# --- tasks ---------------------------------------------------------------------------------------

class TaskSchema(CamelSchema):
    """A human task."""

    id = ma.fields.String()
    instance_id = ma.fields.String()
    node_id = ma.fields.String()
    definition_key = ma.fields.String()
    title = ma.fields.String()
    form_id = ma.fields.String(allow_none=True)
    assignee = ma.fields.String(allow_none=True)
    delegated_by = ma.fields.String(allow_none=True, metadata={"description": "whom the assignee acts for"})
    candidate_users = ma.fields.List(ma.fields.String())
    candidate_groups = ma.fields.List(ma.fields.String())
    outcomes = ma.fields.List(ma.fields.String())
    priority = ma.fields.Integer()
    due_at = ma.fields.AwareDateTime(allow_none=True)
    status = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    completed_by = ma.fields.String(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    data = ma.fields.Dict(allow_none=True)
    revision = ma.fields.Integer()
    item = ma.fields.Raw(allow_none=True, metadata={"description": "forEach: the item of the list this task is for"})
    item_index = ma.fields.Integer(allow_none=True)


class CommentSchema(CamelSchema):
    """A remark on a task."""

    id = ma.fields.Integer()
    author = ma.fields.String()
    body = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class AttachmentSchema(CamelSchema):
    """A file added to a request; its bytes are at ``/api/attachments/{id}``."""

    id = ma.fields.String()
    instance_id = ma.fields.String()
    task_id = ma.fields.String(metadata={"description": "the task it was added on"})
    filename = ma.fields.String()
    content_type = ma.fields.String(metadata={"description": "what the content was found to be"})
    size = ma.fields.Integer(metadata={"description": "bytes"})
    sha256 = ma.fields.String(metadata={"description": "of the content, hex"})
    added_by = ma.fields.String()
    added_at = ma.fields.AwareDateTime()


class NewAttachmentSchema(ma.Schema):
    """A file to add, as multipart/form-data."""

    file = Upload(required=True, metadata={"description": "PDF, images, text, CSV or office documents; at most "
                                                          "BPM_MAX_ATTACHMENT_BYTES (10 MiB by default)"})


class IncidentSchema(CamelSchema):
    """A job that failed too often and waits for an admin."""

    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "timer | escalation | retry | continuation"})
    status = ma.fields.String()
    instance_id = ma.fields.String()
    node_id = ma.fields.String(allow_none=True)
    task_id = ma.fields.String(allow_none=True)
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    due_at = ma.fields.AwareDateTime()
    created_at = ma.fields.AwareDateTime()


class NotificationSchema(CamelSchema):
    """A notice in the caller's bell."""

    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "task-assigned | task-offered | reminder | escalation | "
                                                     "request-finished | notify"})
    title = ma.fields.String()
    body = ma.fields.String()
    link = ma.fields.String(allow_none=True)
    instance_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class DirectoryQuerySchema(PagedQuerySchema):
    """What to look for: a few letters of a name or display name."""

    q = ma.fields.String(load_default="", validate=validate.Length(max=100),
                         metadata={"description": "letters the name or display name holds (any case)"})


class PersonLineSchema(CamelSchema):
    """A person as a picker shows them: never an e-mail or a role."""

    username = ma.fields.String()
    display_name = ma.fields.String()
    groups = ma.fields.List(ma.fields.String())


class GroupLineSchema(CamelSchema):
    """A group as a picker shows it."""

    name = ma.fields.String()
    display_name = ma.fields.String()


class NotificationQuerySchema(PagedQuerySchema):
    """Which notices to list."""

    unread = ma.fields.Boolean(load_default=False, metadata={"description": "only the unread ones"})


class MarkReadSchema(ma.Schema):
    """Which notices to mark read: some by id, or all."""

    ids = ma.fields.List(ma.fields.Integer(validate=validate.Range(min=1)), validate=validate.Length(max=500))
    all = ma.fields.Boolean(load_default=False)

    @ma.validates_schema
    def _which(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("all") and "ids" not in data:
            raise ma.ValidationError("say which: ids (a list of notice ids) or all: true", "ids")


class UnreadSchema(ma.Schema):
    """How many notices are unread."""

    unread = ma.fields.Integer()


class NotificationSettingsSchema(ma.Schema):
    """Per kind of notice: now (e-mail at once), digest (a daily e-mail) or in-app (the bell only)."""

    modes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


class DeadLetterSchema(CamelSchema):
    """A message that failed every delivery attempt."""

    id = ma.fields.String()
    kind = ma.fields.String()
    channel = ma.fields.String()
    recipients = ma.fields.List(ma.fields.String())
    subject = ma.fields.String()
    instance_id = ma.fields.String()
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    delivered = ma.fields.List(ma.fields.String(), allow_none=True)
    created_at = ma.fields.AwareDateTime()


class ChainBreakSchema(CamelSchema):
    """Where a history chain is broken, and how."""

    chain = ma.fields.String(metadata={"description": "the instance whose chain it is"})
    position = ma.fields.Integer(allow_none=True)
    entry_id = ma.fields.Integer(allow_none=True)
    problem = ma.fields.String()


class VerificationSchema(CamelSchema):
    """What recomputing the history's chains found."""

    intact = ma.fields.Boolean()
    chains = ma.fields.Integer()
    entries = ma.fields.Integer()
    anchors = ma.fields.Integer()
    broken = ma.fields.List(ma.fields.Nested(ChainBreakSchema))


class VerifyQuerySchema(QuerySchema):
    """Which chain to check (default: all)."""

    instance_id = ma.fields.String(validate=validate.Length(min=1, max=36))
    since = ma.fields.AwareDateTime(default_timezone=dt.UTC, metadata={
        "description": "only the chains of instances with an event since then (the admin chain always)"})


class TaskDetailSchema(TaskSchema):
    """A task with its form and comments."""

    form = ma.fields.Dict(allow_none=True)
    comments = ma.fields.List(ma.fields.Nested(CommentSchema))
    prefill = ma.fields.Dict(metadata={"description": "the values the form opens with (the node's prefill fields, "
                                                      "from the request's data as it stands)"})


class TaskQuerySchema(PagedQuerySchema):
    """Which tasks to list."""

    scope = ma.fields.String(load_default="available",
                             validate=validate.OneOf(SCOPES),
                             metadata={"description": "available: mine or offered to me; candidate: "
                                                      "offered to me and unclaimed; all: admins only"})
    status = ma.fields.String(load_default=TaskStatus.OPEN.value, validate=validate.OneOf(list(TaskStatus)))
    instance_id = ma.fields.String()
    definition_key = ma.fields.String()
    text = ma.fields.String(validate=validate.Length(min=1, max=200),
                            metadata={"description": "words in the title or the business key (any case)"})
    min_priority = ma.fields.Integer(validate=validate.Range(min=0, max=100))
    due_before = ma.fields.AwareDateTime(metadata={"description": "only tasks due before this time"})
    sort = ma.fields.String(load_default="urgency", validate=validate.OneOf(list(ORDERS)),
                            metadata={"description": "urgency (priority, then due date), due, newest or oldest"})


class CompleteTaskSchema(ma.Schema):
    """How a task was completed: the outcome and the form data."""

    outcome = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=100))
    data = ma.fields.Dict(load_default=dict)
    behalf_reason = ma.fields.String(data_key="behalfReason", load_default=None, metadata={
        "description": "admins: decide it on behalf of whoever it waits for, saying why (recorded)"})


class DelegateTaskSchema(ma.Schema):
    """Who takes the task over."""

    to = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))


class ReassignTaskSchema(ma.Schema):
    """Who gets the task, and why (kept in the history)."""

    to = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = ma.fields.String(load_default=None, validate=validate.Length(max=1000))


class NewCommentSchema(ma.Schema):
    """A new remark."""

    body = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))


# --- instances -----------------------------------------------------------------------------------

class StartInstanceSchema(CamelSchema):
    """What to start, and the start form's data."""

    definition = ma.fields.String(required=True, validate=validate.Length(min=1, max=100),
                                  metadata={"description": "the process key; its newest published version starts"})
    business_key = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=200))
    payload = ma.fields.Dict(load_default=dict, metadata={"description": "the start form's data"})


class InstanceSchema(CamelSchema):
    """A process instance."""

    id = ma.fields.String()
    definition_key = ma.fields.String()
    definition_version = ma.fields.Integer()
    business_key = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    current_node_id = ma.fields.String(allow_none=True)
    started_by = ma.fields.String()
    started_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    error = ma.fields.String(allow_none=True)
    revision = ma.fields.Integer()
    parent_id = ma.fields.String(allow_none=True, metadata={"description": "the instance whose call step started it"})
    parent_node_id = ma.fields.String(allow_none=True, metadata={"description": "that call step"})


class ChildInstanceSchema(CamelSchema):
    """A sub-process a call step started."""

    id = ma.fields.String()
    definition_key = ma.fields.String()
    definition_version = ma.fields.Integer()
    parent_node_id = ma.fields.String()
    status = ma.fields.String()
    outcome = ma.fields.String(allow_none=True)


class AuditInstanceSchema(InstanceSchema):
    """An instance as the auditor's search lists it."""

    purged_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "when retention removed its data"})
    held = ma.fields.Boolean(metadata={"description": "under a legal hold: retention keeps it"})


_SEARCH_FIELDS = {
    "process": "the process key", "version": "its version", "status": "the instance's status",
    "business_key": "the business key, exactly", "person": "a user name: started it, acted on it or was assigned",
    "role": "what the person did: any (default), started, acted, assigned",
    "node": "a node the instance passed through", "from": "started on or after this day (YYYY-MM-DD, UTC)",
    "to": "started on or before this day", "outcome": "the end outcome",
    "q": "part of a word (3 letters or more, any case): in the business key, the start form's text, a step's "
         "title or a decision's text",
}


class AuditSearchQuerySchema(PagedQuerySchema):
    """The auditor's search. Besides these, ``data.FIELD=text`` (equal, case aside), ``data.FIELD.min=N`` and
    ``data.FIELD.max=N`` filter on what the process's forms took (the process must be given)."""

    class Meta:
        unknown = ma.INCLUDE

    process = ma.fields.String(metadata={"description": _SEARCH_FIELDS["process"]})
    version = ma.fields.String(metadata={"description": _SEARCH_FIELDS["version"]})
    status = ma.fields.String(metadata={"description": _SEARCH_FIELDS["status"]})
    business_key = ma.fields.String(metadata={"description": _SEARCH_FIELDS["business_key"]})
    person = ma.fields.String(metadata={"description": _SEARCH_FIELDS["person"]})
    role = ma.fields.String(metadata={"description": _SEARCH_FIELDS["role"]})
    node = ma.fields.String(metadata={"description": _SEARCH_FIELDS["node"]})
    from_ = ma.fields.String(data_key="from", metadata={"description": _SEARCH_FIELDS["from"]})
    to = ma.fields.String(metadata={"description": _SEARCH_FIELDS["to"]})
    outcome = ma.fields.String(metadata={"description": _SEARCH_FIELDS["outcome"]})
    q = ma.fields.String(metadata={"description": _SEARCH_FIELDS["q"]})


class LegalHoldSchema(CamelSchema):
    """An instance retention keeps, and why."""

    instance_id = ma.fields.String()
    reason = ma.fields.String()
    set_by = ma.fields.String()
    set_at = ma.fields.AwareDateTime()


class HoldReasonSchema(CamelSchema):
    """Why a legal hold is set or lifted (it goes into the admin chain)."""

    reason = ma.fields.String(required=True, validate=validate.Length(min=3, max=500))


class AuditExportQuerySchema(AuditSearchQuerySchema):
    """What to export: one instance, or everything a search matches."""

    format = ma.fields.String(load_default="json", validate=validate.OneOf(["csv", "json"]),
                              metadata={"description": "csv: one row per history entry; json: chains with their "
                                                       "hashes and anchors, for `bpm audit verify --file`"})
    instance_id = ma.fields.String(validate=validate.Length(min=1, max=36),
                                   metadata={"description": "only this instance (the search is then ignored)"})


class InstanceDetailSchema(InstanceSchema):
    """An instance with its engine snapshot and open tasks."""

    snapshot = ma.fields.Dict(metadata={"description": "the engine snapshot in Refluxo's wire format"})
    open_tasks = ma.fields.List(ma.fields.Nested(TaskSchema))
    data = ma.fields.Dict(metadata={"description": "the request's data as it stands (data.<field> in expressions): "
                                                   "the start form's values with what later steps wrote"})
    at_nodes = ma.fields.List(ma.fields.String(), metadata={
        "description": "every node the instance is at now: one, or one per parallel branch"})
    children = ma.fields.List(ma.fields.Nested(ChildInstanceSchema), metadata={
        "description": "the sub-processes its call steps started"})


class InstanceQuerySchema(PagedQuerySchema):
    """Filters for the instance list."""

    status = ma.fields.String(validate=validate.OneOf(list(InstanceStatus)))
    definition_key = ma.fields.String()
    business_key = ma.fields.String()
    started_by = ma.fields.String()


class CancelInstanceSchema(ma.Schema):
    """Why the instance is cancelled."""

    reason = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))


class RepairInstanceSchema(ma.Schema):
    """Where to move a stranded instance, and why."""

    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=1000))
    version = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                                metadata={"description": "a published version of the same process; default: its own"})
    node = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200),
                            metadata={"description": "the node to run from; default: where it stopped"})


class HistoryEntrySchema(CamelSchema):
    """One event of an instance: a snapshot revision, or a task event (claim, delegation, comment, ...)."""

    revision = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    actor = ma.fields.String()
    on_behalf_of = ma.fields.String(allow_none=True)
    cause = ma.fields.String()
    node_id = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    snapshot_version = ma.fields.Integer(allow_none=True, metadata={"description": "null for a task event"})
    delta = ma.fields.Dict()
    task_id = ma.fields.String(allow_none=True)
    changes = ma.fields.Dict(allow_none=True, metadata={"description": "field -> [old, new], for a task event"})
    position = ma.fields.Integer(allow_none=True, metadata={"description": "its place in the instance's hash chain"})
    prev_hash = ma.fields.String(allow_none=True, metadata={"description": "the SHA-256 of the entry before"})
    entry_hash = ma.fields.String(allow_none=True, metadata={
        "description": "the SHA-256 of its canonical JSON (docs/audit.md): recompute it to check the entry"})


class HealthSchema(ma.Schema):
    """Whether the service and its database answer."""

    status = ma.fields.String()
    database = ma.fields.String()
    version = ma.fields.String()


def with_related(record: Any, **related: Any) -> dict[str, Any]:
    """A stored model's columns plus related facts its schema shows beside them (open tasks, form, comments).

    A record alone needs no conversion: the schemas read its attributes.
    """
    return {**{name: getattr(record, name) for name in type(record).model_fields}, **related}


# --- absences ------------------------------------------------------------------------------------------------

class AbsenceBodySchema(ma.Schema):
    """An absence to record. Checked by the runtime (``bpm.runtime.absences``), which names each wrong field."""

    class Meta:
        unknown = ma.RAISE

    from_ = ma.fields.Raw(data_key="from", required=True, metadata={
        "type": "string", "format": "date", "description": "the first day away (ISO date)"})
    to = ma.fields.Raw(required=True, metadata={
        "type": "string", "format": "date", "description": "the last day away, included"})
    substitute = ma.fields.Raw(required=True, metadata={"type": "string", "description": "who stands in"})
    processes = ma.fields.Raw(allow_none=True, metadata={
        "type": "array", "items": {"type": "string"}, "description": "process keys it covers (none: all)"})
    existing_tasks = ma.fields.Raw(data_key="existingTasks", metadata={
        "type": "boolean", "description": "the substitute sees the tasks already waiting too (default true)"})
    person = ma.fields.Raw(metadata={
        "type": "string", "description": "whose absence (HR and admins only; default: yours)"})


class AbsenceQuerySchema(PagedQuerySchema):
    """Whose absences, and whether those that have ended are listed too."""

    person = ma.fields.String(load_default=None, validate=validate.Length(max=100),
                              metadata={"description": "one person's (HR and admins: anyone's)"})
    ended = ma.fields.Boolean(load_default=False, metadata={"description": "also those that have ended"})


class AbsenceSchema(ma.Schema):
    """A recorded absence."""

    id = ma.fields.String()
    person = ma.fields.String()
    substitute = ma.fields.String()
    from_ = ma.fields.String(data_key="from", attribute="from")
    to = ma.fields.String()
    processes = ma.fields.List(ma.fields.String(), allow_none=True)
    existing_tasks = ma.fields.Boolean(data_key="existingTasks", attribute="existingTasks")
    created_by = ma.fields.String(data_key="createdBy", attribute="createdBy")
