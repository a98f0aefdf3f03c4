"""The seeds' dynamic books example, Jane and Joe, reproduced by the real allocator (SPEC §7, §10).

The market: Jane's static territory (Northern Arkansas) holds 100 accounts of which 20 are high quality;
Joe's (Northern California) holds 100, all high quality. Each rep can work 60 accounts at once, and 10% of
the high-quality accounts worked convert. Static territories give Jane her 20 good accounts plus 40
marginal ones and Joe 60 of his 100: 2 + 6 = 8 opportunities. Dynamic books deal the 120 high-quality
accounts 60/60: 6 + 6 = 12. Nothing here is hard-coded beyond the market; the numbers come from
:func:`dynbooks.sim.market.static_books`, :func:`dynbooks.sim.market.dynamic_books` (both calling
:func:`dynbooks.domain.allocate.allocate`) and :func:`dynbooks.sim.outcome.outcome`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynbooks.sim.market import HIGH_QUALITY, Account, Market, Rep, dynamic_books, static_books
from dynbooks.sim.outcome import ModelOutcome, outcome

__all__ = ["jane_joe", "render_table", "seeds_market"]

SEEDS_CAPACITY = {"Jane": 60, "Joe": 60}


def seeds_market(*, capacity: Mapping[str, int] = SEEDS_CAPACITY, conversion_rate: float = 0.10) -> Market:
    """The seeds' market; ``capacity`` (by rep name, missing reps keep 60) and ``conversion_rate`` for what-ifs.

    Qualities are spread evenly and deterministically: high-quality accounts over [60, 100), marginal
    ones over (0, 60). Account ids are ``AR-001`` … (Jane's territory) and ``CA-001`` … (Joe's).
    """
    accounts = _territory("AR", "Northern Arkansas", high=20, marginal=80)
    accounts += _territory("CA", "Northern California", high=100, marginal=0)
    slots = {**SEEDS_CAPACITY, **capacity}
    reps = (Rep("Jane", "Northern Arkansas", slots["Jane"]), Rep("Joe", "Northern California", slots["Joe"]))
    return Market(tuple(accounts), reps, conversion_rate)


def jane_joe(market: Market | None = None) -> dict[str, Any]:
    """Static territories vs. dynamic books on the seeds' market (or ``market``), deterministic mode.

    Returns ``{"static": {"opportunities", "book_productivity", "per_rep"}, "dynamic": {…}, "table": rows}``
    where ``rows`` is a list of string rows, the first a header, ready to print side by side.
    """
    market = market if market is not None else seeds_market()
    static = outcome(market, static_books(market))
    dynamic = outcome(market, dynamic_books(market))
    return {"static": static.as_json(), "dynamic": dynamic.as_json(), "table": _table(market, static, dynamic)}


def render_table(result: Mapping[str, Any]) -> str:
    """``result["table"]`` as aligned plain text, one line per row, columns two spaces apart."""
    rows: list[list[str]] = result["table"]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def _territory(prefix: str, name: str, *, high: int, marginal: int) -> list[Account]:
    top = 100.0
    qualities = [top - (top - HIGH_QUALITY) * (i + 0.5) / high for i in range(high)]
    qualities += [HIGH_QUALITY * (1 - (i + 0.5) / marginal) for i in range(marginal)]
    return [Account(f"{prefix}-{i + 1:03d}", name, round(q, 3)) for i, q in enumerate(qualities)]


def _table(market: Market, static: ModelOutcome, dynamic: ModelOutcome) -> list[list[str]]:
    rate = _percent(market.conversion_rate)
    rows = [["", "Static territories", "Dynamic books"]]
    for s, d in zip(static.reps, dynamic.reps, strict=True):
        rows.append(
            [
                s.rep,
                f"{s.opportunities} opps ({s.high_quality_worked} × {rate})",
                f"{d.opportunities} opps ({d.high_quality_worked} × {rate})",
            ]
        )
    rows.append(["Total", f"{static.opportunities} opps", f"{dynamic.opportunities} opps"])
    rows.append(["Book productivity", _percent(static.book_productivity), _percent(dynamic.book_productivity)])
    return rows


def _percent(fraction: float) -> str:
    """0.0667 -> ``6.7%``, 0.1 -> ``10%`` (as the seeds write them)."""
    return f"{fraction * 100:.1f}".rstrip("0").rstrip(".") + "%"
