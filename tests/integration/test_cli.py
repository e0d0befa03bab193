"""The `bpm` command against a real database."""

from __future__ import annotations

import json
import re

import click
import pytest
from click.testing import CliRunner

from bpm.cli import main
from bpm.store.migrate import head_revision

from ..conftest import REPO


@pytest.fixture
def cli_env(tmp_path):
    return {"BPM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def test_db_upgrade_then_import_and_list_definitions(cli_env, tmp_path):
    runner = CliRunner()
    upgraded = runner.invoke(main, ["db", "upgrade"], env=cli_env)
    head = head_revision()
    assert upgraded.exit_code == 0 and f"database at revision {head}" in upgraded.output
    files = [str(p) for p in sorted((REPO / "processes").glob("*.json"))]
    imported = runner.invoke(main, ["definitions", "import", *files], env=cli_env)
    assert imported.exit_code == 0, imported.output
    assert "expense-approval v1 published" in imported.output
    again = runner.invoke(main, ["definitions", "import", *files], env=cli_env)
    assert "expense-approval v1 published" in again.output, "unchanged content is not republished"
    listed = runner.invoke(main, ["definitions", "list"], env=cli_env)
    assert [line.split()[0] for line in listed.output.splitlines()] == [
        "content-approval", "contract-review", "expense-approval", "vacation-request"]


def test_db_current_tells_a_deploy_whether_to_migrate_and_downgrade_goes_back(cli_env):
    runner = CliRunner()
    head = head_revision()
    fresh = runner.invoke(main, ["db", "current"], env=cli_env)
    assert fresh.exit_code == 1 and f"database at revision none; this code expects {head}" in fresh.output
    runner.invoke(main, ["db", "upgrade"], env=cli_env)
    ready = runner.invoke(main, ["db", "current"], env=cli_env)
    assert ready.exit_code == 0 and f"database at revision {head} (up to date)" in ready.output
    back = runner.invoke(main, ["db", "downgrade", "0002"], env=cli_env)
    assert back.exit_code == 0 and "database at revision 0002" in back.output
    assert runner.invoke(main, ["db", "current"], env=cli_env).exit_code == 1


def test_importing_an_invalid_definition_explains_why_and_fails(cli_env, tmp_path):
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"], env=cli_env)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "bad", "name": "Bad", "nodes": [{"id": "s", "type": "start"},
                                                                     {"id": "x", "type": "nope"}]}))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = runner.invoke(main, ["definitions", "import", str(bad), str(broken)], env=cli_env)
    assert result.exit_code == 1
    assert "$.nodes[1].type: node 'x' has unknown type 'nope'" in result.output
    assert "not valid JSON" in result.output


