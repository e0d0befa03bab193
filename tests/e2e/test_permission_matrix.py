"""Every route of the app, for every kind of caller → the status the policy gives, and no effect when refused.

The callers: nobody (no identity), the requester (ann started the expense),
the assignee (bob, its approving manager), an unrelated employee (hana), a
designer (dana), the auditor (audrey) and an admin. The target: ann's expense
of 1500, waiting at bob's review. A route of the app that is missing from
``MATRIX`` fails the test: a new endpoint must say who may use it.
"""

from __future__ import annotations

import io
import json

import pytest

from ..conftest import EXPENSE, database_dump, wipe

PDF = b"%PDF-1.7\n%%EOF\n"

WHO = ("nobody", "ann", "bob", "hana", "dana", "audrey", "admin")
IID, TID, FID, JID, DID = "{instance}", "{task}", "{attachment}", "{incident}", "{dead}"
EVERYONE = {"ann", "bob", "hana", "dana", "audrey", "admin"}


def a_file() -> dict:
    """A multipart body with a file (a fresh stream per request)."""
    return {"file": (io.BytesIO(PDF), "receipt.pdf"), "csrf_token": "-"}


DRAFT = {"id": "purchase", "name": "Purchase", "nodes": [
    {"id": "s", "type": "start"}, {"id": "ok", "type": "human-task", "data": {"title": "ok", "assignee": "bob"}}],
    "edges": [{"id": "e", "source": "s", "target": "ok"}]}


def a_definition_file() -> dict:
    """A multipart body with a definition file (a fresh stream per request)."""
    content = json.dumps({**DRAFT, "id": "imported", "name": "Imported"}).encode()
    return {"file": (io.BytesIO(content), "imported.json"), "csrf_token": "-"}


def row(*codes: int) -> dict[str, int]:
    assert len(codes) == len(WHO)
    return dict(zip(WHO, codes, strict=True))


