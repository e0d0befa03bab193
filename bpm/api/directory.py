"""/api/people and /api/groups: finding a person or a group by a few letters, for the pickers."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from bpm.api.blueprint import Blueprint
from bpm.api.schemas import QUERY, DirectoryQuerySchema, GroupLineSchema, PersonLineSchema
from bpm.auth import current_actor, runtime
from bpm.runtime import directory

blp = Blueprint("directory", __name__, url_prefix="/api",
                description="People and groups by name: names, display names and groups only.")


@blp.route("/people")
class People(MethodView):
    @blp.arguments(DirectoryQuerySchema(), **QUERY)
    @blp.response(200, PersonLineSchema(many=True))
    @blp.paginate(max_page_size=50)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Active people whose name or display name holds ``q``, by name (signed-in users)."""
        with runtime().uow() as uow:
            found, total = directory.people(uow, current_actor(), query["q"], pagination_parameters.page,
                                            pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return found


@blp.route("/groups")
class Groups(MethodView):
    @blp.arguments(DirectoryQuerySchema(), **QUERY)
    @blp.response(200, GroupLineSchema(many=True))
    @blp.paginate(max_page_size=50)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Groups whose name or display name holds ``q``, by name (signed-in users)."""
        with runtime().uow() as uow:
            found, total = directory.groups(uow, current_actor(), query["q"], pagination_parameters.page,
                                            pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return found
