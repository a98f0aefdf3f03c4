"""The allocator, by example: selection is optimal, dealing is a capacity-proportional snake."""

from __future__ import annotations

import numpy as np
import pytest

from dynbooks.domain.allocate import AllocationProblem, Bucket, Plan, allocate, pool_order
from dynbooks.domain.dealing import deal, pick_sequence
from dynbooks.domain.selection import eligibility_types


def problem(
    priority: list[float] | np.ndarray,
    eligible: list[list[bool]] | np.ndarray,
    capacity: list[list[int]] | np.ndarray,
    rep_ids: list[str] | None = None,
    cooldown: list[tuple[int, int]] = (),  # type: ignore[assignment]
    tiebreak: np.ndarray | None = None,
) -> AllocationProblem:
    pr = np.asarray(priority, dtype=np.float64)
    el = np.asarray(eligible, dtype=bool)
    cap = np.asarray(capacity, dtype=np.int64).reshape(-1, el.shape[1])
    reps = rep_ids if rep_ids is not None else [f"R{i}" for i in range(cap.shape[0])]
    pairs = np.asarray(cooldown, dtype=np.int64).reshape(-1, 2)
    return AllocationProblem(
        account_ids=np.array([f"acc{i:04d}" for i in range(pr.size)], dtype=object),
        priority=pr,
        tiebreak=np.zeros((0, pr.size)) if tiebreak is None else tiebreak,
        eligible=el,
        buckets=tuple(Bucket(f"rule{b}", None) for b in range(el.shape[1])),
        rep_ids=np.array(reps, dtype=object).reshape(cap.shape[0]),
        capacity=cap,
        cooldown_accounts=pairs[:, 0],
        cooldown_reps=pairs[:, 1],
    )


def dealt_to(plan: Plan, rep: int) -> np.ndarray:
    return plan.account[plan.rep == rep]


def test_two_reps_of_60_split_120_high_quality_accounts_evenly_in_count_and_quality() -> None:
    rng = np.random.default_rng(7)
    quality = np.sort(rng.uniform(80, 100, 120))[::-1]
    p = problem(quality, np.ones((120, 1)), [[60], [60]], rep_ids=["Jane", "Joe"])
    plan = allocate(p)
    jane, joe = dealt_to(plan, 0), dealt_to(plan, 1)
    assert (jane.size, joe.size) == (60, 60)
    mean_jane, mean_joe = quality[jane].mean(), quality[joe].mean()
    assert abs(mean_jane - mean_joe) / mean_joe < 0.005


def test_equal_capacities_deal_an_exact_snake_a_b_b_a() -> None:
    p = problem(np.arange(8, 0, -1.0), np.ones((8, 1)), [[4], [4]], rep_ids=["A", "B"])
    plan = allocate(p)
    order = np.argsort(plan.rank)
    assert "".join(p.rep_ids[plan.rep[order]]) == "ABBAABBA"


def test_snake_base_order_is_by_rep_id_not_by_input_row() -> None:
    p = problem(np.arange(4, 0, -1.0), np.ones((4, 1)), [[2], [2]], rep_ids=["B", "A"])
    plan = allocate(p)
    assert p.rep_ids[plan.rep[plan.rank == 1]][0] == "A"


def test_a_rep_with_four_times_the_capacity_picks_four_times_as_often_centred_on_its_share() -> None:
    rep, t = pick_sequence(np.array([1, 4]), np.array([0, 1]))
    assert list(rep) == [1, 1, 0, 1, 1]  # keys (t + 1/2) / c: 1/8, 3/8, 1/2, 5/8, 7/8
    assert list(t) == [0, 1, 0, 2, 3]


def test_a_deal_that_would_break_weighted_ef1_falls_back_to_the_weighted_picking_sequence() -> None:
    # The snake would give the big rep both valuable accounts before the small rep picks once.
    rep, _ = deal(np.array([10, 10, 0, 0, 0]), np.array([1, 4]), np.array([0, 1]))
    assert list(rep) == [1, 0, 1, 1, 1]  # keys t / c: round 0 ties, the larger capacity first


