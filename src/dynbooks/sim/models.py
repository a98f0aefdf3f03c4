"""The three models dynamic books is compared with; each only decides who holds what.

* :class:`StaticTerritories` — an annual carve by ``region`` (geographic) or ``industry`` (vertical):
  within each book rule, with more territories than reps each rep gets whole territories (biggest
  first, to the rep with the fewest accounts so far); otherwise every territory gets at least one rep and
  the rest in proportion to its accounts (largest remainder) — or, with ``seats="equal"``, the same
  number of reps each, as in the seeds' Jane and Joe — its accounts split among them by account id.
  Nothing moves all quarter: finished and converted accounts stay in the territory, nothing replaces them.
* :class:`WildWest` — no books: reps claim what they want and keep it. Starting from today's CRM
  ownership, every working day the reps, longest tenure first, top up their *unworked* claims to
  ``target_size × tenure in years`` (clipped to 0.25–3), best priority first. Nothing is ever released.
* :class:`RoundRobin` — books of the rule's target size (ramped), dealt in rotation from a queue in CRM
  order (account id), blind to fit; a returned account goes to the back of the queue at once (no rest),
  an unworked one is never retrieved.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from dynbooks.domain.capacity import segment_capacity
from dynbooks.sim.agents import DayReport
from dynbooks.sim.world import World

__all__ = ["RoundRobin", "StaticTerritories", "WildWest"]


def _rule_groups(world: World) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for r, rep in enumerate(world.reps):
        groups.setdefault(rep.rule.name, []).append(r)
    return groups


class StaticTerritories:
    def __init__(self, carve: str = "region", *, seats: str = "proportional") -> None:
        if carve not in ("region", "industry"):
            raise ValueError(f"carve must be region or industry, got {carve!r}")
        if seats not in ("proportional", "equal"):
            raise ValueError(f"seats must be proportional or equal, got {seats!r}")
        self.carve, self.seats = carve, seats
        self.name = f"static ({'geographic' if carve == 'region' else 'vertical'})"
        self.territory: list[list[int]] = []

    def start(self, world: World) -> None:
        self.territory = [[] for _ in world.reps]
        field = world.region if self.carve == "region" else world.industry
        taken = np.zeros(world.n, dtype=bool)
        for reps in _rule_groups(world).values():
            mine = world.eligible[:, reps[0]] & ~taken
            taken |= mine
            keys = np.array([str(v) if v is not None else "(none)" for v in field[mine]], dtype=object)
            accounts = np.flatnonzero(mine)
            names, counts = np.unique(keys, return_counts=True) if len(keys) else (np.array([]), np.array([]))
            if len(names) > len(reps):
                # More territories than reps: whole territories, biggest first, to the rep with the fewest.
                load = {r: 0 for r in reps}
                for i in sorted(range(len(names)), key=lambda i: (-int(counts[i]), str(names[i]))):
                    r = min(reps, key=lambda r: (load[r], r))
                    inside = accounts[keys == names[i]].tolist()
                    self.territory[r].extend(inside)
                    load[r] += len(inside)
                continue
            seats = (_largest_remainder(counts, len(reps)) if self.seats == "proportional"
                     else _largest_remainder(np.ones(len(counts)), len(reps)))
            r_iter = iter(reps)
            for name, k in zip(names.tolist(), seats.tolist(), strict=True):
                owners = [next(r_iter) for _ in range(k)]
                inside = accounts[keys == name]
                for j, a in enumerate(inside.tolist()):
                    self.territory[owners[j % len(owners)]].append(a)

    def books(self, d: int, priority: np.ndarray) -> list[list[int]]:
        return self.territory

    def finish_day(self, d: int, report: DayReport) -> None:
        pass

    def ready_pool(self, d: int) -> int | None:
        return None

    def close(self) -> None:
        pass


def _largest_remainder(counts: np.ndarray, seats: int) -> np.ndarray:
    """Seats in proportion to ``counts``, at least one each (there are no more territories than seats),
    the rest by largest remainder (ties to the earlier territory)."""
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64)
    spare = seats - len(counts)
    share = counts / counts.sum() * spare
    out = np.floor(share).astype(np.int64) + 1
    share = share + 1
    order = sorted(range(len(counts)), key=lambda i: (-(share[i] - out[i]), i))
    for i in order[: seats - int(out.sum())]:
        out[i] += 1
    return np.asarray(out, dtype=np.int64)


class WildWest:
    name = "wild west"

    def __init__(self) -> None:
        self.claims: list[list[int]] = []
        self.owner = np.zeros(0, dtype=np.int64)
        self.started: set[tuple[int, int]] = set()

    def start(self, world: World) -> None:
        self.world = world
        self.owner = world.owner0.copy()
        self.claims = [np.flatnonzero(self.owner == r).tolist() for r in range(len(world.reps))]
        day0 = world.day0
        self.order = sorted(range(len(world.reps)), key=lambda r: (-world.reps[r].tenure_days(day0), r))
        self.hoard = [
            int(rep.rule.target_size * min(3.0, max(0.25, rep.tenure_days(day0) / 365.0))) for rep in world.reps
        ]
        self.closed: set[int] = set()

    def books(self, d: int, priority: np.ndarray) -> list[list[int]]:
        w = self.world
        if not w.workday(d):
            return self.claims
        free = self.owner < 0
        ranked = np.flatnonzero(free)
        ranked = ranked[np.lexsort((w.ids[ranked].astype(str), -priority[ranked]))]
        for r in self.order:
            unworked = sum(1 for a in self.claims[r] if (r, a) not in self.started and a not in self.closed)
            want = self.hoard[r] - unworked
            if want <= 0:
                continue
            mine = ranked[w.eligible[ranked, r] & (self.owner[ranked] < 0)][:want]
            self.owner[mine] = r
            self.claims[r].extend(mine.tolist())
        return self.claims

    def finish_day(self, d: int, report: DayReport) -> None:
        self.started.update(report.touches)
        self.closed.update(a for _, a in report.converted)
        self.closed.update(a for _, a, _ in report.returns)

    def ready_pool(self, d: int) -> int | None:
        return int(((self.owner < 0) & self.world.tam).sum())

    def close(self) -> None:
        pass


class RoundRobin:
    name = "round robin"

    def start(self, world: World) -> None:
        self.world = world
        self.queue: deque[int] = deque(sorted(np.flatnonzero(world.tam).tolist(), key=lambda a: world.ids[a]))
        self.book: list[list[int]] = [[] for _ in world.reps]
        self.gone: set[int] = set()
        self.turn = 0

    def books(self, d: int, priority: np.ndarray) -> list[list[int]]:
        w = self.world
        day = w.date(d)
        room = [max(0, sum(segment_capacity(rep.rule, rep.start_date, day).values()) - len(self.book[r]))
                for r, rep in enumerate(w.reps)]
        skipped: list[int] = []
        m = len(w.reps)
        while self.queue and any(room):
            a = self.queue.popleft()
            for step in range(m):
                r = (self.turn + step) % m
                if room[r] and w.eligible[a, r]:
                    self.book[r].append(a)
                    room[r] -= 1
                    self.turn = (r + 1) % m
                    break
            else:
                skipped.append(a)
        self.queue.extendleft(reversed(skipped))
        return self.book

    def finish_day(self, d: int, report: DayReport) -> None:
        for r, a in report.converted:
            self.book[r].remove(a)
        for r, a, _ in report.returns:
            self.book[r].remove(a)
            self.queue.append(a)

    def ready_pool(self, d: int) -> int | None:
        return len(self.queue)

    def close(self) -> None:
        pass
