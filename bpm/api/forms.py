"""/api/forms: forms as data — drafts, published versions and retirement — and the form a client draws."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from bpm.api.blueprint import Blueprint
from bpm.api.etag import etag_header, if_match
from bpm.api.schemas import FormBodySchema, FormLineSchema, FormSchema, FormVersionSchema
from bpm.auth import current_actor, runtime
from bpm.runtime import form_versions

blp = Blueprint("forms", __name__, url_prefix="/api/forms",
                description="Forms: schema, layout and rules, versioned like process definitions.")


@blp.route("")
class Forms(MethodView):
    @blp.response(200, FormLineSchema(many=True))
    def get(self) -> Any:
        """List every form with its newest version and the version processes published now pin."""
        rt, actor = runtime(), current_actor()
        with rt.uow() as uow:
            return form_versions.catalogue(rt, uow, actor)

    @blp.arguments(FormBodySchema())
    @blp.response(201, FormVersionSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Save a draft: a new version of the form, or a replacement of its draft (honours If-Match; ETag).

        Every problem of the form is a 422 at its path (``$.schema.properties.price.minimum``).
        """
        draft = form_versions.save_draft(runtime(), current_actor(), body, if_match())
        return draft, etag_header(draft.revision)


@blp.route("/<string:form_id>")
class FormResource(MethodView):
    @blp.response(200, FormSchema)
    def get(self, form_id: str) -> Any:
        """The form's current version as the server validates it (schema, rules) and the inbox draws it (ui)."""
        rt = runtime()
        current_actor()
        with rt.uow() as uow:
            return form_versions.current(rt, uow, form_id).to_dict()


@blp.route("/<string:form_id>/versions")
class FormVersions(MethodView):
    @blp.response(200, FormVersionSchema(many=True))
    def get(self, form_id: str) -> Any:
        """Every version of the form, newest first (designers and auditors)."""
        rt, actor = runtime(), current_actor()
        with rt.uow() as uow:
            return form_versions.versions(rt, uow, actor, form_id)


@blp.route("/<string:form_id>/versions/<int:version>")
class FormVersionResource(MethodView):
    @blp.response(200, FormVersionSchema)
    def get(self, form_id: str, version: int) -> Any:
        """One version of the form (a draft: designers only); its ETag is the draft's revision."""
        rt, actor = runtime(), current_actor()
        with rt.uow() as uow:
            found = form_versions.read_version(rt, uow, actor, form_id, version)
        return found, etag_header(found.revision)


@blp.route("/<string:form_id>/versions/<int:version>/publish")
class PublishForm(MethodView):
    @blp.response(200, FormVersionSchema)
    def post(self, form_id: str, version: int) -> Any:
        """Publish the draft: processes published from now on pin this version; running ones keep theirs."""
        return form_versions.publish(runtime(), current_actor(), form_id, version)


@blp.route("/<string:form_id>/versions/<int:version>/retire")
class RetireForm(MethodView):
    @blp.response(200, FormVersionSchema)
    def post(self, form_id: str, version: int) -> Any:
        """Retire a published version: no process published from now on pins it; those that did keep it."""
        return form_versions.retire(runtime(), current_actor(), form_id, version)
