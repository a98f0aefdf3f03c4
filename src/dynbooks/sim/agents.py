"""The day-by-day agent loop every model runs through, and what it measures.

Each day: the model says who holds what (:meth:`Model.books`); every rep spends the day's touches —
first the accounts in cadence that are due (a touch every ``touch_gap_days``, oldest first), then new
accounts of its book, best current priority first (ties by account id); a touch converts when the
account's next common draw is below its chance; a cadence that ends without an opportunity is returned.
Then the model hears what happened (:meth:`Model.finish_day`). Reps never restart an account they
finished themselves; a converted account is never worked again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from dynbooks.sim.world import MAX_TOUCHES, World

__all__ = ["DayReport", "Model", "RunResult", "run"]

SIGNAL_STRENGTH = 25.0
"""An account entering its in-market window shows a signal of this strength (timing_half_life decay)."""


@dataclass
class DayReport:
    """What happened on one day: ``touches`` (rep, account), ``returns`` (rep, account, reason code),
    ``converted`` (rep, account), and ``signals`` (accounts whose in-market window opened that day)."""

    touches: list[tuple[int, int]] = field(default_factory=list)
    returns: list[tuple[int, int, str]] = field(default_factory=list)
    converted: list[tuple[int, int]] = field(default_factory=list)
    signals: list[int] = field(default_factory=list)


class Model(Protocol):
    name: str

    def start(self, world: World) -> None: ...

    def books(self, d: int, priority: np.ndarray) -> list[list[int]]:
        """Per rep (world order), the accounts it holds at the start of day ``d``."""
        ...

    def finish_day(self, d: int, report: DayReport) -> None: ...

    def ready_pool(self, d: int) -> int | None:
        """Accounts ready to be dealt at the end of day ``d`` (None where the model has no pool)."""
        ...

    def close(self) -> None: ...


@dataclass
class RunResult:
    model: str
    opportunities: np.ndarray
    """Per rep."""
    worked: np.ndarray
    """Per rep: distinct accounts the rep touched."""
    touches: np.ndarray
    capacity: np.ndarray
    """Per rep: touches the rep could have made in the period (ramp and weekends counted)."""
    book_size: np.ndarray
    """Per rep: mean accounts held."""
    touched: np.ndarray
    """Per account: touched at least once."""
    converted: np.ndarray
    daily_opportunities: list[int]
    ready_pool: list[tuple[int, int]]
    extra: dict[str, Any] = field(default_factory=dict)
    """What the model adds (dynamic books: the engine's event counts)."""


def current_priority(world: World, d: int) -> np.ndarray:
    """Fit plus the in-market signal, decaying with the config's timing half-life (SPEC §10 Priority)."""
    age = d - world.market_from
    live = (age >= 0) & (world.market_from < world.days + 1)
    half_life = world.config.scoring.timing_half_life_days
    boost = np.where(live, SIGNAL_STRENGTH * 0.5 ** (np.maximum(age, 0) / half_life), 0.0)
    return world.fit + boost


def run(world: World, model: Model) -> RunResult:
    """Run ``model`` on ``world`` for ``world.days`` days."""
    b = world.behaviour
    n, m = world.n, len(world.reps)
    total_touches = np.zeros(n, dtype=np.int64)
    converted = np.zeros(n, dtype=bool)
    touched = np.zeros(n, dtype=bool)
    said_no: dict[int, int] = {}
    cadence: list[dict[int, tuple[int, int]]] = [{} for _ in range(m)]
    finished: list[set[int]] = [set() for _ in range(m)]
    worked: list[set[int]] = [set() for _ in range(m)]
    opps = np.zeros(m, dtype=np.int64)
    touches = np.zeros(m, dtype=np.int64)
    capacity = np.zeros(m, dtype=np.int64)
    held = np.zeros(m, dtype=np.float64)
    daily: list[int] = []
    pool: list[tuple[int, int]] = []
    ids = world.ids
    model.start(world)
    try:
        for d in range(world.days):
            priority = current_priority(world, d)
            books = model.books(d, priority)
            report = DayReport(signals=[int(a) for a in np.flatnonzero(world.market_from == d)])
            for r in range(m):
                book = books[r]
                held[r] += len(book)
                mine = cadence[r]
                holding = set(book)
                for a in [a for a in mine if a not in holding]:
                    del mine[a]  # taken away (retrieved, re-carved): the cadence stops
                cap = world.capacity(r, d)
                capacity[r] += cap
                due = sorted((last, a) for a, (_, last) in mine.items() if d - last >= b.touch_gap_days)
                todo = [a for _, a in due][:cap]
                if len(todo) < cap:
                    fresh = [a for a in book if a not in mine and a not in finished[r] and not converted[a]]
                    fresh.sort(key=lambda a: (-priority[a], ids[a]))
                    todo += fresh[: cap - len(todo)]
                for a in todo:
                    k = int(total_touches[a])
                    total_touches[a] += 1
                    touched[a] = True
                    worked[r].add(a)
                    touches[r] += 1
                    report.touches.append((r, a))
                    done = mine.get(a, (0, d))[0] + 1
                    if k < MAX_TOUCHES and world.draws[a, k] < world.chance(a, d, said_no.get(a)):
                        opps[r] += 1
                        converted[a] = True
                        mine.pop(a, None)
                        report.converted.append((r, a))
                    elif done >= b.touches_per_account:
                        mine.pop(a, None)
                        finished[r].add(a)
                        said_no[a] = d
                        report.returns.append((r, a, "no_relevant_contact" if world.quits[a] else "not_interested"))
                    else:
                        mine[a] = (done, d)
            model.finish_day(d, report)
            daily.append(int(opps.sum()))
            if d % 7 == 6 or d == world.days - 1:
                ready = model.ready_pool(d)
                if ready is not None:
                    pool.append((d, ready))
    finally:
        model.close()
    return RunResult(
        model=model.name, opportunities=opps, worked=np.array([len(w) for w in worked], dtype=np.int64),
        touches=touches, capacity=capacity, book_size=held / max(world.days, 1), touched=touched,
        converted=converted, daily_opportunities=daily, ready_pool=pool, extra=dict(getattr(model, "extra", {})),
    )
