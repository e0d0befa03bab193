"""What is wrong with a definition before it is saved or published: the engine's checks, and the service's own
(forms that exist, exits that lead somewhere, tasks someone can act on, limits, calendars, webhooks, access).

Errors stop a save; warnings are said and let it through. The designer shows them while a person edits; the
API's validate and the CLI's validate call ``validate``.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from bpm import outbound
from bpm.engine import NodeRole, Problem, WorkflowDefinition, nodes_with_role, validate_definition
from bpm.engine.definition import parse_definition
from bpm.engine.expressions.reads import field_read
from bpm.engine.expressions.template import has_expression, iter_expressions
from bpm.engine.roles import role_of
from bpm.errors import shown
from bpm.nodes import NodeType
from bpm.nodes.votes import rejects
from bpm.runtime import form_versions
from bpm.runtime.flow_checks import flow_problems, node_name
from bpm.runtime.notices import INSTANCE_EVENTS
from bpm.runtime.people_checks import people_problems
from bpm.runtime.policy import decides
from bpm.runtime.read_checks import read_problems
from bpm.runtime.runtime import Runtime
from bpm.store.uow import UnitOfWork

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
RESERVED_KEYS = frozenset({"nodes", "forms", "new", "import"})
"""Keys the designer's pages use as paths (/designer/nodes), so no process can be named so."""


def check(rt: Runtime, body: Any, uow: UnitOfWork | None = None) -> list[Problem]:
    """Every problem in ``body``: engine rules, process rules (one start, form references), exits and ends,
    what expressions read, the people and groups it names.

    Portability to Refluxo's TypeScript engine is checked too: its findings are warnings (a
    definition that uses our transforms is fine here), shown wherever a definition is validated.
    ``uow`` is the caller's unit of work, when it has one, for the look-ups in the directory.
    """
    if uow is None:
        with rt.uow() as own:
            return check(rt, body, own)
    form_versions.refresh(rt, uow)  # a form published by another server since is known here too
    problems: list[Problem] = []
    loaded = parse_definition(body, problems)
    if loaded is None:
        return problems
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not KEY_PATTERN.match(body["id"]):
        problems.append(Problem("$.id", "the process key: lowercase letters, digits, '-' and '_', "
                                        "at most 100 characters"))
    elif body["id"] in RESERVED_KEYS:
        problems.append(Problem("$.id", f"'{body['id']}' is taken by the designer's pages; choose another key"))
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        problems.append(Problem("$.name", "a process needs a name"))
    starts = [n.id for n in nodes_with_role(loaded.nodes, rt.node_types, NodeRole.START)]
    problems.extend(validate_definition(loaded, rt.node_types, start_node_ids=starts or None, portable=True))
    if len(starts) != 1:
        problems.append(Problem("$.nodes", f"a process needs exactly one start node, found {len(starts)}"))
    problems.extend(_form_problems(rt, loaded))
    problems.extend(flow_problems(loaded, rt.node_types))
    problems.extend(read_problems(loaded, rt.node_types, rt.forms))
    problems.extend(people_problems(loaded, rt.node_types, uow, bool(rt.settings.oidc_issuer)))
    problems.extend(_audience_problems(loaded))
    problems.extend(_form_limit_problems(rt, loaded))
    problems.extend(_access_problems(body, loaded))
    problems.extend(_calendar_problems(rt, body, loaded))
    problems.extend(_webhook_problems(rt, body))
    problems.extend(_notify_target_problems(rt, loaded))
    problems.extend(_four_eyes_by_choice(rt, loaded))
    problems.extend(_oversized_templates(rt, loaded))
    problems.extend(_retention_problems(body))
    return problems


def shape_errors(problems: list[Problem], body: Any) -> list[Problem]:
    """Of ``check``'s ``problems``, those that leave no draft to work on: a body that does not load, clashing
    ids, edges to nowhere, no usable key or name. A draft keeps every other problem until it is published."""
    shape: list[Problem] = []
    parse_definition(body, shape)
    header = [p for p in problems if p.severity == "error" and p.path in ("$.id", "$.name")]
    return [p for p in shape if p.severity == "error"] + header


def _retention_problems(body: Any) -> list[Problem]:
    """``historyTimeToLive``: whole days after an instance ends before retention may purge its data."""
    days = body.get("historyTimeToLive") if isinstance(body, dict) else None
    if days is None or (isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= 36_500):
        return []
    return [Problem("$.historyTimeToLive", "historyTimeToLive is a whole number of days from 0 to 36500 "
                                           "(how long a finished instance's data is kept)")]


