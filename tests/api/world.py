"""A small organisation behind the web app and the API: three reps in two teams, one user per role."""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from dynbooks.app import create_app
from dynbooks.services.auth import add_user, create_token
from dynbooks.services.cycle import run_cycle
from dynbooks.settings import Settings
from dynbooks.store.db import connect
from dynbooks.store.schema import metadata
from tests.integration.helpers import SDR_ONLY, World

PASSWORD = "correct horse battery"
DAY = "2026-03-02"
USERS = {
    "admin": ("admin@example.com", "admin", None, None),
    "manager": ("east@example.com", "manager", None, "east"),
    "rep": ("s1@example.com", "rep", "S1", None),
    "other_rep": ("s3@example.com", "rep", "S3", None),
}


@dataclass
class Org:
    world: World
    settings: Settings
    tokens: dict[str, str]

    def app(self):  # type: ignore[no-untyped-def]
        return create_app(self.settings)


def _populate(world: World) -> dict[str, str]:
    """S1 and S2 in team east, S3 in west; accounts C00…C11 (best first); a cycle deals 3 to each rep; the
    users; their API tokens."""
    world.load("reps", "rep_id,name,book_rule,team,manager",
               ["S1,Sam,sdr,east,Erin", "S2,Sue,sdr,east,Erin", "S3,Sid,sdr,west,Walt"])
    world.load("accounts", "account_id,name,employees,fit_score,industry,country",
               [f"C{i:02d},Company {i},{100 + i},{90 - i},Software,US" for i in range(12)])
    run_cycle(world.ctx())
    tokens = {}
    for name, (email, role, rep_id, team) in USERS.items():
        add_user(world.ctx(), email, PASSWORD, role, rep_id=rep_id, team=team)
        tokens[name] = create_token(world.ctx(), email)["token"]
    return tokens


def _schema_of(engine: Engine) -> str:
    """The PostgreSQL schema a test's URL points at (``options=-csearch_path=…``)."""
    options = unquote(str(engine.url.query.get("options", "")))
    assert options.startswith("-csearch_path="), f"a test URL without a schema of its own: {engine.url}"
    return options.removeprefix("-csearch_path=")


_TEMPLATE: dict[str, tuple[str, dict[str, str]]] = {}


def _template(db_url: str) -> tuple[str, dict[str, str]]:
    """The org, built once per test process and database kind through the services, as a URL to copy from.
    The PostgreSQL template lives in a schema of its own in the test database, dropped when the process ends."""
    kind = make_url(db_url).get_backend_name()
    if kind not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="dynbooks-org-"))
        atexit.register(shutil.rmtree, folder, True)
        if kind == "sqlite":
            url = f"sqlite:///{folder / 'org.db'}"
        else:
            url_of_test = make_url(db_url)
            schema = f"org_{uuid.uuid4().hex[:12]}"
            admin = connect(url_of_test.set(query={}).render_as_string(hide_password=False))
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))

            def drop(admin: Engine = admin, schema: str = schema) -> None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()

            atexit.register(drop)
            url = url_of_test.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False)
        world = World(url, folder)
        tokens = _populate(world)
        world.engine.dispose()
        _TEMPLATE[kind] = (url, tokens)
    return _TEMPLATE[kind]


def _copy_file(source: str, target: str) -> None:
    """The template's SQLite file, page by page (the backup API: a consistent copy), as the test's database."""
    with closing(sqlite3.connect(make_url(source).database or "")) as src, \
            closing(sqlite3.connect(make_url(target).database or "")) as dst:
        src.backup(dst)


def _copy_rows(source: str, target: Engine) -> None:
    """Every row of the PostgreSQL template into the test's freshly migrated schema, sequences included."""
    engine = connect(source)
    origin = _schema_of(engine)
    engine.dispose()
    to = _schema_of(target)
    with target.begin() as conn:
        migrated = set(conn.execute(text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                                    {"s": origin}).scalars())
        tables = [t.name for t in metadata.sorted_tables if t.name in migrated]
        conn.execute(text("TRUNCATE " + ", ".join(f'"{to}"."{t}"' for t in tables)))  # rows the migrations seed
        for table in (t for t in metadata.sorted_tables if t.name in migrated):
            conn.execute(text(f'INSERT INTO "{to}"."{table.name}" SELECT * FROM "{origin}"."{table.name}"'))
        for name, last in conn.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = :s AND last_value IS NOT NULL"),
                {"s": origin}).all():
            conn.execute(text(f"SELECT setval('\"{to}\".\"{name}\"', :v)"), {"v": last})


def build_org(db_url: str, folder: Path, *, webhook_secret: str | None = None) -> Org:
    """The org on the empty database at ``db_url``: a copy of one built through the services (S1 and S2 in
    team east, S3 in west; accounts C00…C11, best first; a cycle dealt 3 to each rep; one user and one API
    token per role), so that each test pays a file copy (SQLite) or a few INSERT … SELECT (PostgreSQL) rather
    than the imports, the cycle and the users."""
    source, tokens = _template(db_url)
    if make_url(db_url).get_backend_name() == "sqlite":
        _copy_file(source, db_url)
        world = World(db_url, folder)  # its migration finds the copy up to date
    else:
        world = World(db_url, folder)
        _copy_rows(source, world.engine)
    config = folder / "dynbooks.toml"
    config.write_text(SDR_ONLY, encoding="utf-8")
    settings = Settings(db=db_url, config=str(config), as_of=DAY, secret_key="k" * 40, webhook_secret=webhook_secret,
                        wait=5.0)
    return Org(world, settings, dict(tokens))
