"""Migrations: ``dynbooks init`` brings any database to the newest schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, insert, select

from dynbooks.store.schema import locks

__all__ = ["alembic_config", "downgrade", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision`` in one transaction, then make sure the lock row exists."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        conn.info["write"] = False
        with conn.begin():
            if conn.execute(select(locks.c.name).where(locks.c.name == "cycle")).first() is None:
                conn.execute(insert(locks).values(name="cycle"))


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
