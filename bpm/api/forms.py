"""/api/forms: the forms processes use, so an API client can draw its own screens."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from bpm.api.blueprint import Blueprint
from bpm.api.schemas import FormSchema
from bpm.auth import current_actor, runtime

blp = Blueprint("forms", __name__, url_prefix="/api/forms", description="Forms: schema, layout and rules.")


@blp.route("/<string:form_id>")
class FormResource(MethodView):
    @blp.response(200, FormSchema)
    def get(self, form_id: str) -> Any:
        """A form as the server validates it (schema, rules) and the inbox draws it (ui)."""
        current_actor()
        return runtime().forms.get(form_id).to_dict()
