"""Bulk inserts below SQLAlchemy's per-row parameter handling: ``COPY`` on PostgreSQL, a DB-API
``executemany`` of tuples on SQLite, in the caller's transaction.

Each value still goes through its column type's own bind processor (the one SQLAlchemy would call), so
what is stored is byte for byte what ``conn.execute(insert(table), dicts)`` stores: the same DATETIME
text on SQLite, the same JSON (``None`` included, as SQLAlchemy binds it). What is saved is the dict and
the compiled-parameter set built per row, which cost more than the database's own work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Column, Connection, MetaData, Table, Text

__all__ = [
    "delete_rows", "insert_columns", "insert_dicts", "insert_rows", "secondary_indexes_deferred", "stage_keys",
    "update_rows",
]

DEFER_INDEXES_FROM = 50_000
"""Inserts of fewer rows keep every index up to date as they go (see :func:`secondary_indexes_deferred`)."""

_STAGING = MetaData()
STAGED_KEYS = Table("staged_keys", _STAGING, Column("k", Text, primary_key=True), prefixes=["TEMPORARY"])
"""A temporary table of keys, to join a large id list against a table instead of thousands of ``IN (...)``."""


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; returns how many."""
    if not rows:
        return 0
    return insert_columns(conn, table, columns, list(map(list, zip(*rows, strict=True))))


def insert_columns(conn: Connection, table: Table, columns: Sequence[str], values: Sequence[Sequence[Any]]) -> int:
    """Insert the rows given column by column (``values[k]`` holds column ``columns[k]`` of every row, all of
    the same length) into ``table``; returns how many. No row tuple is built before the bind step."""
    if not values or not values[0]:
        return 0
    dialect = conn.dialect
    rows = list(zip(*_bound(conn, table, columns, values), strict=True))
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if dialect.name == "postgresql":
        _copy(conn, table.name, columns, rows)
    else:
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", rows)
    return len(rows)


def _bound(
    conn: Connection, table: Table, columns: Sequence[str], values: Sequence[Sequence[Any]]
) -> list[Sequence[Any]]:
    """The columns with every value through its column's bind processor, as SQLAlchemy would bind it.

    A cycle writes the same stamp, rule or date on every row, an import the same few custom fields: each
    distinct value (each distinct object, for JSON, whose dicts are not hashable) is processed once, and
    the column is mapped in C.
    """
    dialect = conn.dialect
    out: list[Sequence[Any]] = list(values)
    for k, name in enumerate(columns):
        kind = table.c[name].type
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            continue
        column = values[k]
        if isinstance(kind, JSON):
            # Keyed by identity: ``column`` holds every object alive meanwhile, so no id is reused.
            distinct = dict(zip(map(id, column), column, strict=True))
            done = {i: process(v) for i, v in distinct.items()}
            out[k] = list(map(done.__getitem__, map(id, column)))
            continue
        try:
            done = {v: process(v) for v in set(column)}
            out[k] = list(map(done.__getitem__, column))
        except (TypeError, KeyError):  # an unhashable value, or one unequal to itself (NaN)
            out[k] = [process(v) for v in column]
    return out


@contextmanager
def secondary_indexes_deferred(conn: Connection, table: Table, adding: int) -> Iterator[None]:
    """SQLite, for a bulk insert of ``adding`` rows into a table that holds fewer rows than that: the table's
    non-unique indexes are dropped meanwhile and built again, from their own stored ``CREATE INDEX`` text,
    at the end. Building an index once from all the rows costs a fraction of keeping it up to date row by
    row in random key order (a million accounts by domain: about 3 s less).

    In the caller's transaction: SQLite's DDL is transactional, so a rollback puts the indexes back as they
    were, and other connections keep reading the last committed state (indexes included) meanwhile. Unique
    indexes stay, and so do their checks. Anything else (a small insert, a large table, PostgreSQL, where
    dropping an index would lock the table for its readers) leaves the indexes alone.
    """
    if conn.dialect.name != "sqlite" or adding < DEFER_INDEXES_FROM or _holds_at_least(conn, table, adding):
        yield
        return
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table.name,),
    ).all()
    deferred = [(name, sql) for name, sql in found if not sql.lstrip().upper().startswith("CREATE UNIQUE")]
    quote = conn.dialect.identifier_preparer.quote
    for name, _ in deferred:
        conn.exec_driver_sql(f"DROP INDEX {quote(name)}")
    yield
    for _, sql in deferred:
        conn.exec_driver_sql(sql)