def test_importing_shows_the_warnings_of_a_definition_it_publishes(cli_env, tmp_path):
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"], env=cli_env)
    orphan = tmp_path / "orphan.json"
    orphan.write_text(json.dumps({"id": "orphan", "name": "Orphan", "nodes": [
        {"id": "s", "type": "start"}, {"id": "t", "type": "human-task", "data": {"title": "Who?"}}],
        "edges": [{"id": "e1", "source": "s", "target": "t"}]}))
    result = runner.invoke(main, ["definitions", "import", str(orphan)], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "orphan v1 published" in result.output
    assert "warning: $.nodes[1].data: human task 't' names no assignee" in result.output


def test_a_bad_setting_is_a_clear_error(cli_env):
    result = CliRunner().invoke(main, ["db", "upgrade"], env={**cli_env, "BPM_MAX_BODY_BYTES": "lots"})
    assert result.exit_code != 0 and "BPM_MAX_BODY_BYTES" in result.output


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[list[str]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append([*path, name])
    return found


def test_every_command_has_help_that_says_what_it_does():
    runner = CliRunner()
    commands = _commands(main)
    assert len(commands) >= 23 and ["instances", "migrate"] in commands, commands
    for command in commands:
        result = runner.invoke(main, [*command, "--help"])
        summary = (main.get_command(None, command[0]) if len(command) == 1 else  # type: ignore[union-attr]
                   main.get_command(None, command[0]).get_command(None, command[1])).get_short_help_str()
        assert result.exit_code == 0 and "Usage" in result.output, command
        assert summary and summary.split()[0] in result.output, command


def test_instances_migrate_plans_a_move_and_says_a_bad_request_in_one_line(cli_env, tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=cli_env).exit_code == 0
    definition = json.loads((REPO / "processes" / "vacation-request.json").read_text())
    (tmp_path / "v1.json").write_text(json.dumps(definition))
    definition["nodes"][1]["data"]["dueIn"] = "P3D"
    (tmp_path / "v2.json").write_text(json.dumps(definition))
    for version in ("v1", "v2"):
        assert runner.invoke(main, ["definitions", "import", str(tmp_path / f"{version}.json")],
                             env=cli_env).exit_code == 0
    planned = runner.invoke(main, ["instances", "migrate", "vacation-request", "--from", "1", "--to", "2",
                                   "--dry-run"], env=cli_env)
    assert planned.exit_code == 0 and "0 would move, 0 cannot move" in planned.output, planned.output
    bad = runner.invoke(main, ["instances", "migrate", "vacation-request", "--from", "1", "--to", "7"], env=cli_env)
    assert bad.exit_code == 1 and "no version 7" in bad.output, bad.output
    unmapped = runner.invoke(main, ["instances", "migrate", "vacation-request", "--from", "1", "--to", "2",
                                    "--map", "request"], env=cli_env)
    assert unmapped.exit_code == 2 and "OLD=NEW" in unmapped.output


def test_a_broken_form_is_one_clear_line_when_starting(cli_env, tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "bad.json").write_text("{")
    env = {**cli_env, "BPM_FORMS_DIR": str(forms)}
    for command in (["run", "--port", "5999"], ["serve", "--port", "5999"]):
        result = CliRunner().invoke(main, command, env=env)
        assert result.exit_code == 1, result.output
        assert "Error: broken forms in" in result.output and "bad.json" in result.output
        assert "Traceback" not in result.output


def test_the_readme_and_bpm_run_name_every_demo_user():
    from bpm.runtime.demo import USERS, people_summary

    readme = (REPO / "README.md").read_text()
    summary = people_summary()
    for username, _, _, groups in USERS:
        assert re.search(rf"\b{username}\b", readme), f"README.md does not name the demo user {username}"
        assert username in summary and all(group in summary for group in groups)
    assert summary.startswith("ann, bob, carol (finance),")


def test_validate_checks_without_saving_and_portable_fails_on_what_refluxo_reads_differently(cli_env, tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=cli_env).exit_code == 0
    ours = str(REPO / "processes" / "expense-approval.json")  # reads data.<field>, writes the request's data
    checked = runner.invoke(main, ["definitions", "validate", ours], env=cli_env)
    assert checked.exit_code == 0 and "valid" in checked.output
    assert "not portable to Refluxo's Jexl: 'data' is the request's data" in checked.output
    failed = runner.invoke(main, ["definitions", "validate", "--portable", ours], env=cli_env)
    assert failed.exit_code == 1
    assert "$.nodes[1].data.writeBack: node 'manager_review': not runnable by Refluxo" in failed.output
    portable = json.loads((REPO / "processes" / "expense-approval.json").read_text())
    for node in portable["nodes"]:
        node.get("data", {}).pop("writeBack", None)
    text = json.dumps(portable).replace("|money(data.currency)", "")  # our transform: Refluxo has none
    text = re.sub(r"\{\{ data\.", "{{ nodes.submit.last.data.", text)
    (tmp_path / "portable.json").write_text(text)
    passed = runner.invoke(main, ["definitions", "validate", "--portable", str(tmp_path / "portable.json")],
                           env=cli_env)
    assert passed.exit_code == 0, passed.output
    listed = runner.invoke(main, ["definitions", "list"], env=cli_env)
    assert listed.output.strip() == "", "validate saves nothing"


def test_accounts_groups_and_tokens_from_the_command_line(cli_env):
    from bpm.config import Settings
    from bpm.engine import SystemClock
    from bpm.runtime import Runtime
    from bpm.runtime.accounts import actor_for_token, sign_in_with_password

    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=cli_env).exit_code == 0
    assert runner.invoke(main, ["groups", "create", "finance", "--name", "Finance"], env=cli_env).exit_code == 0
    made = runner.invoke(main, ["users", "create", "carl", "--name", "Carl", "--group", "finance",
                                "--password-stdin"], input="first password\n", env=cli_env)
    assert made.exit_code == 0 and "user carl created (employee)" in made.output
    twice = runner.invoke(main, ["users", "create", "carl", "--no-password"], env=cli_env)
    assert twice.exit_code == 1 and "exists already" in twice.output
    short = runner.invoke(main, ["users", "create", "dora", "--password-stdin"], input="short\n", env=cli_env)
    assert short.exit_code == 1 and "password too short" in short.output
    bad_role = runner.invoke(main, ["users", "create", "dora", "--role", "boss", "--no-password"], env=cli_env)
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output
    assert runner.invoke(main, ["users", "create", "dora", "--no-password", "--role", "auditor"],
                         env=cli_env).exit_code == 0
    assert runner.invoke(main, ["groups", "add", "finance", "dora"], env=cli_env).exit_code == 0
    assert runner.invoke(main, ["groups", "add", "nope", "dora"], env=cli_env).exit_code == 1
    listed = runner.invoke(main, ["users", "list"], env=cli_env).output.splitlines()
    assert [line.split() for line in listed] == [["carl", "employee", "finance", "password"],
                                                 ["dora", "auditor", "finance", "-"]]
    assert runner.invoke(main, ["users", "passwd", "carl", "--password-stdin"], input="second password\n",
                         env=cli_env).exit_code == 0
    issued = runner.invoke(main, ["tokens", "create", "carl", "--scope", "read", "--expires-in", "P1M"], env=cli_env)
    assert issued.exit_code == 0, issued.output
    text = issued.stdout.strip()
    bad = runner.invoke(main, ["tokens", "create", "carl", "--expires-in", "soon"], env=cli_env)
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    rt = Runtime.build(Settings.from_env(cli_env), SystemClock())
    try:
        assert sign_in_with_password(rt, "carl", "second password", None).groups == {"finance"}
        assert actor_for_token(rt, text).scopes == {"read"}
        token_id, secret = text[4:20], text[21:]  # bpm_<16-character id>_<secret>
        assert token_id in runner.invoke(main, ["tokens", "list", "carl"], env=cli_env).output
        assert secret not in runner.invoke(main, ["tokens", "list", "carl"], env=cli_env).output
        assert runner.invoke(main, ["tokens", "revoke", token_id], env=cli_env).exit_code == 0
        assert "revoked" in runner.invoke(main, ["tokens", "list", "carl"], env=cli_env).output
        assert runner.invoke(main, ["users", "disable", "carl"], env=cli_env).exit_code == 0
        assert "(disabled)" in runner.invoke(main, ["users", "list"], env=cli_env).output
    finally:
        rt.close()


def test_forms_import_publishes_a_changed_file_as_a_new_version_and_skips_an_unchanged_one(cli_env, tmp_path):
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"], env=cli_env)
    seed = json.loads((REPO / "forms" / "expense-request.json").read_text())
    same = tmp_path / "expense-request.json"
    same.write_text(json.dumps(seed))
    unchanged = runner.invoke(main, ["forms", "import", str(same)], env=cli_env)
    assert unchanged.exit_code == 0 and "expense-request v1 unchanged" in unchanged.output, unchanged.output
    same.write_text(json.dumps({**seed, "title": "Expense claim, second edition"}))
    changed = runner.invoke(main, ["forms", "import", str(same)], env=cli_env)
    assert changed.exit_code == 0 and "expense-request v2 published" in changed.output, changed.output
    listed = runner.invoke(main, ["forms", "list"], env=cli_env)
    assert "expense-request\tv2\t(newest v2, published)\tExpense claim, second edition" in listed.output
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"id": "broken", "title": "B", "schema": {"type": "object", "properties": {
        "n": {"type": "number", "minimum": "zero"}}}}))
    refused = runner.invoke(main, ["forms", "import", str(broken)], env=cli_env)
    assert refused.exit_code == 1 and "schema.properties.n.minimum: invalid schema" in refused.output


