"""The allocator: a pure function from plain numpy data to a plan (SPEC §4).

``plan = allocate(problem)`` has no I/O, no clock and no randomness. It guarantees, in this order:

1. Eligibility and capacity are never broken: an account is placed only in a bucket it is eligible for,
   and no rep gets more accounts in a bucket than its free capacity there.
2. The total priority distributed is maximal (exact, see :mod:`dynbooks.domain.selection`) when there is
   no cooldown. With cooldown pairs the plan stays feasible but may fall short of the optimum of the
   problem with rep-level exclusions (an account one rep may not take can displace a worse one another
   rep could have taken). The gap is measured in ``tests/unit/test_allocate_properties.py`` against the
   per-(rep, bucket) transportation LP: on 200 random 12-account problems with 6 cooldown pairs, 1 plan
   fell short, mean gap 0.1%.
3. Inside a bucket the selected accounts are dealt by a capacity-proportional snake
   (:mod:`dynbooks.domain.dealing`), which is weighted-EF1 when there is no cooldown; then single-account
   swaps between reps bring every rep's mean priority within 0.1% of the bucket's mean where that keeps
   the bucket weighted-EF1 (counts unchanged). ``pick`` is the account's place in the rep's book.
4. Cooldown: a rep is never dealt an account of a cooldown pair. An offending account is swapped with
   the nearest account in dealing order (earlier first) held by another rep of the bucket who may take
   it and whose account the first rep may take; when nobody can, the (account, bucket) pair is made
   ineligible and the selection runs again.
5. Deterministic: the plan (its set of (account id, rep id) pairs and its rows) does not depend on the
   order of account rows or rep rows, because every ordering ends on an id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from dynbooks.domain.dealing import deal_and_balance
from dynbooks.domain.selection import pool_order, select

__all__ = ["AllocationProblem", "Bucket", "Plan", "allocate", "pool_order"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Bucket:
    """A (book rule, segment) of one role; ``segment`` None is the rule's remainder part."""

    rule: str
    segment: str | None

    @property
    def label(self) -> str:
        """``rule/segment``, or ``rule/remainder`` for the remainder part."""
        return f"{self.rule}/{self.segment if self.segment is not None else 'remainder'}"


@dataclass(frozen=True)
class AllocationProblem:
    """Everything the allocator needs, as plain arrays (``n`` accounts, ``B`` buckets, ``m`` reps).

    ``account_ids`` (n,) unique; ``priority`` (n,) float64; ``tiebreak`` (k, n) float64 extra sort keys,
    smaller is better, ``k`` may be 0; ``eligible`` (n, B) bool, with filters, ``min_priority`` and
    segment logic already applied; ``buckets`` (B,); ``rep_ids`` (m,) unique; ``capacity`` (m, B) int64
    free slots (0 where the rep is not in the bucket's rule); ``cooldown_accounts`` / ``cooldown_reps``
    (p,) index pairs that must never be dealt together.
    """

    account_ids: npt.NDArray[np.object_]
    priority: npt.NDArray[np.float64]
    tiebreak: npt.NDArray[np.float64]
    eligible: npt.NDArray[np.bool_]
    buckets: tuple[Bucket, ...]
    rep_ids: npt.NDArray[np.object_]
    capacity: IntArray
    cooldown_accounts: IntArray
    cooldown_reps: IntArray


@dataclass(frozen=True, eq=False)
class Plan:
    """Assignments, one row each, ordered by bucket then dealing order.

    ``account``/``rep``/``bucket`` index the problem's arrays; ``rank`` is the 1-based rank of the account
    among the accounts selected for its bucket (best first); the slot it was dealt in is the rep's pick
    ``pick`` of ``picks`` (the rep's free capacity in that bucket); ``priority`` is the account's priority.

    ``rank``, ``pick``, ``picks``, ``priority`` and ``total_priority`` are computed on first read (from the
    dealing order, the capacities and the problem's priorities, which a problem never changes): a caller
    that only needs who gets what, like the simulator, does not pay for the explanation columns.
    """

    account: IntArray
    rep: IntArray
    bucket: IntArray
    _t: IntArray = field(repr=False)
    _capacity: IntArray = field(repr=False)
    _priorities: npt.NDArray[np.float64] = field(repr=False)
    _rank: IntArray | None = field(default=None, repr=False)
    """Set when cooldown swaps moved accounts between slots (rank is then not the row's place)."""

    @cached_property
    def rank(self) -> IntArray:
        """1-based rank of the account among the accounts selected for its bucket (best first)."""
        if self._rank is not None:
            return self._rank
        counts = np.bincount(self.bucket, minlength=self._capacity.shape[1])
        return np.arange(1, self.bucket.size + 1, dtype=np.int64) - (np.cumsum(counts) - counts)[self.bucket]

    @cached_property
    def pick(self) -> IntArray:
        """1-based pick of the rep in the bucket that this account filled."""
        return self._t + 1

    @cached_property
    def picks(self) -> IntArray:
        """The rep's free capacity in the bucket: its number of picks."""
        return np.asarray(self._capacity[self.rep, self.bucket])

    @cached_property
    def priority(self) -> npt.NDArray[np.float64]:
        """The account's priority."""
        return np.asarray(self._priorities[self.account])

    @cached_property
    def total_priority(self) -> float:
        """The sum of the priorities distributed."""
        return float(self.priority.sum())

    def explain(self, problem: AllocationProblem, j: int) -> str:
        """One sentence saying why plan row ``j`` went where it went."""
        return self.explanations(problem, np.array([j]))[0]

    def explanations(self, problem: AllocationProblem, rows: IntArray | None = None) -> list[str]:
        """:meth:`explain` for many rows (all by default), counting each bucket's selection once."""
        rows = np.arange(len(self.account)) if rows is None else rows
        selected = np.bincount(self.bucket, minlength=len(problem.buckets))
        labels = [b.label for b in problem.buckets]
        return [
            f"ranked {rank} of {selected[b]} in {labels[b]} (priority {priority:.3f}); pick {pick} of {picks} "
            f"for rep {problem.rep_ids[r]} in a capacity-proportional snake"
            for b, rank, priority, pick, picks, r in zip(
                self.bucket[rows].tolist(), self.rank[rows].tolist(), self.priority[rows].tolist(),
                self.pick[rows].tolist(), self.picks[rows].tolist(), self.rep[rows].tolist(), strict=True)
        ]


