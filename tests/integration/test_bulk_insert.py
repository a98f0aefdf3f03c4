"""The bulk insert path stores exactly what SQLAlchemy's insert stores, on both databases."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, select, text

from dynbooks.store.bulk import insert_rows
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import account_roles, events

STAMP = datetime(2026, 3, 2, 0, 0)


def _raw(conn, table: str, key: str, value: str) -> list[tuple[object, ...]]:
    cast = "CAST({} AS TEXT)" if conn.dialect.name == "postgresql" else "{}"
    columns = [c.name for c in (events if table == "events" else account_roles).columns if c.name not in ("seq",)]
    quoted = ", ".join(cast.format(f'"{c}"') for c in columns if c != key)
    return [tuple(r) for r in conn.execute(text(f'SELECT {quoted} FROM {table} WHERE "{key}" LIKE :v ORDER BY 1'),
                                          {"v": value})]


def test_bulk_rows_read_back_exactly_as_sqlalchemy_rows(db_url: str) -> None:
    engine = connect(db_url)
    upgrade(engine)
    event = {"at": STAMP, "type": "distributed", "role": "sdr", "rep_id": "r1", "reason": "cycle", "rule": "x",
             "cycle_id": "c1", "before": "pool", "after": "owned", "actor": "cli"}
    role = {"role": "sdr", "state": "resting", "rep_id": None, "rule": "x", "segment": None, "since": STAMP,
            "rest_until": date(2026, 4, 1), "reason": "not_worked", "assigned_at": None, "worked_at": STAMP,
            "last_activity_at": None, "over_capacity": False, "cycle_id": None}
    datas = [{"segment": None, "priority": 1.5, "explanation": "é"}, None]
    with engine.begin() as conn:
        conn.execute(insert(events), [{**event, "account_id": f"a{i}", "data": d} for i, d in enumerate(datas)])
        cols = ("account_id", *event, "data")
        insert_rows(conn, events, cols, [(f"b{i}", *event.values(), d) for i, d in enumerate(datas)])
        conn.execute(insert(account_roles), [{**role, "account_id": "a0"}])
        insert_rows(conn, account_roles, ("account_id", *role), [("b0", *role.values())])
    with engine.connect() as conn:
        assert _raw(conn, "events", "account_id", "a%") == _raw(conn, "events", "account_id", "b%")
        assert _raw(conn, "account_roles", "account_id", "a%") == _raw(conn, "account_roles", "account_id", "b%")
        read = conn.execute(select(events.c.data).order_by(events.c.account_id)).scalars().all()
    assert read == datas + datas