def test_a_realistic_deal_keeps_the_snake() -> None:
    rep, _ = deal(np.array([10, 9, 8, 7, 6]), np.array([1, 4]), np.array([0, 1]))
    assert list(rep) == [1, 1, 0, 1, 1]


def first_rule_greedy_total(p: AllocationProblem) -> float:
    """Best account first, each to the first bucket (by index) that still has room."""
    room = p.capacity.sum(axis=0).copy()
    total = 0.0
    for a in pool_order(p.priority, p.tiebreak, p.account_ids):
        for b in np.flatnonzero(p.eligible[a]):
            if room[b] > 0:
                room[b] -= 1
                total += float(p.priority[a])
                break
    return total


def test_overlapping_specialist_and_generalist_beat_first_rule_greedy_on_a_scarce_pool() -> None:
    # Bucket 0 is a generalist rule (accepts groups x and y), bucket 1 a specialist (only group y).
    # The best accounts are group y: a greedy pass hands them to the generalist, starving the specialist.
    priority = [100, 99, 98, 50, 40]
    eligible = [[True, True], [True, True], [True, True], [True, False], [True, False]]
    p = problem(priority, eligible, [[3, 0], [0, 3]])
    plan = allocate(p)
    assert plan.total_priority == pytest.approx(100 + 99 + 98 + 50 + 40)
    assert plan.total_priority > first_rule_greedy_total(p)


def test_accepted_accounts_of_a_type_are_its_best_ones_and_the_rest_stay_in_the_pool() -> None:
    p = problem([5, 4, 3, 2, 1], np.ones((5, 1)), [[2]])
    plan = allocate(p)
    assert sorted(plan.account) == [0, 1]


def test_ties_in_priority_are_broken_by_tiebreak_rows_then_account_id() -> None:
    tiebreak = np.array([[2.0, 1.0, 1.0, 0.0]])
    order = pool_order(np.array([7.0, 7.0, 7.0, 1.0]), tiebreak, np.array(["a", "c", "b", "z"], dtype=object))
    assert list(order) == [2, 1, 0, 3]


def test_priorities_equal_to_six_decimals_tie() -> None:
    order = pool_order(np.array([1.0000001, 1.0]), np.zeros((0, 2)), np.array(["b", "a"], dtype=object))
    assert list(order) == [1, 0]


def test_returned_account_is_not_dealt_back_to_the_rep_in_cooldown() -> None:
    p = problem([9, 8, 7, 6], np.ones((4, 1)), [[2], [2]], cooldown=[(0, 0)])
    plan = allocate(p)
    assert 0 not in dealt_to(plan, 0)
    assert plan.total_priority == pytest.approx(30)


def test_cooldown_with_no_other_rep_drops_the_account_and_selects_the_next_best() -> None:
    p = problem([9, 8, 7], np.ones((3, 1)), [[2]], cooldown=[(0, 0)])
    plan = allocate(p)
    assert sorted(plan.account) == [1, 2]


def test_cooldown_account_moves_to_another_bucket_when_its_bucket_cannot_take_it() -> None:
    p = problem([9, 8], [[True, True], [True, False]], [[1, 0], [0, 1]], cooldown=[(0, 0)])
    plan = allocate(p)
    assert set(zip(plan.account, plan.rep, strict=True)) == {(1, 0), (0, 1)}


def test_explain_names_rank_bucket_priority_pick_and_rep() -> None:
    p = problem([9, 8, 7], np.ones((3, 1)), [[2], [1]], rep_ids=["R7", "R8"])
    plan = allocate(p)
    j = int(np.flatnonzero(plan.account == 2)[0])
    assert plan.explain(p, j) == (
        "ranked 3 of 3 in rule0/remainder (priority 7.000); pick 2 of 2 for rep R7 in a capacity-proportional snake"
    )


def test_empty_inputs_give_an_empty_plan() -> None:
    plan = allocate(problem(np.zeros(0), np.zeros((0, 1)), [[3]]))
    assert plan.account.size == 0 and plan.total_priority == 0.0
    plan = allocate(problem([1.0, 2.0], np.ones((2, 1)), np.zeros((0, 1))))
    assert plan.account.size == 0