def test_worker_once_does_one_round_of_everything_cron_needs(cli_env):
    """`bpm worker --once` (what the docs offer for cron) delivers the outbox too, not only the due jobs."""
    from bpm.config import Settings
    from bpm.engine import SystemClock
    from bpm.runtime import Runtime
    from bpm.runtime.demo import load_demo
    from bpm.runtime.instances import start_instance

    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=cli_env).exit_code == 0
    rt = Runtime.build(Settings.from_env(cli_env), SystemClock())
    load_demo(rt)
    start_instance(rt, rt.actor("ann"), "expense-approval", {"requester": "ann", "manager": "bob", "amount": 20,
                                                                "currency": "EUR", "description": "Taxi"})
    rt.close()
    once = runner.invoke(main, ["worker", "--once"], env=cli_env)
    assert once.exit_code == 0, once.output
    assert "1 sent" in once.output, once.output  # before: "nothing was due", and bob never heard
    again = runner.invoke(main, ["worker", "--once"], env=cli_env)
    assert "nothing was due" in again.output, "delivered once"


def test_serve_refuses_to_start_with_the_development_identity_where_people_sign_in(cli_env):
    """`bpm serve` honoured X-BPM-User silently when BPM_DEV_IDENTITY=1 was in its environment."""
    runner = CliRunner()
    refused = runner.invoke(main, ["serve"], env={**cli_env, "BPM_DEV_IDENTITY": "1",
                                                  "BPM_PUBLIC_URL": "https://bpm.example.com"})
    assert refused.exit_code == 2 and "BPM_DEV_IDENTITY=1 lets anyone act as anyone" in refused.output
