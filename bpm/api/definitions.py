"""/api/definitions: process definitions, their versions, validation and publishing."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from bpm.api.blueprint import Blueprint
from bpm.api.etag import etag_header, if_match
from bpm.api.schemas import (
    QUERY,
    DefinitionBodySchema,
    DefinitionDetailSchema,
    DefinitionListQuerySchema,
    DefinitionVersionSchema,
    MigrationBodySchema,
    MigrationQuerySchema,
    MigrationReportSchema,
    PublishBodySchema,
    RetirementSchema,
    RetireQuerySchema,
    ScenarioBodySchema,
    ScenarioSchema,
    SimulationBodySchema,
    SimulationSchema,
    ValidationReportSchema,
    with_related,
)
from bpm.auth import current_actor, runtime
from bpm.runtime import definition_checks, definitions, moves, scenarios, simulation

blp = Blueprint("definitions", __name__, url_prefix="/api/definitions",
                description="Process definitions: drafts, numbered published versions, retirement.")


@blp.route("")
class Definitions(MethodView):
    @blp.arguments(DefinitionListQuerySchema(), **QUERY)
    @blp.response(200, DefinitionVersionSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """List the newest version of every process."""
        actor = current_actor()
        with runtime().uow() as uow:
            return definitions.list_definitions(uow, actor, query.get("status"))

    @blp.arguments(DefinitionBodySchema())
    @blp.response(201, DefinitionDetailSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Save a draft: a new version of the key, or a replacement of its draft (honours If-Match; ETag)."""
        actor = current_actor()
        draft = definitions.save_draft(runtime(), actor, body, if_match())
        return draft, etag_header(draft.revision)


@blp.route("/validate")
class ValidateDefinition(MethodView):
    @blp.arguments(DefinitionBodySchema())
    @blp.response(200, ValidationReportSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Report every problem of a definition without saving it."""
        current_actor()
        return definition_checks.validate(runtime(), body)


@blp.route("/simulate")
class SimulateDefinition(MethodView):
    @blp.arguments(SimulationBodySchema())
    @blp.response(200, SimulationSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Test-run a definition in the pure engine (designers): start it, act on its tasks, move the clock.

        Nothing is written: no instance, task, mail or history. A step at a node that is not waiting, or with
        data its form refuses, is a 422 naming the step (``steps[1].data.price``).
        """
        return simulation.simulate(runtime(), current_actor(), body)


@blp.route("/<string:key>/scenarios")
class Scenarios(MethodView):
    @blp.response(200, ScenarioSchema(many=True))
    def get(self, key: str) -> Any:
        """The test runs kept with a process; each runs again when a draft is published."""
        actor = current_actor()
        with runtime().uow() as uow:
            return scenarios.list_of(uow, actor, key)

    @blp.arguments(ScenarioBodySchema())
    @blp.response(201, ScenarioSchema)
    def post(self, body: dict[str, Any], key: str) -> Any:
        """Keep a test run (replacing one of the same name): a draft that no longer ends so cannot be published."""
        run = {k: body[k] for k in ("start", "steps", "advance") if k in body}
        return scenarios.save(runtime(), current_actor(), key, body["name"], run, body["expect"])


@blp.route("/<string:key>/scenarios/<string:name>")
class OneScenario(MethodView):
    @blp.response(204)
    def delete(self, key: str, name: str) -> None:
        """Throw a scenario away."""
        scenarios.delete(runtime(), current_actor(), key, name)


@blp.route("/<string:key>")
class DefinitionVersions(MethodView):
    @blp.response(200, DefinitionVersionSchema(many=True))
    def get(self, key: str) -> Any:
        """List every version of a process, newest first."""
        actor = current_actor()
        with runtime().uow() as uow:
            return definitions.list_versions(uow, actor, key)


@blp.route("/<string:key>/versions/<int:version>")
class DefinitionVersion(MethodView):
    @blp.response(200, DefinitionDetailSchema)
    def get(self, key: str, version: int) -> Any:
        """Get one version with its definition (ETag: its revision)."""
        actor = current_actor()
        with runtime().uow() as uow:
            found = definitions.read_version(uow, actor, key, version)
            return found, etag_header(found.revision)


@blp.route("/<string:key>/versions/<int:version>/publish")
class PublishDefinition(MethodView):
    @blp.arguments(PublishBodySchema(), required=False)
    @blp.response(200, DefinitionDetailSchema)
    def post(self, body: dict[str, Any], key: str, version: int) -> Any:
        """Publish a draft: new instances start this version; it never changes again.

        An optional body ``{comment}`` says why; it is kept with the publishing in the admin chain.
        """
        actor = current_actor()
        return definitions.publish(runtime(), actor, key, version, (body or {}).get("comment"))


@blp.route("/<string:key>/versions/<int:version>/retire")
class RetireDefinition(MethodView):
    @blp.arguments(RetireQuerySchema(), **QUERY)
    @blp.response(200, RetirementSchema)
    def post(self, query: dict[str, Any], key: str, version: int) -> Any:
        """Retire a published version; its running instances carry on (the newest one needs fallback=true)."""
        actor = current_actor()
        retired, starts = definitions.retire(runtime(), actor, key, version, fallback=query["fallback"])
        return with_related(retired, new_instances_start=starts)


@blp.route("/<string:key>/migrations")
class MigrateInstances(MethodView):
    @blp.arguments(MigrationQuerySchema(), **QUERY)
    @blp.arguments(MigrationBodySchema())
    @blp.response(200, MigrationReportSchema)
    def post(self, query: dict[str, Any], body: dict[str, Any], key: str) -> Any:
        """Admins: move running instances to another version (dryRun=true first: who moves, who cannot and why)."""
        return moves.move_instances(runtime(), current_actor(), key, body["from_version"], body["to_version"],
                                    body["node_mapping"], body["instance_ids"], dry_run=query["dry_run"])
