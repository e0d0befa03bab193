"""Schema changes only through Alembic: the migrations must build exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bpm.store.db import make_engine
from bpm.store.migrate import MIGRATIONS, alembic_config, current_revision, upgrade
from bpm.store.models import metadata


def test_the_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_the_database_is_at_the_newest_revision_and_upgrading_again_is_harmless(database_url):
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert current_revision(database_url) == head
    upgrade(database_url)
    assert current_revision(database_url) == head


def test_there_is_one_linear_history_of_revisions():
    script = ScriptDirectory(str(MIGRATIONS))
    assert len(script.get_heads()) == 1
    assert [r.revision for r in script.walk_revisions()][-1] == "0001"
