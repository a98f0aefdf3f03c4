"""Shared fixtures: a fresh database per test on SQLite always, and on PostgreSQL when
``DYNBOOKS_TEST_POSTGRES_URL`` is set (``make test`` sets it when a server answers)."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

from dynbooks.services import auth
from dynbooks.store.db import connect, normalise_url

PG = os.environ.get("DYNBOOKS_TEST_POSTGRES_URL")

# Hypothesis profiles for the stateful and fuzz tests (tests/property, tests/reliability): ``fast`` in
# ``make test``, ``nightly`` in ``make reliability``. HYPOTHESIS_PROFILE selects one for the whole run.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("fast", max_examples=15, stateful_step_count=20, deadline=None,
                          suppress_health_check=_SLOW_OK)
settings.register_profile("nightly", max_examples=1000, stateful_step_count=30, deadline=None,
                          suppress_health_check=_SLOW_OK)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
_real_hash_password = auth.hash_password
_hash_once = functools.cache(_real_hash_password)


@pytest.fixture(autouse=True)
def _one_argon2_hash_per_password(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Users added in a test process share one real Argon2id hash (argon2-cffi's defaults, its own salt) per
    password: an org's four users cost one hash, not four per test (0.1-1 s each on a loaded machine).
    Sign-ins still verify that real hash. Tests marked ``real_password_hashing`` hash every password anew
    (tests/unit/test_passwords.py checks the parameters and that every user gets a salt of its own)."""
    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(auth, "hash_password", _hash_once)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)] if PG else ["sqlite"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.backend("sqlite")``: a test about one database's behaviour is not collected for the other
    one, so that a run never counts a skipped test (deselected items are reported as such)."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        only = item.get_closest_marker("backend")
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("db_url") if callspec is not None else None
        (drop if only is not None and backend is not None and backend not in only.args else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # The folders with the long tests (real processes, servers, races) first, so that the workers of a parallel
    # run (make test: pytest -n auto) do not end on one long test while the others idle. Modules stay whole.
    keep.sort(key=lambda item: _FIRST.get(item.path.relative_to(_HERE).parts[0], len(_FIRST)))
    items[:] = keep


_HERE = Path(__file__).parent
_FIRST = {folder: rank for rank, folder in enumerate(
    ["reliability", "e2e", "integration", "property", "browser", "api", "unit"])}


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a PostgreSQL schema of its own dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    assert PG is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = connect(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG else "?"
    try:
        yield f"{normalise_url(PG)}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