# (endpoint, method, url, body) -> status per caller, in the order of WHO.
MATRIX: list[tuple[str, str, str, object, dict[str, int]]] = [
    ("health.Health", "GET", "/api/health", None, row(200, 200, 200, 200, 200, 200, 200)),
    ("static", "GET", "/static/app.css", None, row(200, 200, 200, 200, 200, 200, 200)),
    ("api-docs.openapi_json", "GET", "/api/openapi.json", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("api-docs.openapi_swagger_ui", "GET", "/api/docs", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("definitions.Definitions", "GET", "/api/definitions", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("definitions.Definitions", "POST", "/api/definitions", DRAFT, row(401, 403, 403, 403, 201, 403, 201)),
    ("definitions.ValidateDefinition", "POST", "/api/definitions/validate", DRAFT,
     row(401, 200, 200, 200, 200, 200, 200)),
    ("definitions.DefinitionVersions", "GET", "/api/definitions/expense-approval", None,
     row(401, 200, 200, 200, 200, 200, 200)),
    ("definitions.DefinitionVersion", "GET", "/api/definitions/expense-approval/versions/1", None,
     row(401, 200, 200, 200, 200, 200, 200)),
    ("definitions.PublishDefinition", "POST", "/api/definitions/expense-approval/versions/1/publish", None,
     row(401, 403, 403, 403, 409, 403, 409)),
    ("definitions.RetireDefinition", "POST", "/api/definitions/expense-approval/versions/1/retire", None,
     row(401, 403, 403, 403, 200, 403, 200)),
    ("definitions.SimulateDefinition", "POST", "/api/definitions/simulate",
     {"definition": DRAFT, "start": {"data": {}}}, row(401, 403, 403, 403, 200, 403, 200)),
    ("definitions.Scenarios", "GET", "/api/definitions/expense-approval/scenarios", None,
     row(401, 403, 403, 403, 200, 403, 200)),
    ("definitions.Scenarios", "POST", "/api/definitions/expense-approval/scenarios",
     {"name": "matrix", "start": {"data": {}}, "expect": {"status": "waiting"}},
     row(401, 403, 403, 403, 201, 403, 201)),
    ("definitions.OneScenario", "DELETE", "/api/definitions/expense-approval/scenarios/none", None,
     row(401, 403, 403, 403, 404, 403, 404)),
    ("definitions.MigrateInstances", "POST", "/api/definitions/expense-approval/migrations?dryRun=true",
     {"fromVersion": 1, "toVersion": 1}, row(401, 403, 403, 403, 403, 403, 422)),
    ("instances.Instances", "GET", "/api/instances", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("instances.Instances", "POST", "/api/instances", {"definition": "expense-approval", "payload": {
        **EXPENSE, "manager": "dave"}}, row(401, 201, 201, 201, 201, 403, 201)),
    ("instances.Instance", "GET", f"/api/instances/{IID}", None, row(401, 200, 200, 404, 404, 200, 200)),
    ("instances.CancelInstance", "POST", f"/api/instances/{IID}/cancel", {}, row(401, 200, 403, 404, 404, 403, 200)),
    ("instances.RetryInstance", "POST", f"/api/instances/{IID}/retry", None, row(401, 403, 403, 404, 404, 403, 409)),
    ("instances.RepairInstance", "POST", f"/api/instances/{IID}/repair", {"reason": "matrix"},
     row(401, 403, 403, 404, 404, 403, 200)),
    ("instances.InstanceHistory", "GET", f"/api/instances/{IID}/history", None,
     row(401, 200, 200, 404, 404, 200, 200)),
    ("tasks.Tasks", "GET", "/api/tasks", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("directory.People", "GET", "/api/people?q=a", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("directory.Groups", "GET", "/api/groups?q=a", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("absences.Absences", "GET", "/api/absences", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("absences.Absences", "POST", "/api/absences", {"from": "2026-01-05", "to": "2026-01-09", "substitute": "dave"},
     row(401, 201, 201, 201, 201, 403, 201)),  # one's own absence, if one works on tasks (not audrey)
    ("absences.OneAbsence", "DELETE", "/api/absences/none", None, row(401, 404, 404, 404, 404, 404, 404)),
    ("admin.instance_search", "GET", "/admin/instances?status=paused&person=ann", None,
     row(302, 403, 403, 403, 403, 200, 200)),
    ("requests.request_page", "GET", f"/requests/{IID}", None, row(302, 200, 200, 404, 404, 200, 200)),
    ("requests.comment", "POST", f"/requests/{IID}/comments", {"body": "a remark"},
     row(401, 303, 303, 404, 404, 303, 303)),  # auditors: a 303 with "nothing to comment on", nothing written
    ("absence_pages.absences_page", "GET", "/absences", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("absence_pages.record", "POST", "/absences", {"from": "2026-01-05", "to": "2026-01-09", "substitute": "dave"},
     row(401, 303, 303, 303, 303, 403, 303)),
    ("absence_pages.remove", "POST", "/absences/none/remove", {}, row(401, 404, 404, 404, 404, 404, 404)),
    ("pickers.people_options", "GET", "/pickers/people?field=q&q=a", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("pickers.group_options", "GET", "/pickers/groups?field=q&q=f", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("forms.FormResource", "GET", "/api/forms/expense-request", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("forms.Forms", "GET", "/api/forms", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("forms.Forms", "POST", "/api/forms", {"id": "matrix", "title": "Matrix", "schema": {"type": "object"}},
     row(401, 403, 403, 403, 201, 403, 201)),
    ("forms.FormVersions", "GET", "/api/forms/expense-request/versions", None, row(401, 403, 403, 403, 200, 200, 200)),
    ("forms.FormVersionResource", "GET", "/api/forms/expense-request/versions/1", None,
     row(401, 200, 200, 200, 200, 200, 200)),
    ("forms.PublishForm", "POST", "/api/forms/expense-request/versions/1/publish", None,
     row(401, 403, 403, 403, 409, 403, 409)),
    ("forms.RetireForm", "POST", "/api/forms/expense-request/versions/1/retire", None,
     row(401, 403, 403, 403, 200, 403, 200)),
    ("tasks.TaskResource", "GET", f"/api/tasks/{TID}", None, row(401, 200, 200, 404, 404, 200, 200)),
    ("tasks.CompleteTask", "POST", f"/api/tasks/{TID}/complete", {"outcome": "approve"},
     row(401, 403, 200, 404, 404, 403, 403)),
    ("tasks.ClaimTask", "POST", f"/api/tasks/{TID}/claim", None, row(401, 409, 409, 404, 404, 409, 409)),
    ("tasks.UnclaimTask", "POST", f"/api/tasks/{TID}/unclaim", None, row(401, 403, 409, 404, 404, 403, 409)),
    ("tasks.DelegateTask", "POST", f"/api/tasks/{TID}/delegate", {"to": "dave"},
     row(401, 403, 200, 404, 404, 403, 403)),
    ("tasks.ReassignTask", "POST", f"/api/tasks/{TID}/reassign", {"to": "dave"},
     row(401, 403, 403, 404, 404, 403, 200)),
    ("tasks.TaskComments", "GET", f"/api/tasks/{TID}/comments", None, row(401, 200, 200, 404, 404, 200, 200)),
    ("tasks.TaskComments", "POST", f"/api/tasks/{TID}/comments", {"body": "a remark"},
     row(401, 201, 201, 404, 404, 403, 201)),
    ("attachments.TaskAttachments", "POST", f"/api/tasks/{TID}/attachments", a_file,
     row(401, 201, 201, 404, 404, 403, 201)),
    ("attachments.InstanceAttachments", "GET", f"/api/instances/{IID}/attachments", None,
     row(401, 200, 200, 404, 404, 200, 200)),
    ("attachments.AttachmentResource", "GET", f"/api/attachments/{FID}", None, row(401, 200, 200, 404, 404, 200, 200)),
    ("attachments.AttachmentResource", "DELETE", f"/api/attachments/{FID}", None,
     row(401, 403, 204, 404, 404, 403, 403)),  # only the one who added it
    ("incidents.Incidents", "GET", "/api/incidents", None, row(401, 403, 403, 403, 403, 200, 200)),
    ("audit.Verify", "GET", "/api/audit/verify", None, row(401, 403, 403, 403, 403, 200, 200)),
    ("audit.Search", "GET", "/api/audit/search?process=expense-approval", None,
     row(401, 403, 403, 403, 403, 200, 200)),
    ("audit.Export", "GET", f"/api/audit/export?format=csv&instanceId={IID}", None,
     row(401, 403, 403, 403, 403, 200, 200)),  # an export is recorded: the one change an auditor makes
    ("audit.Holds", "GET", "/api/audit/holds", None, row(401, 403, 403, 403, 403, 200, 200)),
    ("audit.Hold", "PUT", f"/api/audit/holds/{IID}", {"reason": "the matrix"}, row(401, 403, 403, 403, 403, 201, 201)),
    ("audit.Hold", "DELETE", f"/api/audit/holds/{IID}", {"reason": "the matrix"},
     row(401, 403, 403, 403, 403, 404, 404)),  # auditors may, but there is no hold to lift
    ("audit_pages.search_page", "GET", "/audit?process=expense-approval", None,
     row(302, 403, 403, 403, 403, 200, 200)),
    ("audit_pages.save_search", "POST", "/audit/searches", {"name": "matrix", "query": "status=paused"},
     row(401, 403, 403, 403, 403, 303, 303)),
    ("audit_pages.delete_search", "POST", "/audit/searches/delete", {"name": "matrix"},
     row(401, 403, 403, 403, 403, 303, 303)),
    ("audit_pages.instance_page", "GET", f"/audit/instances/{IID}", None, row(302, 403, 403, 403, 403, 200, 200)),
    ("audit_pages.set_hold", "POST", f"/audit/instances/{IID}/hold", {"reason": "the matrix"},
     row(401, 403, 403, 403, 403, 303, 303)),
    ("audit_pages.lift_hold", "POST", f"/audit/instances/{IID}/hold/lift", {"reason": "the matrix"},
     row(401, 403, 403, 403, 403, 303, 303)),  # nothing held: said so, nothing changed
    ("incidents.RetryIncident", "POST", f"/api/incidents/{JID}/retry", None, row(401, 403, 403, 404, 404, 403, 200)),
    ("notifications.Notifications", "GET", "/api/notifications", None, row(401, 200, 200, 200, 200, 200, 200)),
    ("notifications.MarkRead", "POST", "/api/notifications/read", {"all": True},
     row(401, 200, 200, 200, 200, 200, 200)),
    ("notifications.NotificationSettings", "GET", "/api/notifications/settings", None,
     row(401, 200, 200, 200, 200, 200, 200)),
    ("notifications.NotificationSettings", "PUT", "/api/notifications/settings", {"modes": {"reminder": "digest"}},
     row(401, 200, 200, 200, 200, 200, 200)),  # one's own settings: everyone may
    ("notifications.DeadLetters", "GET", "/api/notifications/dead-letters", None,
     row(401, 403, 403, 403, 403, 200, 200)),
    ("notifications.ResendDeadLetter", "POST", f"/api/notifications/dead-letters/{DID}/resend", None,
     row(401, 403, 403, 403, 403, 403, 200)),
    ("notices.notices_page", "GET", "/notifications", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("notices.unread_fragment", "GET", "/notifications/count", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("notices.follow_notice", "GET", "/notifications/1/open", None, row(302, 303, 303, 303, 303, 303, 303)),
    ("notices.open_notice", "POST", "/notifications/1/open", {}, row(401, 303, 303, 303, 303, 303, 303)),
    ("notices.mark_read", "POST", "/notifications/read", {"all": "yes"}, row(401, 303, 303, 303, 303, 303, 303)),
    ("notices.save_settings", "POST", "/notifications/settings", {"mode-reminder": "digest"},
     row(401, 303, 303, 303, 303, 303, 303)),
    ("sign_in.login", "GET", "/login", None, row(200, 200, 200, 200, 200, 200, 200)),
    ("sign_in.login_post", "POST", "/login", {"username": "ann", "password": "ann-demo"},
     row(403, 403, 403, 403, 403, 403, 403)),  # no CSRF token: refused whoever asks
    ("sign_in.oidc_login", "GET", "/login/sso", None, row(302, 302, 302, 302, 302, 302, 302)),  # no SSO here
    ("sign_in.oidc_callback", "GET", "/login/sso/callback", None, row(302, 302, 302, 302, 302, 302, 302)),
    ("sign_in.logout", "POST", "/logout", {}, row(401, 303, 303, 303, 303, 303, 303)),
    ("web.home", "GET", "/", None, row(302, 302, 302, 302, 302, 302, 302)),  # to the sign-in form, or the inbox
    ("inbox.task_list", "GET", "/inbox", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("inbox.open_count", "GET", "/inbox/count", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("inbox.save_view", "POST", "/inbox/views", {"name": "mine", "query": "view=group"},
     row(401, 303, 303, 303, 303, 303, 303)),
    ("inbox.delete_view", "POST", "/inbox/views/delete", {"name": "mine"}, row(401, 303, 303, 303, 303, 303, 303)),
    ("inbox.claim_selected", "POST", "/inbox/claim", {"task": TID}, row(401, 303, 303, 303, 303, 303, 303)),
    ("task_page.task_page", "GET", f"/tasks/{TID}", None, row(302, 200, 200, 404, 404, 200, 200)),
    ("task_page.submit_task", "POST", f"/tasks/{TID}", {"outcome": "approve"}, row(401, 403, 303, 404, 404, 403, 403)),
    ("task_page.claim", "POST", f"/tasks/{TID}/claim", {}, row(401, 409, 409, 404, 404, 409, 409)),
    ("task_page.unclaim", "POST", f"/tasks/{TID}/unclaim", {}, row(401, 403, 409, 404, 404, 403, 409)),
    ("task_page.delegate", "POST", f"/tasks/{TID}/delegate", {"to": "dave", "confirm": "yes"},
     row(401, 403, 303, 404, 404, 403, 403)),
    ("task_page.comment", "POST", f"/tasks/{TID}/comments", {"body": "a remark"},
     row(401, 303, 303, 404, 404, 403, 303)),
    ("files.add_attachment", "POST", f"/tasks/{TID}/attachments", a_file, row(401, 303, 303, 404, 404, 403, 303)),
    ("files.download_attachment", "GET", f"/attachments/{FID}", None, row(302, 200, 200, 404, 404, 200, 200)),
    ("files.remove_attachment", "POST", f"/attachments/{FID}/remove", {}, row(401, 303, 303, 404, 404, 303, 303)),
    ("starting.catalogue", "GET", "/start", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("starting.start_page", "GET", "/start/expense-approval", None, row(302, 200, 200, 200, 200, 403, 200)),
    ("starting.start", "POST", "/start/expense-approval", {"manager": "dave", "amount": "10", "currency": "EUR",
                                                         "description": "matrix"},
     row(401, 303, 303, 303, 303, 403, 303)),
    ("admin.overview", "GET", "/admin", None, row(302, 403, 403, 403, 403, 200, 200)),
    ("admin.retry", "POST", f"/admin/instances/{IID}/retry", {}, row(401, 303, 303, 303, 303, 303, 303)),
    ("admin.cancel", "POST", f"/admin/instances/{IID}/cancel", {}, row(401, 303, 303, 303, 303, 303, 303)),
    ("admin.repair", "POST", f"/admin/instances/{IID}/repair", {"reason": "matrix"},
     row(401, 303, 303, 303, 303, 303, 303)),  # refusals are said on the page it returns to
    ("admin.move_page", "GET", "/admin/move", None, row(302, 403, 403, 403, 403, 403, 200)),
    ("admin.move", "POST", "/admin/move", {"process": "expense-approval", "from": "1", "to": "2"},
     row(401, 303, 303, 303, 303, 303, 303)),
    ("admin.retry_incident", "POST", f"/admin/incidents/{JID}/retry", {}, row(401, 303, 303, 303, 303, 303, 303)),
    ("admin.resend", "POST", f"/admin/dead-letters/{DID}/resend", {}, row(401, 303, 303, 303, 303, 303, 303)),
    ("admin.reassign", "POST", f"/admin/tasks/{TID}/reassign", {"to": "dave"},
     row(401, 303, 303, 303, 303, 303, 303)),
    ("designer.catalogue", "GET", "/designer", None, row(302, 404, 404, 404, 200, 404, 200)),
    ("designer.nodes", "GET", "/designer/nodes", None, row(302, 404, 404, 404, 200, 404, 200)),
    ("designer.process", "GET", "/designer/expense-approval", None, row(302, 404, 404, 404, 200, 404, 200)),
    ("designer.export", "GET", "/designer/expense-approval/versions/1/export", None,
     row(302, 404, 404, 404, 200, 404, 200)),
    ("designer.new", "POST", "/designer/new", {"key": "matrix", "name": "Matrix"},
     row(401, 404, 404, 404, 303, 404, 303)),
    ("designer.duplicate", "POST", "/designer/expense-approval/versions/1/duplicate", {"key": "copy", "name": "Copy"},
     row(401, 404, 404, 404, 303, 404, 303)),
    ("designer.import_file", "POST", "/designer/import", a_definition_file, row(401, 404, 404, 404, 303, 404, 303)),
    ("designer.publish", "POST", "/designer/expense-approval/versions/1/publish", {"comment": "again"},
     row(401, 404, 404, 404, 303, 404, 303)),  # published already: said on the page, nothing changed
    ("designer.retire", "POST", "/designer/expense-approval/versions/1/retire", {},
     row(401, 404, 404, 404, 303, 404, 303)),
    ("editor.draft_json", "GET", "/designer/expense-approval/draft.json", None, row(302, 404, 404, 404, 200, 404, 200)),
    ("editor.save_canvas", "POST", "/designer/expense-approval/draft",
     {"revision": 7, "definition": {**DRAFT, "id": "expense-approval"}},
     row(401, 404, 404, 404, 412, 404, 412)),  # no draft at revision 7: nothing written
    ("editor.step", "GET", "/designer/expense-approval/steps/manager_review", None,
     row(302, 404, 404, 404, 200, 404, 200)),
    ("editor.save_step", "POST", "/designer/expense-approval/steps/manager_review", {"label": "x", "revision": "7"},
     row(401, 404, 404, 404, 303, 404, 303)),  # refused (no draft at revision 7): said on the page
    ("editor.check_step", "POST", "/designer/expense-approval/steps/manager_review/check",
     {"label": "x", "data.title": "x"}, row(401, 404, 404, 404, 200, 404, 200)),  # nothing written
    ("editor.add_step", "POST", "/designer/expense-approval/steps", {"type": "end", "label": "Also done"},
     row(401, 404, 404, 404, 303, 404, 303)),
    ("editor.remove_step", "POST", "/designer/expense-approval/steps/notify_rejected/remove", {},
     row(401, 404, 404, 404, 303, 404, 303)),
    ("editor.connect_exit", "POST", "/designer/expense-approval/steps/manager_review/exits",
     {"handle": "approve", "target": "rejected"}, row(401, 404, 404, 404, 303, 404, 303)),
    ("form_designer.forms", "GET", "/designer/forms", None, row(302, 404, 404, 404, 200, 404, 200)),
    ("form_designer.form_page", "GET", "/designer/forms/expense-request", None,
     row(302, 404, 404, 404, 200, 404, 200)),
    ("form_designer.new_form", "POST", "/designer/forms/new", {"id": "matrix-form", "title": "Matrix"},
     row(401, 404, 404, 404, 303, 404, 303)),
    ("form_designer.preview", "POST", "/designer/forms/expense-request/preview",
     {"title": "P", "rows": "0", "field.0.name": "a", "field.0.kind": "text"}, row(401, 404, 404, 404, 200, 404, 200)),
    ("form_designer.save_form", "POST", "/designer/forms/expense-request",
     {"title": "P", "rows": "0", "field.0.name": "a", "field.0.kind": "text", "act": "save"},
     row(401, 404, 404, 404, 303, 404, 303)),
    ("form_designer.publish_form", "POST", "/designer/forms/expense-request/versions/1/publish", {},
     row(401, 404, 404, 404, 303, 404, 303)),  # published already: said on the page
    ("try_it.try_page", "GET", "/designer/expense-approval/try", None, row(302, 404, 404, 404, 200, 404, 200)),
    ("try_it.try_run", "POST", "/designer/expense-approval/try", {"do": "start", "manager": "bob", "amount": "5",
                                                                "currency": "EUR", "description": "matrix"},
     row(401, 404, 404, 404, 200, 404, 200)),  # a test run: nothing written
    ("try_it.save_scenario", "POST", "/designer/expense-approval/try/scenario", {"run": "", "name": "matrix"},
     row(401, 404, 404, 404, 303, 404, 303)),
    ("drafts.save_draft", "POST", "/drafts/save", {"draft_key": "task:{task}", "comment": "half"},
     row(401, 403, 204, 404, 404, 403, 403)),
    ("drafts.discard_draft", "POST", "/drafts/discard", {"draft_key": "task:{task}"},
     row(401, 303, 303, 303, 303, 303, 303)),
    ("requests.my_requests", "GET", "/requests", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("requests.confirm_withdrawal", "GET", f"/requests/{IID}/withdraw", None, row(302, 200, 404, 404, 404, 404, 200)),
    ("requests.cancel_request", "POST", f"/requests/{IID}/cancel", {"confirm": "yes", "reason": "matrix"},
     row(401, 303, 303, 303, 303, 303, 303)),
    ("tokens.tokens", "GET", "/tokens", None, row(302, 200, 200, 200, 200, 200, 200)),
    ("tokens.create_token", "POST", "/tokens", {"name": "matrix", "scopes": "read"},
     row(401, 201, 201, 201, 201, 201, 201)),
    ("tokens.revoke_token", "POST", "/tokens/nosuchtoken/revoke", {}, row(401, 404, 404, 404, 404, 404, 404)),
]
# Pages that answer every refusal with a redirect and a message: who may change anything through them.
MAY_CHANGE = {"admin.retry": set(), "admin.cancel": {"ann", "admin"}, "admin.repair": {"admin"},
              "admin.reassign": {"admin"}, "requests.cancel_request": {"ann", "admin"}, "inbox.claim_selected": set(),
              "drafts.discard_draft": set(), "files.remove_attachment": {"bob"}, "admin.retry_incident": {"admin"},
              "admin.resend": {"admin"}, "notices.mark_read": EVERYONE,
              "notices.open_notice": set(), "notices.save_settings": EVERYONE,
              "audit_pages.lift_hold": set(), "audit_pages.delete_search": set(), "admin.move": set(),
              "designer.new": {"dana", "admin"}, "designer.duplicate": {"dana", "admin"},
              "designer.import_file": {"dana", "admin"}, "designer.publish": set(),
              "designer.retire": {"dana", "admin"}, "editor.save_step": set(), "editor.add_step": {"dana", "admin"},
              "editor.remove_step": {"dana", "admin"}, "editor.connect_exit": {"dana", "admin"},
              "form_designer.new_form": {"dana", "admin"}, "form_designer.save_form": {"dana", "admin"},
              "form_designer.publish_form": set(), "try_it.save_scenario": {"dana", "admin"},
              "requests.comment": {"ann", "bob", "admin"}}
FORM_ENDPOINTS = {"sign_in.login_post", "sign_in.logout", "tokens.create_token", "tokens.revoke_token",
                  "task_page.submit_task", "task_page.claim", "inbox.claim_selected", "task_page.delegate",
                  "task_page.unclaim", "task_page.comment", "starting.start",
                  "requests.cancel_request", "admin.retry", "admin.cancel", "admin.repair", "admin.reassign",
                  "drafts.save_draft", "drafts.discard_draft", "inbox.save_view", "inbox.delete_view",
                  "files.remove_attachment", "admin.retry_incident", "admin.resend", "notices.mark_read",
                  "notices.save_settings", "audit_pages.save_search", "audit_pages.delete_search",
                  "audit_pages.set_hold", "audit_pages.lift_hold", "admin.move", "notices.open_notice", "designer.new",
                  "designer.duplicate", "designer.publish", "designer.retire", "editor.save_step", "editor.add_step",
                  "editor.remove_step", "editor.connect_exit", "form_designer.new_form", "form_designer.preview",
                  "form_designer.save_form", "form_designer.publish_form", "try_it.try_run", "editor.check_step",
                  "try_it.save_scenario", "absence_pages.record", "absence_pages.remove",
                  "requests.comment"}


def test_every_route_of_the_app_has_a_row(app):
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    listed = {(endpoint, method) for endpoint, method, *_ in MATRIX}
    assert routes - listed == set(), "say in MATRIX who may use these routes"
    assert listed - routes == set(), "MATRIX lists routes the app does not have"


class World:
    """A fresh database with ann's expense waiting for bob; rebuilt after any request that changed it."""

    def __init__(self, app) -> None:
        self.app, self.rt = app, app.extensions["bpm"]
        self.reset()

    def reset(self) -> None:
        from bpm.runtime.demo import load_demo

        wipe(self.rt)
        self.rt.actors.clear()
        load_demo(self.rt)
        client = self.app.test_client()
        started = client.post("/api/instances", headers={"X-BPM-User": "ann"},
                              json={"definition": "expense-approval", "payload": EXPENSE}).json
        self.ids = {"instance": started["id"], "task": started["openTasks"][0]["id"]}
        added = client.post(f"/api/tasks/{self.ids['task']}/attachments", headers={"X-BPM-User": "bob"},
                            data=a_file(), content_type="multipart/form-data")
        self.ids["attachment"] = added.json["id"]
        self.ids["incident"] = str(_an_incident(self.rt, self.ids["instance"]))
        self.ids["dead"] = _a_dead_letter(self.rt, self.ids["instance"])
        self.dump = database_dump(self.rt)


def _an_incident(rt, instance_id: str) -> int:
    """A job of the instance that failed too often (a timer whose firing kept raising)."""
    from sqlalchemy import insert

    from bpm.store.models import JOB_TABLE

    with rt.uow() as uow:
        job_id = uow.execute(insert(JOB_TABLE).values(
            kind="timer", instance_id=instance_id, node_id="manager_review", due_at=rt.now(), payload={},
            status="incident", attempts=5, last_error="boom", created_at=rt.now()).returning(JOB_TABLE.c.id)).scalar()
        uow.commit()
    return int(job_id)


def _a_dead_letter(rt, instance_id: str) -> str:
    """A message that failed every delivery attempt."""
    with rt.uow() as uow:
        uow.outbox.add("00000000-dead-4000-8000-000000000001", instance_id, None, "email", ["ann"], "lost",
                       "lost", None, rt.now(), kind="notify")
        uow.commit()
    with rt.uow() as uow:
        uow.outbox.give_back("00000000-dead-4000-8000-000000000001", "dead", 8, None, "boom")
        uow.commit()
    return "00000000-dead-4000-8000-000000000001"


def _call(client, who: str, method: str, url: str, body: object, endpoint: str):
    headers = {} if url.startswith("/api") else {"Accept": "text/html"}  # pages: as a browser asks
    if who != "nobody":
        headers["X-BPM-User"] = who
    if callable(body):  # a file upload
        return client.open(url, method=method, data=body(), headers=headers, content_type="multipart/form-data")
    if endpoint in FORM_ENDPOINTS:
        return client.open(url, method=method, data=body, headers=headers)
    return client.open(url, method=method, json=body, headers=headers)


@pytest.mark.parametrize(("endpoint", "method", "url", "body", "expected"), MATRIX,
                         ids=[f"{m} {u}" for _, m, u, _, _ in MATRIX])
def test_the_permission_matrix(app, endpoint, method, url, body, expected):
    world = World(app)
    got = {}
    for who in WHO:
        filled = {k: v.format(**world.ids) if isinstance(v, str) else v for k, v in body.items()} \
            if isinstance(body, dict) and endpoint in FORM_ENDPOINTS else body
        response = _call(app.test_client(), who, method, url.format(**world.ids), filled, endpoint)
        got[who] = response.status_code
        changed = database_dump(world.rt) != world.dump
        if response.status_code >= 400 or (endpoint in MAY_CHANGE and who not in MAY_CHANGE[endpoint]):
            assert not changed, f"{who}'s refused {method} {url} ({response.status_code}) changed something"
        if changed:
            world.reset()
    assert got == expected
