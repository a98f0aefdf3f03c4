"""Bulk inserts below SQLAlchemy's per-row parameter handling: ``COPY`` on PostgreSQL, a DB-API
``executemany`` of tuples on SQLite, in the caller's transaction.

Each value still goes through its column type's own bind processor (the one SQLAlchemy would call), so
what is stored is byte for byte what ``conn.execute(insert(table), dicts)`` stores: the same DATETIME
text on SQLite, the same JSON (``None`` included, as SQLAlchemy binds it). What is saved is the dict and
the compiled-parameter set built per row, which cost more than the database's own work.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, Text

__all__ = ["insert_dicts", "insert_rows", "stage_keys"]

_STAGING = MetaData()
STAGED_KEYS = Table("staged_keys", _STAGING, Column("k", Text, primary_key=True), prefixes=["TEMPORARY"])
"""A temporary table of keys, to join a large id list against a table instead of thousands of ``IN (...)``."""


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; returns how many."""
    if not rows:
        return 0
    dialect = conn.dialect
    values: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for k, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            values[k] = [process(v) for v in values[k]]
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in zip(*values, strict=True):
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})",
                             list(zip(*values, strict=True)))
    return len(rows)


def insert_dicts(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """:func:`insert_rows` for dicts that all have the first one's keys (as an ``executemany`` needs)."""
    if not rows:
        return 0
    columns = list(rows[0])
    pick = itemgetter(*columns)
    return insert_rows(conn, table, columns, [pick(row) if len(columns) > 1 else (pick(row),) for row in rows])


def stage_keys(conn: Connection, keys: Sequence[str]) -> Table:
    """Put ``keys`` (distinct) into the connection's temporary ``staged_keys`` table, emptied first; returns it.

    The table lives as long as the connection on SQLite and the transaction on PostgreSQL; join against
    ``STAGED_KEYS.c.k`` in the same transaction.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS staged_keys (k TEXT PRIMARY KEY) ON COMMIT DROP")
    else:
        conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS staged_keys (k TEXT PRIMARY KEY)")
    conn.exec_driver_sql("DELETE FROM staged_keys")
    insert_rows(conn, STAGED_KEYS, ["k"], [(k,) for k in keys])
    return STAGED_KEYS
