"""Migrations go up and down on both databases, and agree with the tables the code uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dynbooks.store.db import connect
from dynbooks.store.migrate import downgrade, upgrade
from dynbooks.store.schema import metadata


def test_migrations_match_the_models_and_go_down_and_up_again(db_url: str) -> None:
    engine = connect(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "account_roles" in inspect(engine).get_table_names()