def _oversized_templates(rt: Runtime, definition: WorkflowDefinition) -> list[Problem]:
    """A text with expressions longer than BPM_MAX_TEMPLATE_BYTES: every step that renders it pays for it, in the
    request of whoever moves the process on (a 900 KB template cost 5 s of CPU a start)."""
    limit = rt.settings.max_template_bytes
    found = []
    for i, node in enumerate(definition.nodes):
        for path, text in iter_expressions(node.data, f"$.nodes[{i}].data"):
            size = len(text.encode())
            if size > limit:
                found.append(Problem(path, f"{node_name(node)} has a text with expressions of {size:,} bytes, over "
                                           f"the limit of {limit:,} (BPM_MAX_TEMPLATE_BYTES)"))
    return found


def _four_eyes_by_choice(rt: Runtime, definition: WorkflowDefinition) -> list[Problem]:
    """Tasks where four-eyes holds only because they offer a choice (none of their outcomes is called reject…,
    deny…): it does hold — the requester may not decide her own request — and saying so at the node makes it
    plain to whoever reads the process."""
    if definition.extra.get("fourEyes") is False:
        return []
    found = []
    for i, node in enumerate(definition.nodes):
        data = node.data if isinstance(node.data, dict) else {}
        outcomes = data.get("outcomes") if isinstance(data.get("outcomes"), list) else []
        if role_of(rt.node_types.get(node.type)) != NodeRole.HUMAN_TASK or "fourEyes" in data \
                or data.get("approvers") or not decides(outcomes) or any(rejects(str(o)) for o in outcomes):
            continue
        found.append(Problem(f"$.nodes[{i}].data.outcomes", (
            f"{node_name(node)} offers a choice ({', '.join(map(str, outcomes))}), so four-eyes holds there: the "
            "requester may not decide her own request; say fourEyes: true to make that plain, or fourEyes: "
            "false if she may"), "warning"))
    return found


def _notify_target_problems(rt: Runtime, definition: WorkflowDefinition) -> list[Problem]:
    """A notify step's webhook targets: written in the definition, never computed, never the service's own."""
    found = []
    for i, node in enumerate(definition.nodes):
        data = node.data if isinstance(node.data, dict) else {}
        if node.type != NodeType.NOTIFY or data.get("channel") != "webhook":
            continue
        targets = data.get("to")
        for j, url in enumerate([targets] if isinstance(targets, str) else targets if isinstance(targets, list)
                                else []):
            said = outbound.literal_problem(rt.settings, url) if isinstance(url, str) else "a URL"
            if said:
                path = f"$.nodes[{i}].data.to" + ("" if isinstance(targets, str) else f"[{j}]")
                found.append(Problem(path, f"{node_name(node)} posts to {shown(url) if isinstance(url, str) else url}: "
                                           f"{said}"))
    return found


