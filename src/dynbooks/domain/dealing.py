"""Dealing inside a bucket: a capacity-proportional snake (SPEC §4, objective 3).

The pick sequence
    Every rep ``i`` with free capacity ``c_i > 0`` in the bucket owns ``c_i`` slots; its pick ``t``
    (``t = 0 .. c_i - 1``) has the key ``(t + 1/2) / c_i`` (Sainte-Laguë / Webster). Slots are sorted by
    key. Among equal keys a rep on an even pick ``t`` goes in base order and a rep on an odd pick in
    reversed base order, so with equal capacities every round ties and the sequence is exactly a snake
    draft: A B B A A B ... The base order of reps is by rep id ascending, never by input row order.
    Slot ``k`` gets the ``k``-th best selected account of the bucket; with fewer accounts than slots the
    first slots win (a snake with drop-out).

The weighted-EF1 guarantee
    ``v_i / c_i >= (v_j - best item of j) / c_j`` for every pair of reps of the bucket, with ``v`` the
    fixed-point priorities dealt. Sainte-Laguë keys are the most even on average, but they cannot promise
    this for every value profile: a rep with 4x the capacity of another picks twice before the small
    one picks once, which breaks weighted-EF1 when the top two accounts carry most of the value. So the
    deal is checked on the actual values, and if any pair fails, the bucket is dealt again with the keys
    ``t / c_i`` instead (the weighted picking sequence of Chakraborty, Igarashi, Suksompong and Zick,
    2020: every prefix has ``(picks_j - 1) / c_j <= picks_i / c_i``, so it is weighted-EF1 for any
    non-increasing values), equal keys going to the larger capacity first, then as above.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["deal", "deal_buckets", "pick_sequence"]

IntArray = npt.NDArray[np.int64]

EXACT_NUDGE_LIMIT = 2.0**44
"""Above this ``8 c_max^2 M^2`` the tie nudge would approach float resolution; ties are then sorted."""


def pick_sequence(capacity: IntArray, base_position: IntArray, offset: float = 0.5) -> tuple[IntArray, IntArray]:
    """The slots of one bucket in dealing order: ``(rep, t)`` with ``t`` 0-based.

    ``capacity[i]`` is rep ``i``'s free slots in the bucket, ``base_position[i]`` its place in the base
    order (its rank by rep id); reps with no capacity own no slot. Keys are ``(t + offset) / c_i``;
    ``offset`` 0.5 is the snake described in the module docstring, 0 the weighted-EF1 fallback (whose
    equal keys go to the larger capacity first).
    """
    cap = np.asarray(capacity, dtype=np.int64)
    reps = np.flatnonzero(cap > 0)
    if reps.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    reps = reps[np.argsort(base_position[reps], kind="stable")]
    c = cap[reps]
    rep = np.repeat(reps, c)
    slot_pos = np.repeat(np.arange(reps.size, dtype=np.int64), c)
    slot_cap = np.repeat(c, c)
    t = np.arange(rep.size, dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
    # Correctly rounded division gives equal floats for equal fractions (and distinct floats for
    # distinct ones at any realistic capacity), so float keys tie exactly when the rational keys do.
    key = (t + offset) / slot_cap
    # Not a stable sort: inside a run of equal keys the order is set explicitly below.
    order = np.argsort(key)
    tied = key[order][1:] == key[order][:-1]
    if tied.any():
        # Only the tied runs need the secondary keys; sorting everything by three keys costs 2x.
        flags = np.concatenate(([0], tied.astype(np.int8), [0]))
        starts = np.flatnonzero(np.diff(flags) == 1)
        lengths = np.flatnonzero(np.diff(flags) == -1) + 1 - starts
        members = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
        run = np.repeat(np.arange(starts.size), lengths)
        s = order[members]
        direction = np.where(t[s] % 2 == 0, slot_pos[s], reps.size - 1 - slot_pos[s])
        larger_first = -slot_cap[s] if offset == 0 else np.zeros(s.size, dtype=np.int64)
        order[members] = s[np.lexsort((slot_pos[s], direction, larger_first, run))]
    return rep[order], t[order]


def deal(value: IntArray, capacity: IntArray, base_position: IntArray) -> tuple[IntArray, IntArray]:
    """Deal accounts of values ``value`` (non-increasing: best first) to reps; ``(rep, t)`` per account.

    Uses the snake keys, or the weighted-EF1 keys when the snake deal is not weighted-EF1 on ``value``.
    """
    rep, t = pick_sequence(capacity, base_position)
    rep, t = rep[: value.size], t[: value.size]
    if not _weighted_ef1(value, rep, capacity):
        rep, t = pick_sequence(capacity, base_position, offset=0.0)
        rep, t = rep[: value.size], t[: value.size]
    return rep, t


def _weighted_ef1(value: IntArray, rep: IntArray, capacity: IntArray) -> bool:
    """Whether no rep weighted-envies another after dropping that other's best (first) item."""
    reps = np.flatnonzero(capacity > 0)
    if reps.size < 2 or value.size == 0:
        return True
    m = capacity.size
    total = np.bincount(rep, weights=value.astype(np.float64), minlength=m)[reps]
    first = np.full(m, -1, dtype=np.int64)
    first[rep[::-1]] = np.arange(rep.size - 1, -1, -1)  # first slot of each rep: its best item
    best = np.where(first[reps] >= 0, value[np.maximum(first[reps], 0)], 0).astype(np.float64)
    c = capacity[reps].astype(np.float64)
    # Relative slack of 1e-12 so that float rounding of equal ratios does not count as envy.
    return bool(np.min(total / c) >= np.max((total - best) / c) * (1 - 1e-12) - 1e-9)


