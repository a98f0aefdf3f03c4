"""Read use case: the pool explorer (SPEC §8 RevOps): the accounts of one role, filtered, paged, best first.

The field filters are turned into a book-rule filter (``{field: condition}``, :mod:`dynbooks.domain.filters`)
and evaluated by the same code a cycle uses, so "industry is one of", "employees between" and "name
contains" mean exactly what they mean in a rule; there is no second parser.

Filters:

- ``role``: whose pool (default: the rule's role, else the first role of the configuration);
- ``rule``: accounts a book rule may take (its filter and its ``min_priority``);
- ``industry``, ``country``, ``region``: one of the values given;
- ``employees_min``/``employees_max``, ``fit_min``/``fit_max``: inclusive ranges;
- ``status``: ``ready`` (default: active, enrolled and in the role's pool: what a cycle may deal),
  ``pool`` (no row for the role, whatever enrollment says), ``owned``, ``resting``, ``review`` (per role),
  ``held``, ``retired`` (the account), or ``any``;
- ``q``: text in the name or the account id (case-insensitive).

Sorted by priority (highest first, ties by account id), as the pool is dealt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from dynbooks.domain.errors import InvalidInput
from dynbooks.domain.filters import evaluate
from dynbooks.services.context import Context
from dynbooks.services.market import load_market
from dynbooks.store.schema import account_roles

__all__ = ["MAX_PER_PAGE", "PARAMS", "STATUSES", "PoolQuery", "explore_pool", "query_from"]

STATUSES = ("ready", "pool", "owned", "resting", "review", "held", "retired", "any")
MAX_PER_PAGE = 500
PARAMS = ("role", "rule", "industry", "country", "region", "employees_min", "employees_max", "fit_min", "fit_max",
          "status", "q", "page", "per_page")
"""The query parameters of ``GET /api/pool`` and ``/admin/pool`` (lists as comma-separated values)."""


@dataclass(frozen=True)
class PoolQuery:
    role: str | None = None
    rule: str | None = None
    industry: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    employees_min: float | None = None
    employees_max: float | None = None
    fit_min: float | None = None
    fit_max: float | None = None
    status: str = "ready"
    q: str | None = None
    page: int = 1
    per_page: int = 50

    def spec(self) -> dict[str, Any]:
        """The field conditions as a book-rule filter (conditions are ANDed)."""
        spec: dict[str, Any] = {}
        for name in ("industry", "country", "region"):
            values = [v for v in getattr(self, name) if v]
            if values:
                spec[name] = values
        for name, low, high in (("employees", self.employees_min, self.employees_max),
                                ("fit_score", self.fit_min, self.fit_max)):
            bounds = {op: v for op, v in (("gte", low), ("lte", high)) if v is not None}
            if bounds:
                spec[name] = bounds
        return spec


def query_from(params: Mapping[str, str | None]) -> PoolQuery:
    """A :class:`PoolQuery` from query-string values; empty values mean "no filter"."""
    given = {k: v.strip() for k, v in params.items() if k in PARAMS and v is not None and v.strip()}
    values: dict[str, Any] = {}
    for name, text in given.items():
        if name in ("industry", "country", "region"):
            values[name] = tuple(v.strip() for v in text.split(",") if v.strip())
        elif name in ("employees_min", "employees_max", "fit_min", "fit_max", "page", "per_page"):
            try:
                number = float(text)
            except ValueError:
                raise InvalidInput(f"{name}: {text!r} is not a number") from None
            if not math.isfinite(number):
                raise InvalidInput(f"{name}: {text!r} is not a number")
            values[name] = int(number) if name in ("page", "per_page") else number
        else:
            values[name] = text
    return PoolQuery(**values)


def explore_pool(ctx: Context, query: PoolQuery) -> dict[str, Any]:
    """``{"role", "filters", "filter", "total", "page", "per_page", "pages", "rows": [...]}``; each row has
    ``account_id name industry country region employees fit_score priority state rep_id``."""
    config = ctx.config
    rule = None
    if query.rule:
        rule = config.rules.get(query.rule)
        if rule is None:
            raise InvalidInput(f"unknown book rule {query.rule!r}; known: {', '.join(sorted(config.rules))}")
    role = query.role or (rule.role if rule else (config.roles[0] if config.roles else None))
    if role not in config.roles:
        raise InvalidInput(f"unknown role {role!r}; known: {', '.join(config.roles)}")
    if rule is not None and rule.role != role:
        raise InvalidInput(f"book rule {rule.name!r} deals the {rule.role} role, not {role}")
    if query.status not in STATUSES:
        raise InvalidInput(f"unknown status {query.status!r}; use one of {', '.join(STATUSES)}")
    if query.page < 1 or not 1 <= query.per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"page must be 1 or more and per_page between 1 and {MAX_PER_PAGE}")
    spec = query.spec()
    with ctx.reading() as conn:
        market = load_market(conn, config, ctx.now)
        held = conn.execute(select(account_roles.c.account_id, account_roles.c.state, account_roles.c.rep_id)
                            .where(account_roles.c.role == role)).all()
    n = market.n
    state = np.full(n, "pool", dtype=object)
    owner = np.full(n, None, dtype=object)
    if held:
        at = market.positions([r.account_id for r in held])
        known = at >= 0
        state[at[known]] = np.array([r.state for r in held], dtype=object)[known]
        owner[at[known]] = np.array([r.rep_id for r in held], dtype=object)[known]
    status = market.columns["status"]
    state = np.where(status == "active", state, status)  # retired and held are account-wide
    mask = market.matches(spec)
    if query.q:
        text = {"contains": query.q}
        mask &= (evaluate({"name": text}, market.columns, n) | evaluate({"account_id": text}, market.columns, n))
    if query.status == "ready":
        mask &= (state == "pool") & market.active() & market.enrolled(config)
    elif query.status != "any":
        mask &= state == query.status
    if rule is not None:
        mask &= market.rule_match(rule) & (market.priority >= rule.min_priority)
    found = np.flatnonzero(mask)
    order = found[np.lexsort((market.keys[found], -np.round(market.priority[found] * 1e6)))]
    total = len(order)
    start = (query.page - 1) * query.per_page
    shown = order[start:start + query.per_page]
    return {
        "role": role, "filters": asdict(query) | {"role": role},
        "filter": spec, "total": total, "page": query.page, "per_page": query.per_page,
        "pages": max(1, math.ceil(total / query.per_page)),
        "rows": [{"account_id": str(market.ids[i]), "name": market.columns["name"][i],
                  "industry": market.columns["industry"][i], "country": market.columns["country"][i],
                  "region": market.columns["region"][i], "employees": _number(market.columns["employees"][i]),
                  "fit_score": _number(market.columns["fit_score"][i]),
                  "priority": round(float(market.priority[i]), 6), "state": str(state[i]), "rep_id": owner[i]}
                 for i in shown],
    }


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
