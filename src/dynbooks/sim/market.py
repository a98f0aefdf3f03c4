"""A simulated market and the books each model deals from it, through the real allocator (SPEC §7).

Accounts have a latent ``quality`` (0–100); an account is *high quality* when its quality is at least
:data:`HIGH_QUALITY`. Reps have a territory (used only by static territories) and a capacity: how many
accounts they can work at once. Both models below call :func:`dynbooks.domain.allocate.allocate` with
``priority = quality``; they differ only in who may hold what:

* **static territories**: one bucket per territory; an account is eligible only for its territory's bucket
  and a rep has capacity only in its own territory's bucket, so each rep gets the best ``capacity``
  accounts of its own territory (ties by account id).
* **dynamic books**: one book rule for the whole market; every account is eligible, every rep has its
  capacity in it, so the best ``Σ capacity`` accounts of the market are selected and dealt by the
  allocator's capacity-proportional snake.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynbooks.domain.allocate import AllocationProblem, Bucket, allocate
from dynbooks.domain.errors import InvalidInput

__all__ = ["HIGH_QUALITY", "Account", "Books", "Market", "Rep", "dynamic_books", "static_books"]

HIGH_QUALITY = 60.0
"""An account whose latent quality is at least this is high quality (it converts when worked)."""

Books = dict[str, list["Account"]]
"""The accounts each rep works, by rep name, in the order the allocator dealt them."""


@dataclass(frozen=True)
class Account:
    id: str
    territory: str
    quality: float

    @property
    def high_quality(self) -> bool:
        return self.quality >= HIGH_QUALITY


@dataclass(frozen=True)
class Rep:
    name: str
    territory: str
    capacity: int


@dataclass(frozen=True)
class Market:
    """Accounts, reps, and the share of high-quality accounts worked that become an opportunity."""

    accounts: tuple[Account, ...]
    reps: tuple[Rep, ...]
    conversion_rate: float

    def __post_init__(self) -> None:
        problems = []
        if len({a.id for a in self.accounts}) != len(self.accounts):
            problems.append("account ids repeat")
        if len({r.name for r in self.reps}) != len(self.reps):
            problems.append("rep names repeat")
        problems += [f"rep {r.name}: capacity must be >= 0, got {r.capacity}" for r in self.reps if r.capacity < 0]
        if not 0.0 <= self.conversion_rate <= 1.0:
            problems.append(f"conversion_rate must be a fraction from 0 to 1, got {self.conversion_rate}")
        if problems:
            raise InvalidInput("the simulated market is not valid", problems)

    @property
    def high_quality_accounts(self) -> int:
        return sum(a.high_quality for a in self.accounts)


def static_books(market: Market) -> Books:
    """Each rep's best ``capacity`` accounts of its own territory, dealt by the allocator."""
    territories = sorted({a.territory for a in market.accounts} | {r.territory for r in market.reps})
    eligible = np.array([[a.territory == t for t in territories] for a in market.accounts], dtype=bool)
    capacity = np.array([[r.capacity if r.territory == t else 0 for t in territories] for r in market.reps])
    return _deal(market, tuple(Bucket(t, None) for t in territories), eligible, capacity)


def dynamic_books(market: Market) -> Books:
    """The whole market under one book rule, every account eligible, dealt by the allocator."""
    eligible = np.ones((len(market.accounts), 1), dtype=bool)
    capacity = np.array([[r.capacity] for r in market.reps])
    return _deal(market, (Bucket("dynamic", None),), eligible, capacity)


def _deal(market: Market, buckets: tuple[Bucket, ...], eligible: np.ndarray, capacity: np.ndarray) -> Books:
    n, m = len(market.accounts), len(market.reps)
    problem = AllocationProblem(
        account_ids=np.array([a.id for a in market.accounts], dtype=object),
        priority=np.array([a.quality for a in market.accounts], dtype=np.float64),
        tiebreak=np.zeros((0, n)),
        eligible=eligible.reshape(n, len(buckets)),
        buckets=buckets,
        rep_ids=np.array([r.name for r in market.reps], dtype=object),
        capacity=np.asarray(capacity, dtype=np.int64).reshape(m, len(buckets)),
        cooldown_accounts=np.zeros(0, dtype=np.int64),
        cooldown_reps=np.zeros(0, dtype=np.int64),
    )
    plan = allocate(problem)
    books: Books = {r.name: [] for r in market.reps}
    for account, rep in zip(plan.account, plan.rep, strict=True):
        books[market.reps[int(rep)].name].append(market.accounts[int(account)])
    return books
