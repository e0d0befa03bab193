"""/api/notifications: the caller's bell and delivery settings; dead letters for admins."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from bpm.api.blueprint import Blueprint
from bpm.api.schemas import (
    QUERY,
    DeadLetterSchema,
    MarkReadSchema,
    NotificationQuerySchema,
    NotificationSchema,
    NotificationSettingsSchema,
    UnreadSchema,
)
from bpm.auth import current_actor, runtime
from bpm.notify import deliver
from bpm.runtime import bell

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications",
                description="Your notices (the bell), how you get them; dead letters for admins.")


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationQuerySchema(), **QUERY)
    @blp.response(200, NotificationSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """List your notices, newest first."""
        with runtime().uow() as uow:
            rows, total = bell.notices(uow, current_actor(), pagination_parameters.page,
                                       pagination_parameters.page_size, query["unread"])
            pagination_parameters.item_count = total
            return rows


@blp.route("/read")
class MarkRead(MethodView):
    @blp.arguments(MarkReadSchema())
    @blp.response(200, UnreadSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Mark notices read: `ids`, or `all: true`; says how many stay unread."""
        ids = None if body.get("all") else body.get("ids", [])
        return {"unread": bell.mark_read(runtime(), current_actor(), ids)}


@blp.route("/settings")
class NotificationSettings(MethodView):
    @blp.response(200, NotificationSettingsSchema)
    def get(self) -> Any:
        """How you get each kind of notice."""
        with runtime().uow() as uow:
            return {"modes": bell.settings_of(uow, current_actor())}

    @blp.arguments(NotificationSettingsSchema())
    @blp.response(200, NotificationSettingsSchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Choose per kind: `now` (e-mail at once), `digest` (a daily e-mail) or `in-app` (the bell only)."""
        return {"modes": bell.save_settings(runtime(), current_actor(), body["modes"])}


@blp.route("/dead-letters")
class DeadLetters(MethodView):
    @blp.response(200, DeadLetterSchema(many=True))
    def get(self) -> Any:
        """Messages that failed every delivery attempt (auditors and admins)."""
        with runtime().uow() as uow:
            return deliver.dead_letters(uow, current_actor())


@blp.route("/dead-letters/<string:message_id>/resend")
class ResendDeadLetter(MethodView):
    @blp.response(200, DeadLetterSchema)
    def post(self, message_id: str) -> Any:
        """Admins: deliver a dead letter again (whom it reached already is not sent it twice)."""
        return deliver.resend(runtime(), current_actor(), message_id)
