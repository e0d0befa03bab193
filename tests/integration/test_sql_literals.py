"""Batched writes quote their values by hand (bpm.store.direct.sql_literal): PostgreSQL must read back exactly
what psycopg's own binding gives it, for any text, and refuse what psycopg refuses."""

from __future__ import annotations

import datetime as dt
import enum

import orjson
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from bpm.store.direct import json_dumper, sql_literal
from tests.conftest import BACKENDS, PG_ADMIN_URL

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL is not reachable")


class Colour(enum.StrEnum):
    RED = "re'd"


@pytest.fixture(scope="module")
def cursor():
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        assert conn.info.parameter_status("standard_conforming_strings") == "on"
        yield psycopg.ClientCursor(conn)


def _as_postgres_reads(cursor, literal: str, sql_type: str):
    return cursor.execute(f"SELECT ({literal})::{sql_type}").fetchone()[0]


def _as_bound(cursor, value, sql_type: str):
    return cursor.execute(f"SELECT (%s)::{sql_type}", (value,)).fetchone()[0]


@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))))
def test_any_text_reads_back_as_written(cursor, text):
    assert _as_postgres_reads(cursor, sql_literal(text, cursor), "text") == text


@pytest.mark.parametrize("text", ["", "'", "''", "\\", "\\'", "O'Brien \\ 'x'); DROP TABLE task; --", "naïve ✓ 𝄞",
                                  "E'\\x41'", "$$", "\n\r\t"])
def test_awkward_text_reads_back_as_written(cursor, text):
    assert _as_postgres_reads(cursor, sql_literal(text, cursor), "text") == text


@pytest.mark.parametrize(("value", "sql_type"), [
    (None, "text"), (0, "bigint"), (-(2 ** 63), "bigint"), (2 ** 63 - 1, "bigint"), (True, "boolean"),
    (False, "boolean"), (Colour.RED, "text"), (1.5, "float8"), (dt.date(2026, 12, 7), "date"),
    (dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))), "timestamptz"),
    (dt.datetime(2026, 3, 1, 12, 30, 15, tzinfo=dt.UTC), "timestamptz"),
    (dt.datetime(2026, 3, 1, 12, 30, 15), "timestamp"),
])
def test_other_values_read_back_as_psycopg_binds_them(cursor, value, sql_type):
    assert _as_postgres_reads(cursor, sql_literal(value, cursor), sql_type) == _as_bound(cursor, value, sql_type)


def test_json_is_written_by_its_own_serializer(cursor):
    document = {"text": "naïve ✓ \"quoted\" \\ back 'single'", "n": [1, 2.5, -3, None, True], "nested": {}}
    literal = sql_literal(Jsonb(document, dumps=lambda value: orjson.dumps(value).decode()), cursor)
    assert _as_postgres_reads(cursor, literal, "jsonb") == document


def test_json_without_its_own_serializer_is_written_by_the_connections_as_psycopg_would(cursor):
    """SQLAlchemy's JSONB values carry no serializer: the connection's writes them (here psycopg's default; the
    service's engines set orjson on each connection), the same text ``mogrify`` would quote."""
    document = {"text": "naïve ✓ \"quoted\" \\ back 'single'", "n": [1, 2.5, -3, None, True], "nested": {}}
    value = Jsonb(document)
    literal = sql_literal(value, cursor, json_dumper(cursor))
    by_psycopg = cursor.mogrify("%s", (value,)).removesuffix("::jsonb")  # (an E'' literal: backslashes doubled)
    assert _as_postgres_reads(cursor, literal, "text") == _as_postgres_reads(cursor, by_psycopg, "text")
    assert _as_postgres_reads(cursor, literal, "jsonb") == document


def test_a_nul_is_refused_as_psycopg_refuses_it(cursor):
    with pytest.raises(psycopg.DataError) as by_hand:
        sql_literal("a\x00b", cursor)
    with pytest.raises(psycopg.DataError) as by_psycopg:
        cursor.mogrify("%s", ("a\x00b",))
    assert type(by_hand.value) is type(by_psycopg.value)
