"""The SQL compiler of book-rule filters agrees with the numpy evaluator on the same accounts.

Both read the same rows: numpy through the columns the market loader
builds (text/None, float64/NaN, bool, custom JSON values), SQL straight from the table. Missing
values (NULL columns, absent custom keys, JSON null) and values of the wrong type are in the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, insert, select

from dynbooks.domain.filters import evaluate
from dynbooks.store.db import connect
from dynbooks.store.filters_sql import NUMBER_FIELDS, TEXT_FIELDS, compile_filter
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import accounts

NOW = datetime(2026, 3, 2)

ACCOUNTS: list[dict[str, Any]] = [
    {"account_id": "a1", "name": "Acme Retail", "industry": "Retail", "employees": 150, "annual_revenue": 1e6,
     "region": "NA", "country": "US", "fit_score": 0.5, "is_customer": False,
     "custom": {"tier": "gold", "seats": 10, "inbound": True, "note": "Big_Deal 100%"}},
    {"account_id": "a2", "name": "beta", "industry": None, "employees": None, "annual_revenue": None,
     "region": None, "country": None, "fit_score": None, "is_customer": True, "custom": None},
    {"account_id": "a3", "name": "Gamma Health", "industry": "Health", "employees": 2000, "annual_revenue": 5e7,
     "region": "EMEA", "country": "DE", "fit_score": 0.0, "is_customer": False,
     "custom": {"tier": "silver", "seats": "many", "inbound": False, "note": None}},
    {"account_id": "a4", "name": "délta", "industry": "retail", "employees": 199, "annual_revenue": 0.0,
     "region": "NA", "country": "CA", "fit_score": 0.99, "is_customer": False,
     "custom": {"tier": 3, "seats": 10.5, "inbound": 1}},
    {"account_id": "a5", "name": "Zeta", "industry": "Retailer", "employees": 0, "annual_revenue": 2e9,
     "region": "na", "country": "US", "fit_score": 1.0, "is_customer": True, "custom": {}},
]

SPECS: list[dict[str, Any]] = [
    {},
    {"is_customer": False, "region": "NA"},
    {"industry": "Retail"},
    {"industry": ["Retail", "Health"]},
    {"industry": {"ne": "Retail"}},
    {"industry": {"not_in": ["Retail", "Health"]}},
    {"industry": {"contains": "retail"}},
    {"name": {"contains": "A"}},
    {"industry": {"exists": True}},
    {"industry": {"exists": False}},
    {"employees": {"lt": 200}},
    {"employees": {"gte": 200, "lt": 2000}},
    {"employees": {"gte": 2000}},
    {"employees": 150},
    {"employees": {"ne": 150}},
    {"employees": {"in": [0, 199]}},
    {"employees": {"not_in": [0, 199]}},
    {"employees": "150"},
    {"employees": True},
    {"employees": {"exists": False}},
    {"annual_revenue": {"gt": 0.5, "lte": 5e7}},
    {"fit_score": {"gte": 0.5}},
    {"fit_score": {"lt": 0.5}},
    {"is_customer": True},
    {"is_customer": 1},
    {"is_customer": "true"},
    {"is_customer": {"gt": 0}},
    {"is_customer": {"ne": False}},
    {"country": {"gt": "CA"}},
    {"country": {"lte": "DE"}},
    {"country": {"lt": 5}},
    {"name": {"gte": "beta"}},
    {"region": {"ne": "NA"}, "employees": {"lt": 1000}},
    {"tier": "gold"},
    {"tier": 3},
    {"tier": {"ne": "gold"}},
    {"tier": {"in": ["gold", 3]}},
    {"tier": {"exists": True}},
    {"tier": {"exists": False}},
    {"tier": {"gt": "a"}},
    {"seats": {"gte": 10}},
    {"seats": 10},
    {"seats": {"lt": "n"}},
    {"inbound": True},
    {"inbound": False},
    {"inbound": {"ne": True}},
    {"inbound": 1},
    {"note": {"exists": True}},
    {"note": {"contains": "big_deal 100%"}},
    {"note": {"contains": "_"}},
    {"unknown_field": {"exists": False}},
    {"unknown_field": {"ne": "x"}},
    {"unknown_field": "x"},
]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = connect(db_url)
    upgrade(eng)
    with eng.begin() as conn:
        conn.execute(insert(accounts), [a | {"updated_at": NOW} for a in ACCOUNTS])
    yield eng
    eng.dispose()


def _columns() -> dict[str, np.ndarray]:
    """The accounts as the report and market loaders hold them."""
    cols: dict[str, np.ndarray] = {}
    for name in TEXT_FIELDS:
        cols[name] = np.array([a.get(name) for a in ACCOUNTS], dtype=object)
    for name in NUMBER_FIELDS:
        cols[name] = np.array([a.get(name) for a in ACCOUNTS], dtype=np.float64)
    cols["is_customer"] = np.array([a["is_customer"] for a in ACCOUNTS], dtype=bool)
    for name in ("tier", "seats", "inbound", "note", "unknown_field"):
        cols[name] = np.array([(a["custom"] or {}).get(name) for a in ACCOUNTS], dtype=object)
    return cols


@pytest.mark.parametrize("spec", SPECS, ids=[str(s) for s in SPECS])
def test_sql_and_numpy_select_the_same_accounts(engine: Engine, spec: dict[str, Any]) -> None:
    ids = [a["account_id"] for a in ACCOUNTS]
    expected = {i for i, keep in zip(ids, evaluate(spec, _columns(), len(ids)), strict=True) if keep}
    with engine.connect() as conn:
        where = compile_filter(spec, conn.dialect.name)
        got = {r[0] for r in conn.execute(select(accounts.c.account_id).where(where))}
        # Two-valued: the negation selects exactly the rest (no NULL falls out of both).
        rest = {r[0] for r in conn.execute(select(accounts.c.account_id).where(~where))}
    assert got == expected
    assert rest == set(ids) - expected


def test_the_fixture_exercises_both_outcomes() -> None:
    """Guard against a vacuous fixture: most specs keep some accounts and drop others."""
    n = len(ACCOUNTS)
    split = [0 < int(evaluate(s, _columns(), n).sum()) < n for s in SPECS]
    assert sum(split) >= len(SPECS) * 2 // 3