def _webhook_problems(rt: Runtime, body: Any) -> list[Problem]:
    """``webhooks: [{url, events?}]``: where the process's instance events are POSTed (signed), and which."""
    hooks = body.get("webhooks") if isinstance(body, dict) else None
    if hooks is None:
        return []
    if not isinstance(hooks, list) or len(hooks) > 20:
        return [Problem("$.webhooks", "webhooks: a list (at most 20) of {url, events?}")]
    found = []
    for i, hook in enumerate(hooks):
        url = hook.get("url") if isinstance(hook, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000 \
                or any(c in url for c in " \n\r\t"):
            found.append(Problem(f"$.webhooks[{i}].url", "an http(s) URL the events are POSTed to"))
        elif outbound.literal_problem(rt.settings, url):
            found.append(Problem(f"$.webhooks[{i}].url", str(outbound.literal_problem(rt.settings, url))))
        events = hook.get("events", list(INSTANCE_EVENTS)) if isinstance(hook, dict) else None
        if not isinstance(events, list) or not events or not set(events) <= set(INSTANCE_EVENTS):
            found.append(Problem(f"$.webhooks[{i}].events", f"some of: {', '.join(INSTANCE_EVENTS)}"))
        if isinstance(hook, dict) and set(hook) - {"url", "events"}:
            found.append(Problem(f"$.webhooks[{i}]", "a webhook has a url and, optionally, events"))
    return found


def _calendar_problems(rt: Runtime, body: Any, definition: WorkflowDefinition) -> list[Problem]:
    """A calendar a process or node counts in must exist (``calendars/``), named as it is, not computed."""
    named = [("$.calendar", body.get("calendar"))] if isinstance(body, dict) and "calendar" in body else []
    named += [(f"$.nodes[{i}].data.calendar", node.data["calendar"]) for i, node in enumerate(definition.nodes)
              if isinstance(node.data, dict) and "calendar" in node.data]
    known = ", ".join(sorted(rt.calendars.calendars)) or "none are configured (calendars/*.json)"
    return [Problem(where, f"no calendar {value!r}; the calendars: {known}") for where, value in named
            if not isinstance(value, str) or value not in rt.calendars]


def _access_problems(body: Any, definition: WorkflowDefinition) -> list[Problem]:
    """``startableBy``, ``fourEyes`` and ``distinctFrom`` say who may act; a typo there must not open a hole."""
    found = []
    startable = body.get("startableBy") if isinstance(body, dict) else None
    if startable is not None and not (
            isinstance(startable, dict) and startable and set(startable) <= {"users", "groups"}
            and all(isinstance(v, list) and all(isinstance(n, str) and n for n in v) for v in startable.values())):
        found.append(Problem("$.startableBy", "startableBy: {users?: [user names], groups?: [group names]}, "
                                              "at least one of them"))
    for flag in ("fourEyes", "requesterMayCancel"):
        if isinstance(body, dict) and flag in body and not isinstance(body[flag], bool):
            found.append(Problem(f"$.{flag}", f"{flag} is true or false"))
    tasks = {n.id for n in definition.nodes if n.type == NodeType.HUMAN_TASK}
    for i, node in enumerate(definition.nodes):
        others = node.data.get("distinctFrom") if isinstance(node.data, dict) else None
        for j, other in enumerate(others if isinstance(others, list) else ()):
            if isinstance(other, str) and (other not in tasks or other == node.id):
                found.append(Problem(f"$.nodes[{i}].data.distinctFrom[{j}]",
                                     f"'{other}' is not another human task of this process"))
    return found


def _form_limit_problems(rt: Runtime, definition: WorkflowDefinition) -> list[Problem]:
    """Warn where a start form field, read straight into node data, may be longer than that data field takes.

    ``"assignee": "{{ submit.last.data.manager }}"`` fails the instance at that
    node if someone types a 150-character manager; the form is where to stop it.
    """
    start = next(iter(nodes_with_role(definition.nodes, rt.node_types, NodeRole.START)), None)
    form_id = start.data.get("form") if start is not None and isinstance(start.data, dict) else None
    if not isinstance(form_id, str) or form_id not in rt.forms:
        return []
    fields = rt.forms.get(form_id).schema.get("properties", {})
    found = []
    for i, node in enumerate(definition.nodes):
        node_type = rt.node_types.get(node.type)
        limits = (node_type.input_schema or {}).get("properties", {}) if node_type is not None else {}
        for key, value in (node.data.items() if isinstance(node.data, dict) else ()):
            field = field_read(value, start.id, start=True) if isinstance(value, str) else None
            longest = limits.get(key, {}).get("maxLength")
            if field is None or longest is None or not isinstance(fields.get(field), dict):
                continue
            allowed = fields[field].get("maxLength")
            if allowed is None or allowed > longest:
                found.append(Problem(f"$.nodes[{i}].data.{key}", (
                    f"node '{node.id}' takes at most {longest} characters here, but field '{field}' of form "
                    f"'{form_id}' allows {'any length' if allowed is None else allowed}: give the field "
                    f"maxLength {longest}, or an instance with a longer value fails at this node"), "warning"))
    return found


def _form_problems(rt: Runtime, definition: WorkflowDefinition) -> list[Problem]:
    found = []
    for i, node in enumerate(definition.nodes):
        form = node.data.get("form") if isinstance(node.data, dict) else None
        if isinstance(form, str) and not has_expression(form) and form not in rt.forms:
            found.append(Problem(f"$.nodes[{i}].data.form",
                                 f"node '{node.id}' uses form '{form}', which does not exist; "
                                 f"known forms: {', '.join(rt.forms.ids())}"))
    return found


def _audience_problems(definition: WorkflowDefinition) -> list[Problem]:
    """Human tasks offered to nobody: anyone may complete one, but it shows in no one's inbox (a warning)."""
    audience = ("assignee", "candidateUsers", "candidateGroups", "approvers")
    found = []
    for i, node in enumerate(definition.nodes):
        data = node.data if isinstance(node.data, dict) else {}
        if node.type == NodeType.HUMAN_TASK and not any(data.get(key) for key in audience):
            found.append(Problem(f"$.nodes[{i}].data", f"human task '{node.id}' names no assignee, candidate users "
                                 "or candidate groups: it will show in no one's inbox", "warning"))
    return found


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


class ValidationReport(NamedTuple):
    """Every problem of a definition; it can be saved and published when none is an error."""

    valid: bool
    problems: list[Problem]


def validate(rt: Runtime, body: Any) -> ValidationReport:
    """Check ``body`` without saving it (what the designer shows while editing)."""
    problems = check(rt, body)
    return ValidationReport(not errors_only(problems), problems)
