"""What a model's books yield in the deterministic mode: opportunities and book productivity (SPEC §7, §10).

Deterministic mode uses expected values: a rep who works ``h`` high-quality accounts at conversion rate
``c`` gets ``round_half_up(c × h)`` opportunities (marginal accounts never convert). Book productivity is
the total of opportunities over the number of high-quality accounts in the whole market, rounded to 4
places: a fraction, not a percentage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dynbooks.sim.market import Books, Market

__all__ = ["ModelOutcome", "RepOutcome", "outcome"]


@dataclass(frozen=True)
class RepOutcome:
    rep: str
    worked: int
    high_quality_worked: int
    opportunities: int


@dataclass(frozen=True)
class ModelOutcome:
    reps: tuple[RepOutcome, ...]
    opportunities: int
    book_productivity: float

    def as_json(self) -> dict[str, Any]:
        """``{"opportunities", "book_productivity", "per_rep": {rep: opportunities}}`` (SPEC §9)."""
        return {
            "opportunities": self.opportunities,
            "book_productivity": self.book_productivity,
            "per_rep": {r.rep: r.opportunities for r in self.reps},
        }


def outcome(market: Market, books: Books) -> ModelOutcome:
    """Opportunities per rep (in the market's rep order) and in total, and the book productivity."""
    reps = []
    for rep in market.reps:
        book = books.get(rep.name, [])
        high = sum(a.high_quality for a in book)
        reps.append(RepOutcome(rep.name, len(book), high, _round_half_up(market.conversion_rate * high)))
    total = sum(r.opportunities for r in reps)
    denominator = market.high_quality_accounts
    productivity = round(total / denominator, 4) if denominator else 0.0
    return ModelOutcome(tuple(reps), total, productivity)


def _round_half_up(value: float) -> int:
    """2.5 -> 3, not Python's banker's 2; the epsilon absorbs float noise such as 0.1 × 25 = 2.5000000000000004."""
    return math.floor(value + 0.5 + 1e-9)