def deal_buckets(
    bucket: IntArray, value: IntArray, capacity: IntArray, base_position: IntArray
) -> tuple[IntArray, IntArray]:
    """:func:`deal` for every bucket at once: ``(rep, t)`` per account.

    ``bucket`` must be sorted ascending and ``value`` non-increasing inside each bucket; ``capacity`` is
    ``(reps, buckets)``. Same result as calling :func:`deal` bucket by bucket, with one sort for all the
    buckets instead of one per bucket (the per-bucket version spends most of its time in overheads).
    """
    nb = capacity.shape[1]
    counts = np.bincount(bucket, minlength=nb)
    # (bucket, rep) pairs with capacity, by bucket then base order.
    by_base = np.argsort(base_position, kind="stable")
    pair_bucket, row = np.nonzero(capacity[by_base].T > 0)
    pair_rep = by_base[row]
    pair_cap = capacity[pair_rep, pair_bucket]
    reps_in = np.bincount(pair_bucket, minlength=nb)
    pair_pos = np.arange(pair_rep.size) - np.repeat(np.cumsum(reps_in) - reps_in, reps_in)
    slot_pair = np.repeat(np.arange(pair_rep.size), pair_cap)
    t = np.arange(slot_pair.size, dtype=np.int64) - np.repeat(np.cumsum(pair_cap) - pair_cap, pair_cap)
    slot_bucket = pair_bucket[slot_pair]
    key = (t + 0.5) / pair_cap[slot_pair]
    pos = pair_pos[slot_pair]
    direction = np.where(t % 2 == 0, pos, reps_in[slot_bucket] - 1 - pos)
    width = int(reps_in.max(initial=0))
    scale = 8.0 * float(pair_cap.max(initial=0)) ** 2 * width**2
    if 0 < scale < EXACT_NUDGE_LIMIT:
        # Distinct keys differ by at least 1 / (4 c_max^2); a nudge below 1 / (8 c_max^2) orders equal keys
        # by (direction, position) without reordering distinct ones, and saves sorting the tied runs.
        key = key + (direction * width + pos) / scale
    order = np.argsort(key)
    order = order[np.argsort(slot_bucket[order].astype(np.uint16) if nb < 65536 else slot_bucket[order], kind="stable")]
    tied = (key[order][1:] == key[order][:-1]) & (slot_bucket[order][1:] == slot_bucket[order][:-1])
    if tied.any():
        flags = np.concatenate(([0], tied.astype(np.int8), [0]))
        starts = np.flatnonzero(np.diff(flags) == 1)
        lengths = np.flatnonzero(np.diff(flags) == -1) + 1 - starts
        members = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
        run = np.repeat(np.arange(starts.size), lengths)
        s = order[members]
        order[members] = s[np.lexsort((pos[s], direction[s], run))]
    # The first counts[b] slots of each bucket (drop-out); buckets are contiguous in `order`.
    slots_in = np.bincount(slot_bucket, minlength=nb)
    take = np.minimum(counts, slots_in)
    if (take < counts).any():
        raise ValueError("more accounts than slots in a bucket")
    first_slot = np.cumsum(slots_in) - slots_in
    chosen = order[np.repeat(first_slot - (np.cumsum(take) - take), take) + np.arange(take.sum())]
    pair = slot_pair[chosen]
    rep, tt = pair_rep[pair], t[chosen]
    # Weighted-EF1 per bucket on the actual values; the rare failing bucket is dealt again by t / c.
    total = np.bincount(pair, weights=value.astype(np.float64), minlength=pair_rep.size)
    best = np.zeros(pair_rep.size)
    best[pair[tt == 0]] = value[tt == 0]
    own = total / pair_cap
    envy = (total - best) / pair_cap
    low = np.full(nb, np.inf)
    high = np.full(nb, -np.inf)
    np.minimum.at(low, pair_bucket, own)
    np.maximum.at(high, pair_bucket, envy)
    starts_b = np.cumsum(counts) - counts
    for b in np.flatnonzero(low < high * (1 - 1e-12) - 1e-9):
        lo, hi = int(starts_b[b]), int(starts_b[b] + counts[b])
        rep[lo:hi], tt[lo:hi] = deal(value[lo:hi], capacity[:, b], base_position)
    return rep, tt
