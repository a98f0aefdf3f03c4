"""The allocator's guarantees, checked on many small random problems against an independent oracle."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from dynbooks.domain.allocate import AllocationProblem, Bucket, Plan, allocate

SETTINGS = settings(max_examples=int(os.environ.get("DYNBOOKS_EXAMPLES", "150")), deadline=None)


@st.composite
def problems(draw: st.DrawFn, cooldown: bool = False) -> AllocationProblem:
    n = draw(st.integers(0, 12))
    nb = draw(st.integers(1, 3))
    m = draw(st.integers(1, 4))
    # Small integer priorities make ties common, so the tie-breaks are exercised too.
    priority = np.array(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), dtype=np.float64)
    eligible = np.array(draw(st.lists(st.booleans(), min_size=n * nb, max_size=n * nb)), dtype=bool)
    capacity = np.array(draw(st.lists(st.integers(0, 4), min_size=m * nb, max_size=m * nb)), dtype=np.int64)
    k = draw(st.integers(0, 1))
    tiebreak = np.array(draw(st.lists(st.integers(0, 2), min_size=k * n, max_size=k * n)), dtype=np.float64)
    pairs: list[tuple[int, int]] = []
    if cooldown and n:
        pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, m - 1)), max_size=6, unique=True))
    pair_array = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return AllocationProblem(
        account_ids=np.array([f"a{i:02d}" for i in draw(st.permutations(range(n)))], dtype=object),
        priority=priority,
        tiebreak=tiebreak.reshape(k, n),
        eligible=eligible.reshape(n, nb),
        buckets=tuple(Bucket(f"rule{b}", None) for b in range(nb)),
        rep_ids=np.array([f"R{i}" for i in draw(st.permutations(range(m)))], dtype=object),
        capacity=capacity.reshape(m, nb),
        cooldown_accounts=pair_array[:, 0],
        cooldown_reps=pair_array[:, 1],
    )


def optimum(p: AllocationProblem, per_rep: bool = False) -> float:
    """The transportation LP (totally unimodular, so its optimum is the integer optimum).

    Per bucket when ``per_rep`` is false; per (rep, bucket) with cooldown pairs excluded otherwise.
    """
    n, nb = p.eligible.shape
    m = p.capacity.shape[0]
    banned = set(zip(p.cooldown_accounts.tolist(), p.cooldown_reps.tolist(), strict=True))
    if per_rep:
        sinks = [(r, b) for r in range(m) for b in range(nb) if p.capacity[r, b] > 0]
        cap = [int(p.capacity[r, b]) for r, b in sinks]
        edges = [
            (a, s) for a in range(n) for s, (r, b) in enumerate(sinks) if p.eligible[a, b] and (a, r) not in banned
        ]
    else:
        sinks = [(0, b) for b in range(nb)]
        cap = [int(p.capacity[:, b].sum()) for b in range(nb)]
        edges = [(a, b) for a in range(n) for b in range(nb) if p.eligible[a, b]]
    if not edges:
        return 0.0
    a_ub = np.zeros((n + len(sinks), len(edges)))
    for e, (a, s) in enumerate(edges):
        a_ub[a, e] = 1
        a_ub[n + s, e] = 1
    cost = -np.array([p.priority[a] for a, _ in edges])
    result = linprog(cost, A_ub=a_ub, b_ub=np.concatenate((np.ones(n), cap)), bounds=(0, 1), method="highs")
    assert result.status == 0
    return float(-result.fun)


def pairs(p: AllocationProblem, plan: Plan) -> set[tuple[str, str]]:
    return set(zip(p.account_ids[plan.account].tolist(), p.rep_ids[plan.rep].tolist(), strict=True))


def shuffled(p: AllocationProblem, seed: int) -> AllocationProblem:
    rng = np.random.default_rng(seed)
    ap = rng.permutation(len(p.account_ids))
    rp = rng.permutation(len(p.rep_ids))
    new_account = np.argsort(ap)
    new_rep = np.argsort(rp)
    return AllocationProblem(
        account_ids=p.account_ids[ap],
        priority=p.priority[ap],
        tiebreak=p.tiebreak[:, ap],
        eligible=p.eligible[ap],
        buckets=p.buckets,
        rep_ids=p.rep_ids[rp],
        capacity=p.capacity[rp],
        cooldown_accounts=new_account[p.cooldown_accounts],
        cooldown_reps=new_rep[p.cooldown_reps],
    )


@SETTINGS
@given(problems(cooldown=True))
def test_capacity_is_never_exceeded_and_eligibility_always_holds(p: AllocationProblem) -> None:
    plan = allocate(p)
    assert len(set(plan.account.tolist())) == plan.account.size  # an account is placed at most once
    assert p.eligible[plan.account, plan.bucket].all()
    taken = np.zeros_like(p.capacity)
    np.add.at(taken, (plan.rep, plan.bucket), 1)
    assert (taken <= p.capacity).all()
    assert (plan.pick <= plan.picks).all()


@SETTINGS
@given(problems())
def test_total_priority_equals_the_transportation_lp_optimum(p: AllocationProblem) -> None:
    plan = allocate(p)
    assert abs(plan.total_priority - optimum(p)) < 1e-6


def wef1_violations(p: AllocationProblem, plan: Plan) -> int:
    count = 0
    for b in range(len(p.buckets)):
        reps = np.flatnonzero(p.capacity[:, b] > 0)
        for i in reps:
            for j in reps:
                mine = plan.priority[(plan.rep == i) & (plan.bucket == b)]
                theirs = plan.priority[(plan.rep == j) & (plan.bucket == b)]
                best = theirs.max() if theirs.size else 0.0
                if mine.sum() / p.capacity[i, b] < (theirs.sum() - best) / p.capacity[j, b] - 1e-9:
                    count += 1
    return count


@SETTINGS
@given(problems())
def test_every_bucket_is_weighted_ef1_when_there_is_no_cooldown(p: AllocationProblem) -> None:
    assert wef1_violations(p, allocate(p)) == 0


@SETTINGS
@given(problems(cooldown=True), st.integers(0, 2**32 - 1))
def test_shuffled_rows_give_the_same_pairs(p: AllocationProblem, seed: int) -> None:
    assert pairs(p, allocate(p)) == pairs(shuffled(p, seed), allocate(shuffled(p, seed)))


@SETTINGS
@given(problems(cooldown=True))
def test_cooldown_pairs_never_appear_and_the_plan_is_never_better_than_possible(p: AllocationProblem) -> None:
    plan = allocate(p)
    banned = set(zip(p.cooldown_accounts.tolist(), p.cooldown_reps.tolist(), strict=True))
    assert not banned & set(zip(plan.account.tolist(), plan.rep.tolist(), strict=True))
    # With cooldown the plan is feasible but not always optimal: it can only fall short.
    assert plan.total_priority <= optimum(p, per_rep=True) + 1e-6


def test_cooldown_gap_is_small_on_random_problems() -> None:
    """Measure (not assume) the cooldown gap on seeded random problems (measured: mean 0.1%, 1 in 200 short)."""
    rng = np.random.default_rng(2026)
    gaps = []
    for _ in range(200):
        n, nb, m = 12, 2, 4
        p = AllocationProblem(
            account_ids=np.array([f"a{i:02d}" for i in range(n)], dtype=object),
            priority=rng.integers(1, 10, n).astype(np.float64),
            tiebreak=np.zeros((0, n)),
            eligible=rng.random((n, nb)) < 0.6,
            buckets=(Bucket("x", None), Bucket("y", None)),
            rep_ids=np.array([f"R{i}" for i in range(m)], dtype=object),
            capacity=rng.integers(0, 3, (m, nb)),
            cooldown_accounts=rng.integers(0, n, 6),
            cooldown_reps=rng.integers(0, m, 6),
        )
        best = optimum(p, per_rep=True)
        if best > 0:
            gaps.append((best - allocate(p).total_priority) / best)
    assert np.mean(gaps) < 0.01