def test_nan_priority_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        allocate(problem([np.nan], np.ones((1, 1)), [[1]]))


def test_the_callers_eligibility_array_is_not_modified() -> None:
    p = problem([9, 8, 7], np.ones((3, 1)), [[2]], cooldown=[(0, 0)])
    before = p.eligible.copy()
    allocate(p)
    assert (p.eligible == before).all()


def test_nested_rules_fill_the_specific_rule_with_what_only_it_can_take() -> None:
    # Bucket 0 (enterprise) accepts only the first three accounts; bucket 1 (all) accepts everything.
    priority = [90, 80, 70, 60, 50, 40]
    eligible = [[True, True]] * 3 + [[False, True]] * 3
    p = problem(priority, eligible, [[2, 0], [0, 3]])
    plan = allocate(p)
    assert plan.total_priority == pytest.approx(90 + 80 + 70 + 60 + 50)
    assert set(plan.account[plan.bucket == 0]) <= {0, 1, 2}


def test_the_plan_does_not_depend_on_the_order_of_account_rows() -> None:
    rng = np.random.default_rng(3)
    priority = rng.integers(0, 5, 40).astype(float)  # many ties: the account id decides
    eligible = rng.random((40, 2)) < 0.7
    p = problem(priority, eligible, [[5, 0], [4, 3], [0, 6]])
    perm = rng.permutation(40)
    q = AllocationProblem(
        p.account_ids[perm], p.priority[perm], p.tiebreak[:, perm], p.eligible[perm], p.buckets,
        p.rep_ids, p.capacity, p.cooldown_accounts, p.cooldown_reps,
    )
    a, b = allocate(p), allocate(q)
    assert list(p.account_ids[a.account]) == list(q.account_ids[b.account])
    assert list(a.rep) == list(b.rep) and list(a.rank) == list(b.rank)


def test_eligibility_types_beyond_24_buckets_are_numbered_by_bitmask_like_the_fast_path() -> None:
    rng = np.random.default_rng(9)
    for buckets in (5, 26):
        eligible = rng.random((80, buckets)) < 0.1
        types, masks = eligibility_types(eligible)
        assert (masks[types] == eligible).all()
        codes = [sum(1 << j for j in range(buckets) if row[j]) for row in masks]
        assert codes == sorted(codes)


def test_a_partly_filled_bucket_is_balanced_to_equal_means_and_stays_weighted_ef1() -> None:
    rng = np.random.default_rng(11)
    priority = rng.gamma(2.0, 15.0, 3000)
    capacity = rng.integers(50, 501, (40, 1))  # ~11k slots for 3k accounts: the deal stops part-way
    p = problem(priority, np.ones((3000, 1)), capacity)
    plan = allocate(p)
    assert plan.account.size == 3000
    means = np.array([plan.priority[plan.rep == r].mean() for r in range(40) if (plan.rep == r).any()])
    assert (means.max() - means.min()) / plan.priority.mean() < 0.002  # within +-0.1% of the mean
    totals = np.bincount(plan.rep, weights=plan.priority, minlength=40)
    best = np.zeros(40)
    np.maximum.at(best, plan.rep, plan.priority)
    c = capacity[:, 0]
    assert (totals / c).min() >= ((totals - best) / c).max() - 1e-9  # weighted-EF1
    # pick t of c_i is the account's place among the rep's accounts in pool order
    for r in range(40):
        mine = np.sort(plan.rank[plan.rep == r])
        assert list(plan.pick[plan.rep == r][np.argsort(plan.rank[plan.rep == r])]) == list(range(1, mine.size + 1))


