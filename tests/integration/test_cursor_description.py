"""The PostgreSQL cursor describes its columns on demand, exactly as psycopg would."""

from __future__ import annotations

import psycopg
import pytest

from bpm.store.db import DescribedOnDemandCursor

from ..conftest import PG_ADMIN_URL, _postgres_available

pytestmark = pytest.mark.skipif(not _postgres_available(), reason="needs PostgreSQL")

QUERY = "SELECT 1 AS one, 'x'::varchar(5) AS two, now() AS three, '{}'::jsonb AS four"


def _describe(cursor: psycopg.Cursor) -> list[tuple]:
    return [(c.name, c.type_code, c.display_size, c.internal_size, c.precision, c.scale, c.null_ok)
            for c in cursor.description]


def test_the_description_matches_psycopgs_own():
    with psycopg.connect(PG_ADMIN_URL) as plain, \
            psycopg.connect(PG_ADMIN_URL, cursor_factory=DescribedOnDemandCursor) as lazy:
        expected = _describe(plain.execute(QUERY))
        cursor = lazy.execute(QUERY)
        assert len(cursor.description) == 4
        assert _describe(cursor) == expected
        assert [column.name for column in cursor.description[1:3]] == ["two", "three"]
        assert cursor.fetchone()[0] == 1


def test_statements_without_rows_have_no_description_and_row_queries_with_no_columns_have_one():
    with psycopg.connect(PG_ADMIN_URL, cursor_factory=DescribedOnDemandCursor) as lazy:
        lazy.execute("CREATE TEMPORARY TABLE t (x int)")
        assert lazy.execute("INSERT INTO t VALUES (1)").description is None
        empty = lazy.execute("SELECT")
        assert empty.description is not None and len(empty.description) == 0


def test_reading_a_description_after_the_cursor_moved_on_is_an_error_not_a_wrong_answer():
    with psycopg.connect(PG_ADMIN_URL, cursor_factory=DescribedOnDemandCursor) as lazy:
        cursor = lazy.cursor()
        description = cursor.execute(QUERY).description
        cursor.execute("SELECT 2 AS other")
        with pytest.raises(RuntimeError, match="another query"):
            description[0]
