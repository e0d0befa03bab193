"""/api/tasks: the inbox over HTTP; completing a task resumes its process."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from bpm.api.blueprint import Blueprint
from bpm.api.etag import etag_header, if_match
from bpm.api.schemas import (
    QUERY,
    CommentSchema,
    CompleteTaskSchema,
    DelegateTaskSchema,
    NewCommentSchema,
    ReassignTaskSchema,
    TaskDetailSchema,
    TaskQuerySchema,
    TaskSchema,
    with_related,
)
from bpm.auth import current_actor, runtime
from bpm.runtime import inbox, tasks
from bpm.store.models import TaskRecord

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks",
                description="Human tasks: list, claim, complete, delegate, comment.")


def task_detail(task_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A task with candidates, form and comments, and its ETag."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        task, instance = tasks.read_task(rt, uow, actor, task_id)
        form = rt.forms.get(task.form_id, task.form_version).to_dict() if task.form_id else None
        return with_related(task, form=form, comments=tasks.task_comments(uow, task.id),
                            prefill=tasks.task_prefill(rt, uow, task, instance)), etag_header(task.revision)


def _after_change(task: TaskRecord) -> tuple[dict[str, Any], dict[str, str]]:
    """The changed task as the action left it (no second read), with its new ETag."""
    return task, etag_header(task.revision)


@blp.route("")
class Tasks(MethodView):
    @blp.arguments(TaskQuerySchema(), **QUERY)
    @blp.response(200, TaskSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """List tasks for me: assigned to me or offered to me (scope), most urgent first."""
        actor = current_actor()
        rows, total = runtime().read(actor, lambda uow: inbox.list_tasks(
            uow, actor, query, pagination_parameters.page, pagination_parameters.page_size))
        pagination_parameters.item_count = total
        return rows


@blp.route("/<string:task_id>")
class TaskResource(MethodView):
    @blp.response(200, TaskDetailSchema)
    def get(self, task_id: str) -> Any:
        """Get a task with its form and comments (ETag: its revision)."""
        return task_detail(task_id)


@blp.route("/<string:task_id>/complete")
class CompleteTask(MethodView):
    @blp.arguments(CompleteTaskSchema())
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Complete a task with an outcome and form data; its process moves on (honours If-Match). An admin
        decides a task he does not work on only with `behalfReason`: on behalf of its assignee, recorded."""
        view, _, _ = tasks.complete_task(runtime(), current_actor(), task_id, body["outcome"], body["data"],
                                         if_match(), behalf_reason=body["behalf_reason"])
        return _after_change(view)


@blp.route("/<string:task_id>/claim")
class ClaimTask(MethodView):
    @blp.response(200, TaskSchema)
    def post(self, task_id: str) -> Any:
        """Claim an unassigned task you are a candidate for."""
        return _after_change(tasks.claim_task(runtime(), current_actor(), task_id, if_match()))


@blp.route("/<string:task_id>/unclaim")
class UnclaimTask(MethodView):
    @blp.response(200, TaskSchema)
    def post(self, task_id: str) -> Any:
        """Give a claimed task back to its candidates."""
        return _after_change(tasks.unclaim_task(runtime(), current_actor(), task_id, if_match()))


@blp.route("/<string:task_id>/delegate")
class DelegateTask(MethodView):
    @blp.arguments(DelegateTaskSchema())
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Hand a task to another user."""
        return _after_change(tasks.delegate_task(runtime(), current_actor(), task_id, body["to"], if_match()))


@blp.route("/<string:task_id>/reassign")
class ReassignTask(MethodView):
    @blp.arguments(ReassignTaskSchema())
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Admins: give an open task to another person, with a reason for the history (honours If-Match)."""
        return _after_change(tasks.reassign_task(runtime(), current_actor(), task_id, body["to"], body["reason"],
                                                 if_match()))


@blp.route("/<string:task_id>/comments")
class TaskComments(MethodView):
    @blp.response(200, CommentSchema(many=True))
    def get(self, task_id: str) -> Any:
        """List a task's comments, oldest first."""
        rt, actor = runtime(), current_actor()
        with rt.uow() as uow:
            tasks.read_task(rt, uow, actor, task_id)
            return tasks.task_comments(uow, task_id)

    @blp.arguments(NewCommentSchema())
    @blp.response(201, CommentSchema)
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Add a comment to a task."""
        return tasks.comment_on_task(runtime(), current_actor(), task_id, body["body"])