@pytest.mark.parametrize("ties", [False, True])
def test_disjoint_rules_take_each_buckets_best_accounts_by_the_threshold_fast_path(ties: bool) -> None:
    from dynbooks.domain.selection import _select_disjoint, eligibility_codes, priority_key, select

    rng = np.random.default_rng(5)
    n = 200_000
    priority = rng.integers(0, 300, n).astype(float) if ties else rng.gamma(2.0, 15.0, n)
    group = rng.integers(0, 4, n)
    eligible = np.zeros((n, 3), dtype=bool)
    eligible[group < 3, group[group < 3]] = True  # group 3 is eligible for nothing
    cap = np.array([[3000, 0, 0], [0, 500, 0], [2000, 0, 7]])
    p = problem(priority, eligible, cap)
    code = eligibility_codes(eligible).astype(np.uint16)
    counts = np.bincount(code, minlength=8)
    present = np.array([0, 1, 2, 4])
    fast = _select_disjoint(p.priority, p.tiebreak, p.account_ids, code, present, cap.sum(axis=0), counts)
    assert fast is not None  # the fast path answered
    accounts, buckets, keys = select(p.priority, p.tiebreak, p.account_ids, eligible, cap.sum(axis=0))
    assert (keys == priority_key(p.priority[accounts])).all()  # the keys read back from the packed sort
    order = pool_order(p.priority, p.tiebreak, p.account_ids)
    for b, k in enumerate(cap.sum(axis=0)):
        expected = order[eligible[order, b]][:k]  # the bucket's best k, in pool order
        assert list(accounts[buckets == b]) == list(expected)


def test_the_packed_integer_slot_sort_matches_the_float_key_sort() -> None:
    from dynbooks.domain.dealing import _slot_order, deal_buckets

    rng = np.random.default_rng(2)
    capacity = rng.integers(0, 9, (12, 3)) * rng.integers(0, 2, (12, 3))  # equal keys are common
    capacity[0] = 4
    slots = capacity.sum(axis=0)
    bucket = np.repeat(np.arange(3), slots)
    value = np.concatenate([np.arange(k, 0, -1) for k in slots]).astype(np.int64) * 1000
    position = rng.permutation(12)
    rep, t = deal_buckets(bucket, value, capacity, position)
    # The same deal from the float-key order, slot by slot.
    by_base = np.argsort(position, kind="stable")
    pair_bucket, row = np.nonzero(capacity[by_base].T > 0)
    pair_rep = by_base[row]
    pair_cap = capacity[pair_rep, pair_bucket]
    reps_in = np.bincount(pair_bucket, minlength=3)
    pair_pos = np.arange(pair_rep.size) - np.repeat(np.cumsum(reps_in) - reps_in, reps_in)
    slot_pair = np.repeat(np.arange(pair_rep.size), pair_cap)
    tt = np.arange(slot_pair.size) - np.repeat(np.cumsum(pair_cap) - pair_cap, pair_cap)
    pos = pair_pos[slot_pair]
    direction = np.where(tt % 2 == 0, pos, reps_in[pair_bucket[slot_pair]] - 1 - pos)
    order = _slot_order(tt, pair_cap[slot_pair], pair_bucket[slot_pair], direction, pos, int(reps_in.max()), 3)
    assert list(rep) == list(pair_rep[slot_pair[order]])
    assert list(t) == list(tt[order])


@pytest.mark.parametrize("accounts", [900, 5000])  # drop-out (fewer accounts than slots) and full buckets
def test_the_memoised_slot_table_gives_the_same_plan_and_hands_out_writable_columns(accounts: int) -> None:
    from dynbooks.domain.dealing import _slot_table

    rng = np.random.default_rng(8)
    group = rng.integers(0, 3, accounts)
    eligible = np.zeros((accounts, 3), dtype=bool)
    eligible[np.arange(accounts), group] = True
    capacity = rng.integers(1, 60, (30, 3)) * (rng.random((30, 3)) < 0.5)
    p = problem(rng.gamma(2.0, 15.0, accounts), eligible, capacity)
    _slot_table.cache_clear()
    cold = allocate(p)
    warm = allocate(p)
    assert _slot_table.cache_info().hits >= 1  # the second plan read the table the first one built
    for column in ("account", "rep", "bucket", "rank", "pick", "picks", "priority"):
        assert (getattr(cold, column) == getattr(warm, column)).all()
    assert warm.rep.flags.writeable and warm.pick.flags.writeable  # the shared table is never handed out
    warm.rep[:] = 0  # and writing into a plan leaves the table (and the next plan) alone
    assert (allocate(p).rep == cold.rep).all()
