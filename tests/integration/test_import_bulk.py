"""A large accounts import (the bulk paths, made to trigger at a small size) stores what the row-by-row
rules give, keeps the schema as it was, and a second import of the same file writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select, text

from dynbooks.config import load_config
from dynbooks.domain.clock import Now
from dynbooks.sample import generate
from dynbooks.services import imports, imports_effects
from dynbooks.services.context import Context
from dynbooks.services.imports import import_file
from dynbooks.services.market import load_market
from dynbooks.services.routing import segments_of
from dynbooks.store import bulk
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import account_roles, accounts, assignments, events

AS_OF = date(2026, 3, 2)


def _indexes(engine: Engine) -> list[tuple[str, str]]:
    """Every index of the database with its definition (SQLite: the stored SQL; PostgreSQL: pg_indexes)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
        else:
            rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))
        return sorted((str(name), str(sql)) for name, sql in rows)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (accounts, account_roles, events, assignments)}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The test's database, migrated."""
    engine = connect(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    generate(folder, seed=7, accounts=3000, as_of=AS_OF)
    return folder


def test_a_bulk_import_stores_the_owners_segments_the_market_gives_and_keeps_every_index(
    engine: Engine, sample: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The bulk paths at a small size: deferred indexes, staged joins instead of IN lists.
    monkeypatch.setattr(bulk, "DEFER_INDEXES_FROM", 100)
    monkeypatch.setattr(imports_effects, "STAGE_ABOVE", 50)
    monkeypatch.setattr(imports, "COMPARE_SLICE", 700)
    schema = _indexes(engine)
    config = load_config(sample / "dynbooks.toml")
    ctx = Context(engine=engine, config=config, now=Now.of_date(AS_OF), actor="test")
    import_file(ctx, "reps", sample / "reps.csv")
    first = import_file(ctx, "accounts", sample / "accounts.csv")
    assert first["inserted"] == 3000 and first["owners_recorded"] > 100
    assert _indexes(engine) == schema
    with engine.connect() as conn:
        stored = conn.execute(select(account_roles.c.account_id, account_roles.c.rule, account_roles.c.segment)
                              .where(account_roles.c.state == "owned")).all()
        market = load_market(conn, config, ctx.now)
    by_rule: dict[str, dict[str, object]] = {}
    for name, rule in config.rules.items():
        by_rule[name] = dict(zip(market.ids.tolist(), segments_of(market, rule).tolist(), strict=True))
    assert {segment for _, _, segment in stored} > {None}  # the sample's segmented rule owns some accounts
    assert [(a, rule, by_rule[rule][a]) for a, rule, _ in stored] == [tuple(r) for r in stored]

    before = _counts(engine)
    again = import_file(ctx, "accounts", sample / "accounts.csv")
    assert (again["inserted"], again["updated"], again["unchanged"], again["owners_recorded"]) == (0, 0, 3000, 0)
    assert _counts(engine) == before

    lines = (sample / "accounts.csv").read_text().splitlines(keepends=True)
    cells = lines[2000].split(",")
    cells[1] = "Renamed Ltd"
    lines[2000] = ",".join(cells)
    (sample / "changed.csv").write_text("".join(lines))
    third = import_file(ctx, "accounts", sample / "changed.csv")
    assert (third["inserted"], third["updated"], third["unchanged"]) == (0, 1, 2999)
    with engine.connect() as conn:
        assert conn.execute(select(accounts.c.name).where(accounts.c.account_id == cells[0])).scalar_one() == \
            "Renamed Ltd"


def test_indexes_dropped_for_a_bulk_load_come_back_when_it_is_rolled_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "DEFER_INDEXES_FROM", 2)
    schema = _indexes(engine)
    rows = [(f"a{i}", f"Acme {i}", f"acme{i % 3}.com", "2026-03-02 00:00:00.000000") for i in range(10)]
    with pytest.raises(RuntimeError), engine.begin() as conn:
        with bulk.secondary_indexes_deferred(conn, accounts, len(rows)):
            if conn.dialect.name == "sqlite":
                assert "ix_accounts_domain" not in _index_names(conn)
            conn.exec_driver_sql(
                "INSERT INTO accounts (account_id, name, domain, updated_at) VALUES "
                + ", ".join(f"('{a}', '{n}', '{d}', '{u}')" for a, n, d, u in rows))
        raise RuntimeError("the import fails after the insert")
    assert _indexes(engine) == schema
    assert _counts(engine)["accounts"] == 0


def test_a_table_holding_more_rows_than_the_insert_keeps_its_indexes_meanwhile(
    engine: Engine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "DEFER_INDEXES_FROM", 2)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO accounts (account_id, name, updated_at) VALUES "
                             + ", ".join(f"('a{i}', 'n', '2026-03-02 00:00:00')" for i in range(5)))
        with bulk.secondary_indexes_deferred(conn, accounts, 3):
            kept = _index_names(conn)
        assert "ix_accounts_domain" in kept


def _index_names(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        return {n for (n,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    return {n for (n,) in conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))}