def allocate(problem: AllocationProblem) -> Plan:
    """The plan for ``problem``; see the module docstring for the guarantees and their order."""
    n = len(problem.account_ids)
    m = len(problem.rep_ids)
    nb = len(problem.buckets)
    # Ids are compared only inside runs of tied priorities, so they are never converted as a whole.
    ids = np.asarray(problem.account_ids)
    priority = np.asarray(problem.priority, dtype=np.float64)
    # A finite sum means every term is finite (one fast pass); otherwise look element by element.
    if not np.isfinite(priority.sum()) and not np.isfinite(priority).all():
        raise ValueError("priority must be finite")
    tiebreak = np.asarray(problem.tiebreak, dtype=np.float64).reshape(-1, n) if n else np.zeros((0, 0))
    if tiebreak.size and np.isnan(tiebreak).any():
        raise ValueError("tiebreak keys must not be NaN")
    eligible = np.asarray(problem.eligible, dtype=bool).reshape(n, nb)
    capacity = np.asarray(problem.capacity, dtype=np.int64).reshape(m, nb)
    if (capacity < 0).any():
        raise ValueError("capacity must be >= 0")
    rep_position = np.empty(m, dtype=np.int64)
    rep_position[np.argsort(np.asarray(problem.rep_ids).astype(str), kind="stable")] = np.arange(m)
    forbidden = np.unique(
        np.asarray(problem.cooldown_accounts, dtype=np.int64) * max(m, 1)
        + np.asarray(problem.cooldown_reps, dtype=np.int64)
    )
    bucket_cap = capacity.sum(axis=0)

    copied = False
    while True:
        accounts, buckets, value = select(priority, tiebreak, ids, eligible, bucket_cap)
        rows, dropped = _deal(accounts, buckets, value, capacity, rep_position, forbidden, m)
        if not dropped:
            break
        if not copied:  # never write into the caller's array
            eligible, copied = eligible.copy(), True
        for a, b in dropped:
            eligible[a, b] = False

    account, rep, bucket, t, rank = rows
    return Plan(account, rep, bucket, t, capacity, priority, rank)


def _deal(
    accounts: IntArray,
    buckets: IntArray,
    value: IntArray,
    capacity: IntArray,
    rep_position: IntArray,
    forbidden: IntArray,
    m: int,
) -> tuple[tuple[IntArray, IntArray, IntArray, IntArray, IntArray | None], list[tuple[int, int]]]:
    """Deal every bucket; returns ``(account, rep, bucket, t, rank or None)`` and the (account, bucket)
    pairs cooldown could not fix. ``rank`` is given only when cooldown swaps moved accounts."""
    # Accounts arrive sorted by bucket, in pool order inside a bucket.
    rep, t = deal_and_balance(buckets, value, capacity, rep_position)
    dropped: list[tuple[int, int]] = []
    rank = None
    if forbidden.size:
        offending = np.unique(buckets[~_allowed(accounts, rep, forbidden, m)])
        if offending.size:
            counts = np.bincount(buckets, minlength=capacity.shape[1])
            starts = np.cumsum(counts) - counts
            moved = np.arange(1, accounts.size + 1, dtype=np.int64) - starts[buckets]
            for b in offending.tolist():
                lo, hi = int(starts[b]), int(starts[b] + counts[b])
                # Slices are views: the swaps land in `accounts` and `moved` directly.
                dropped += _fix_cooldown(accounts[lo:hi], moved[lo:hi], rep[lo:hi], forbidden, m, b)
            rank = moved
    return (accounts, rep, buckets, t, rank), dropped


def _allowed(acc: IntArray | int, rep: IntArray | int, forbidden: IntArray, m: int) -> npt.NDArray[np.bool_]:
    code = np.asarray(acc, dtype=np.int64) * max(m, 1) + np.asarray(rep, dtype=np.int64)
    found = np.searchsorted(forbidden, code)
    hit = forbidden[np.minimum(found, forbidden.size - 1)] == code
    return np.asarray(~hit)


def _fix_cooldown(
    acc: IntArray, rank: IntArray, rep: IntArray, forbidden: IntArray, m: int, b: int
) -> list[tuple[int, int]]:
    """Swap cooldown offenders in place (``acc`` and ``rank`` move together); return what cannot stay."""
    dropped: list[tuple[int, int]] = []
    for s in (int(i) for i in np.flatnonzero(~_allowed(acc, rep, forbidden, m))):
        if _allowed(acc[s], rep[s], forbidden, m):
            continue  # an earlier swap already fixed this slot
        a, r = int(acc[s]), int(rep[s])
        ok = (rep != r) & _allowed(a, rep, forbidden, m) & _allowed(acc, r, forbidden, m)
        candidates = np.flatnonzero(ok)
        if candidates.size == 0:
            dropped.append((a, b))
            continue
        distance = np.abs(candidates - s)
        other = int(candidates[np.lexsort((candidates, distance))[0]])
        acc[[s, other]] = acc[[other, s]]
        rank[[s, other]] = rank[[other, s]]
    return dropped