def _holds_at_least(conn: Connection, table: Table, n: int) -> bool:
    """Whether ``table`` has ``n`` rows or more (counting no further than ``n``)."""
    quote = conn.dialect.identifier_preparer.quote
    found = conn.exec_driver_sql(f"SELECT count(*) FROM (SELECT 1 FROM {quote(table.name)} LIMIT {int(n)}) AS t")
    return int(found.scalar_one()) >= n


def _rows_bound(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """:func:`_bound` for rows: the rows with every value bound."""
    return list(zip(*_bound(conn, table, columns, list(zip(*rows, strict=True))), strict=True))


def _copy(conn: Connection, table: str, columns: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    raw = conn.connection.driver_connection
    assert raw is not None
    names = ", ".join(quote(c) for c in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)


def _stage(conn: Connection, table: Table, columns: Sequence[str], values: Sequence[Sequence[Any]]) -> str:
    """PostgreSQL: the rows COPYed into a temporary table shaped like ``table``'s ``columns``; its name."""
    quote = conn.dialect.identifier_preparer.quote
    name = f"stage_{table.name}"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {quote(name)} ON COMMIT DROP AS SELECT "
        f"{', '.join(quote(c) for c in columns)} FROM {quote(table.name)} WITH NO DATA"
    )
    _copy(conn, name, columns, values)
    conn.exec_driver_sql(f"ANALYZE {quote(name)}")
    return name


def update_rows(
    conn: Connection, table: Table, keys: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]],
    where: str = "",
) -> int:
    """Set ``columns`` of the rows found by ``keys``: each of ``rows`` holds the new values, then the keys.

    ``where`` (SQL, naming the table's columns as ``table.column``) narrows the rows updated. One ``UPDATE … FROM`` a
    COPYed temporary table on PostgreSQL; an ``executemany`` of tuples on SQLite.
    """
    if not rows:
        return 0
    quote = conn.dialect.identifier_preparer.quote
    values = _rows_bound(conn, table, [*columns, *keys], rows)
    t = quote(table.name)
    extra = f" AND {where}" if where else ""
    if conn.dialect.name == "postgresql":
        s = _stage(conn, table, [*columns, *keys], values)
        sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in columns)
        match = " AND ".join(f"{t}.{quote(k)} = s.{quote(k)}" for k in keys)
        conn.exec_driver_sql(f"UPDATE {t} SET {sets} FROM {quote(s)} AS s WHERE {match}{extra}")
    else:
        sets = ", ".join(f"{quote(c)} = ?" for c in columns)
        match = " AND ".join(f"{quote(k)} = ?" for k in keys)
        conn.exec_driver_sql(f"UPDATE {t} SET {sets} WHERE {match}{extra}", values)
    return len(rows)


def delete_rows(conn: Connection, table: Table, keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Delete the rows whose ``keys`` are one of ``rows`` (as :func:`update_rows` finds them)."""
    if not rows:
        return 0
    quote = conn.dialect.identifier_preparer.quote
    values = _rows_bound(conn, table, keys, rows)
    t = quote(table.name)
    if conn.dialect.name == "postgresql":
        s = _stage(conn, table, keys, values)
        match = " AND ".join(f"{t}.{quote(k)} = s.{quote(k)}" for k in keys)
        conn.exec_driver_sql(f"DELETE FROM {t} USING {quote(s)} AS s WHERE {match}")
    else:
        match = " AND ".join(f"{quote(k)} = ?" for k in keys)
        conn.exec_driver_sql(f"DELETE FROM {t} WHERE {match}", values)
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
