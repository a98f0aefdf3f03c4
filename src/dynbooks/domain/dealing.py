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

Balancing means (:func:`balance`)
    With drop-out (a bucket not full) or heavy-tailed values, reps' *mean* priorities differ by a few
    percent after the deal. The allocator then swaps single accounts between a rep above the bucket's
    mean and one below (same bucket, counts unchanged, each swap lowering the pair's worse deviation)
    until every rep's mean is within 0.1% of the bucket's mean (or 24 rounds). A bucket keeps the
    balanced deal only if it is still weighted-EF1 on the actual values; otherwise it keeps the deal.
    So the guarantees are: counts as the pick sequence dealt them, weighted-EF1, and (when balancing
    converges, as it does on the benchmark scenarios in 4-10 rounds) means within ±0.1%.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dynbooks.domain.selection import argsort_int

__all__ = ["balance", "deal", "deal_and_balance", "deal_buckets", "forget_slot_tables", "pick_sequence"]

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
        members, run = _tie_runs(tied)
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


def _not_wef1(total: np.ndarray, best: np.ndarray, cap: np.ndarray, bucket: np.ndarray, nb: int) -> np.ndarray:
    """The buckets whose deal is not weighted-EF1: some rep's own value per unit of capacity is below what
    another rep of the bucket holds per unit of *its* capacity once its best account is taken away.

    Per (rep, bucket) pair: ``total`` value held, ``best`` its best account, ``cap`` capacity. Comparing the
    bucket's lowest own ratio with its highest envy ratio tests every pair of reps at once; the relative
    slack of 1e-12 keeps float rounding of equal ratios from counting as envy.
    """
    low = np.full(nb, np.inf)
    high = np.full(nb, -np.inf)
    np.minimum.at(low, bucket, total / cap)
    np.maximum.at(high, bucket, (total - best) / cap)
    return np.flatnonzero(low < high * (1 - 1e-12) - 1e-9)


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
    return _not_wef1(total, best, capacity[reps].astype(np.float64), np.zeros(reps.size, dtype=np.int64), 1).size == 0


def deal_buckets(
    bucket: IntArray, value: IntArray, capacity: IntArray, base_position: IntArray
) -> tuple[IntArray, IntArray]:
    """:func:`deal` for every bucket at once: ``(rep, t)`` per account.

    ``bucket`` must be sorted ascending and ``value`` non-increasing inside each bucket; ``capacity`` is
    ``(reps, buckets)``. Same result as calling :func:`deal` bucket by bucket, with one sort for all the
    buckets instead of one per bucket (the per-bucket version spends most of its time in overheads).
    """
    rep, t, _ = _deal_buckets(bucket, value, capacity, base_position)
    return rep, t


def deal_and_balance(
    bucket: IntArray, value: IntArray, capacity: IntArray, base_position: IntArray
) -> tuple[IntArray, IntArray]:
    """:func:`deal_buckets`, then :func:`balance`, which starts from the books the deal already summed."""
    rep, t, books = _deal_buckets(bucket, value, capacity, base_position)
    return balance(bucket, value, rep, t, capacity, base_position, books)


def _deal_buckets(
    bucket: IntArray, value: IntArray, capacity: IntArray, base_position: IntArray
) -> tuple[IntArray, IntArray, Books]:
    """:func:`deal_buckets` and the :data:`Books` of the deal."""
    m, nb = capacity.shape
    counts = np.bincount(bucket, minlength=nb)
    slots = _slot_table(np.ascontiguousarray(capacity, dtype=np.int64).tobytes(), (m, nb),
                        np.ascontiguousarray(base_position, dtype=np.int64).tobytes())
    take = np.minimum(counts, slots.slots_in)
    if (take < counts).any():
        raise ValueError("more accounts than slots in a bucket")
    full = bool((take == slots.slots_in).all())
    if full:  # every slot is dealt (the usual case)
        pair, tt, rep = slots.pair, slots.t.copy(), slots.rep.copy()
    else:  # the first counts[b] slots of each bucket (drop-out)
        first_slot = np.cumsum(slots.slots_in) - slots.slots_in
        chosen = np.repeat(first_slot - (np.cumsum(take) - take), take) + np.arange(take.sum())
        pair, tt, rep = slots.pair[chosen], slots.t[chosen], slots.rep[chosen]
    pair_bucket, pair_rep, pair_cap = slots.pair_bucket, slots.pair_rep, slots.pair_cap
    # Weighted-EF1 per bucket on the actual values; the rare failing bucket is dealt again by t / c.
    dealt = pair_cap if full else np.bincount(pair, minlength=pair_rep.size)
    total = np.bincount(pair, weights=value, minlength=pair_rep.size)
    # Each pair's best is its first pick (t = 0), when that slot was dealt: the slot at table position q
    # of bucket b is dealt row q - (first slot of b) + (first row of b) when within the bucket's take.
    into_bucket = slots.first_pick - (np.cumsum(slots.slots_in) - slots.slots_in)[pair_bucket]
    was_dealt = into_bucket < take[pair_bucket]
    at = into_bucket + (np.cumsum(take) - take)[pair_bucket]
    best = np.where(was_dealt, value[np.where(was_dealt, at, 0)], 0) if value.size else np.zeros_like(pair_cap)
    starts_b = np.cumsum(counts) - counts
    redealt = _not_wef1(total, best, pair_cap, pair_bucket, nb)
    for b in redealt:
        lo, hi = int(starts_b[b]), int(starts_b[b] + counts[b])
        rep[lo:hi], tt[lo:hi] = deal(value[lo:hi], capacity[:, b], base_position)
    if redealt.size:
        return rep, tt, _books(bucket * m + rep, value, tt, m * nb)
    books: Books = (np.zeros(m * nb, dtype=np.int64), np.zeros(m * nb), np.zeros(m * nb, dtype=np.int64))
    at = pair_bucket * m + pair_rep
    books[0][at], books[1][at], books[2][at] = dealt, total, best
    return rep, tt, books


@dataclass(frozen=True)
class _Slots:
    """Every slot of every bucket in dealing order, and the (bucket, rep) pairs that own them."""

    pair_bucket: IntArray
    pair_rep: IntArray
    pair_cap: IntArray
    slots_in: IntArray
    """Slots per bucket; the slots are sorted by bucket."""
    pair: IntArray
    t: IntArray
    rep: IntArray
    first_pick: IntArray
    """Per pair: the position of its pick t = 0 in the dealing order."""


def forget_slot_tables() -> None:
    """Empty the memo of :func:`_slot_table` (the benchmark times cold runs this way)."""
    _slot_table.cache_clear()


@lru_cache(maxsize=2)
def _slot_table(capacity_bytes: bytes, shape: tuple[int, int], position_bytes: bytes) -> _Slots:
    """The pick sequence of every bucket at once (one sort for all the buckets).

    It depends only on the capacities and the base order, so it is memoised (a pure function of its
    arguments: the bytes of the capacity matrix and of the base positions): a plan computed again with
    the same free capacities, as in a dry run followed by the real cycle, skips the sort. The arrays are
    read-only; callers copy what they change.
    """
    m, nb = shape
    capacity = np.frombuffer(capacity_bytes, dtype=np.int64).reshape(m, nb)
    base_position = np.frombuffer(position_bytes, dtype=np.int64)
    # (bucket, rep) pairs with capacity, by bucket then base order.
    by_base = np.argsort(base_position, kind="stable")
    pair_bucket, row = np.nonzero(capacity[by_base].T > 0)
    pair_rep = by_base[row]
    pair_cap = capacity[pair_rep, pair_bucket]
    reps_in = np.bincount(pair_bucket, minlength=nb)
    pair_pos = np.arange(pair_rep.size) - np.repeat(np.cumsum(reps_in) - reps_in, reps_in)
    n_slots = int(pair_cap.sum())
    # Slots are laid out pair after pair (t = 0 .. c - 1 each): everything but t is constant per pair.
    t = np.arange(n_slots, dtype=np.int64) - np.repeat(np.cumsum(pair_cap) - pair_cap, pair_cap)
    width = int(reps_in.max(initial=0))
    c_max = int(pair_cap.max(initial=0))
    # Exact integer sort keys: distinct keys (t + 1/2) / c differ by at least 1 / (4 c_max^2), so
    # floor(key * 2^s) with 2^s >= 8 c_max^2 keeps them apart and equal keys equal; then the tie order
    # (direction, position: even picks in base order, odd picks reversed), then the slot's (pair, t) as
    # payload, all packed in one int64 sorted by np.sort. The higher fields already differ between slots,
    # so the payload only rides along: the sorted words give each slot's pair and pick without gathering
    # (random gathers over the slots cost more than the sort).
    s_bits = (8 * c_max * c_max).bit_length()
    w_bits = max((width * width - 1).bit_length(), 1)
    p_bits = max((pair_rep.size - 1).bit_length(), 1)
    t_bits = max((c_max - 1).bit_length(), 1)
    b_bits = max((nb - 1).bit_length(), 1)
    if n_slots and b_bits + s_bits + w_bits + p_bits + t_bits <= 62:
        low = p_bits + t_bits
        forward = pair_pos * width + pair_pos
        backward = (reps_in[pair_bucket] - 1 - pair_pos) * width + pair_pos
        # Per pair: the word of its even picks (t = 0 added below) and the change on odd picks.
        even = ((pair_bucket << (s_bits + w_bits)) | forward) << low | (np.arange(pair_rep.size) << t_bits)
        key = t.astype(np.float64)
        key += 0.5
        key /= np.repeat(pair_cap.astype(np.float64), pair_cap)
        key *= float(1 << s_bits)
        np.floor(key, out=key)
        packed = key.astype(np.int64)
        packed <<= w_bits + low
        packed += np.repeat(even, pair_cap)
        packed += t
        odd = t & 1
        odd *= np.repeat((backward - forward) << low, pair_cap)
        packed += odd
        packed.sort()
        tt = packed & ((1 << t_bits) - 1)
        pair = packed >> t_bits
        pair &= (1 << p_bits) - 1
    else:
        slot_pair = np.repeat(np.arange(pair_rep.size), pair_cap)
        slot_bucket = pair_bucket[slot_pair]
        pos = pair_pos[slot_pair]
        direction = np.where(t % 2 == 0, pos, reps_in[slot_bucket] - 1 - pos)
        order = _slot_order(t, pair_cap[slot_pair], slot_bucket, direction, pos, width, nb)
        pair, tt = slot_pair[order], t[order]
    first_pick = np.zeros(pair_rep.size, dtype=np.int64)
    first_pick[pair[tt == 0]] = np.flatnonzero(tt == 0)
    slots_in = np.bincount(pair_bucket, weights=pair_cap, minlength=nb).astype(np.int64)
    table = _Slots(pair_bucket, pair_rep, pair_cap, slots_in, pair, tt, pair_rep[pair], first_pick)
    for array in vars(table).values():
        array.flags.writeable = False
    return table


def _slot_order(
    t: IntArray, slot_cap: IntArray, slot_bucket: IntArray, direction: IntArray, pos: IntArray, width: int, nb: int
) -> IntArray:
    """Slots sorted by bucket, key (t + 1/2) / c, direction, position (float keys; any size)."""
    key = (t + 0.5) / slot_cap
    scale = 8.0 * float(slot_cap.max(initial=0)) ** 2 * width**2
    if 0 < scale < EXACT_NUDGE_LIMIT:
        # Distinct keys differ by at least 1 / (4 c_max^2); a nudge below 1 / (8 c_max^2) orders equal keys
        # by (direction, position) without reordering distinct ones, and saves sorting the tied runs.
        key = key + (direction * width + pos) / scale
    order = np.argsort(key)
    order = order[np.argsort(slot_bucket[order].astype(np.uint16) if nb < 65536 else slot_bucket[order], kind="stable")]
    tied = (key[order][1:] == key[order][:-1]) & (slot_bucket[order][1:] == slot_bucket[order][:-1])
    if tied.any():
        members, run = _tie_runs(tied)
        s = order[members]
        order[members] = s[np.lexsort((pos[s], direction[s], run))]
    return np.asarray(order, dtype=np.int64)


BALANCE_TOLERANCE = 0.001
"""Balancing stops when every rep's mean in a bucket is within this fraction of the bucket's mean."""
BALANCE_ROUNDS = 24


def _wef1_buckets(bucket: IntArray, value: IntArray, rep: IntArray, capacity: IntArray) -> npt.NDArray[np.bool_]:
    """Per bucket: whether the deal ``rep`` of the rows is weighted-EF1 (rows in pool order per bucket)."""
    m, nb = capacity.shape
    pid = bucket * m + rep
    total = np.bincount(pid, weights=value.astype(np.float64), minlength=m * nb)
    best = np.zeros(m * nb)
    np.maximum.at(best, pid, value.astype(np.float64))
    cap = capacity.T.reshape(-1).astype(np.float64)
    has = cap > 0
    pair_bucket = np.repeat(np.arange(nb), m)[has]
    ok = np.ones(nb, dtype=bool)
    ok[_not_wef1(total[has], best[has], cap[has], pair_bucket, nb)] = False
    return ok


def balance(
    bucket: IntArray,
    value: IntArray,
    rep: IntArray,
    t: IntArray,
    capacity: IntArray,
    base_position: IntArray,
    books: Books | None = None,
) -> tuple[IntArray, IntArray]:
    """Even out the reps' mean values inside each bucket by swapping accounts; returns the new ``rep``.

    Rows are sorted by bucket, values non-increasing inside a bucket (pool order); ``t[i]`` is row ``i``'s
    place among the rows of its (bucket, rep) in row order, as dealt. Each round, inside every bucket,
    the reps are sorted by surplus ``R_i = v_i - n_i * mean`` (ties by base order) and the k-th largest
    surplus is paired with the k-th largest deficit; for each pair the one swap (an account of the giver
    for a lower one of the taker) whose value difference is nearest to ``min(R_giver, -R_taker)`` is made
    if it brings both reps strictly closer to the mean. Rounds stop when every rep's mean is within
    :data:`BALANCE_TOLERANCE` of its bucket's mean (or after :data:`BALANCE_ROUNDS`). Counts never change;
    a bucket whose balanced deal is not weighted-EF1 keeps its input deal. Deterministic: only pool order,
    values and base positions decide. ``books`` are the per-(bucket, rep) count, sum and best value of the
    input deal when the caller has them (:func:`deal_buckets` does), indexed by ``bucket * reps + rep``.

    Returns ``(rep, t)``: ``t`` is recomputed (the account's place among the rep's accounts of the bucket,
    in pool order) for the reps whose accounts changed.
    """
    m, nb = capacity.shape
    if rep.size == 0 or m < 2:
        return rep, t
    vmin, vmax = int(value.min()), int(value.max())
    span = vmax - vmin + 1
    if span * (m * nb + 1) >= 1 << 62:  # pragma: no cover - values too wide to pack; keep the deal
        return rep, t
    position = np.asarray(base_position, dtype=np.int64)
    pid = bucket * m
    pid += rep
    if books is None:
        books = _books(pid, value, t, m * nb)
    n_all, s_all, best_all = books
    live = np.flatnonzero(n_all)
    n_p = n_all[live].astype(np.float64)
    first_all = np.cumsum(n_all) - n_all
    first = first_all[live]
    s_p = s_all[live].astype(np.float64)
    pb, pr = live // m, live % m
    bucket_mean = np.bincount(pb, weights=s_p, minlength=nb) / np.maximum(np.bincount(pb, weights=n_p, minlength=nb), 1)
    scale = n_p * np.maximum(bucket_mean[pb], 1e-300)
    if not (np.abs(s_p - n_p * bucket_mean[pb]) > BALANCE_TOLERANCE * scale).any():
        return rep, t  # already balanced: no list to build
    # The rows of every (bucket, rep) as one list each (CSR, lists in pid order); a swap exchanges one row
    # between two lists, so list sizes never change. Only the lists of the reps that take part in a swap
    # are ever filled in (most reps are within the tolerance from the start): a list is filled the first
    # time its rep is paired, from the input deal, which is still its content then (only filled lists swap).
    members = np.empty(rep.size, dtype=np.int64)
    slot = np.empty(rep.size, dtype=np.int64)
    filled = np.zeros(live.size, dtype=bool)
    wanted = np.zeros(m * nb, dtype=bool)

    def fill(pairs: IntArray) -> None:
        new = pairs[~filled[pairs]]
        if new.size == 0:
            return
        filled[new] = True
        wanted[:] = False
        wanted[live[new]] = True
        rows = np.flatnonzero(wanted[pid])
        at = first_all[pid[rows]] + t[rows]
        members[at] = rows
        slot[rows] = at

    touched = np.zeros(live.size, dtype=bool)
    out = rep.copy()
    swapped: list[IntArray] = []

    def rows_of(pairs: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        length = n_all[live[pairs]]
        starts = np.cumsum(length) - length
        offsets = np.repeat(first[pairs] - starts, length) + np.arange(length.sum())
        return members[offsets], np.repeat(np.arange(pairs.size), length), starts

    for _ in range(BALANCE_ROUNDS):
        surplus = s_p - n_p * bucket_mean[pb]
        signed = surplus / scale
        dev = np.abs(signed)
        if not (dev > BALANCE_TOLERANCE).any():
            break
        # Inside each bucket: relative deviation descending, then base order.
        order = np.lexsort((position[pr], -signed, pb))
        size = np.bincount(pb, minlength=nb)
        start = np.cumsum(size) - size
        r = np.arange(order.size) - start[pb[order]]
        partner_r = size[pb[order]] - 1 - r
        head = r < partner_r
        g = order[head]
        h = order[start[pb[g]] + partner_r[head]]
        ok = (surplus[g] > 0) & (surplus[h] < 0) & ((dev[g] > BALANCE_TOLERANCE) | (dev[h] > BALANCE_TOLERANCE))
        g, h = g[ok], h[ok]
        if g.size == 0:
            break
        fill(np.concatenate((g, h)))
        # Aim at fixing the worse of the two completely; accept what lowers the pair's worse deviation.
        target = np.where(dev[h] >= dev[g], -surplus[h], surplus[g])
        worst = np.maximum(dev[g], dev[h])
        rows_g, kg, starts_g = rows_of(g)
        rows_h, kh, _ = rows_of(h)
        # Taker rows by (pair, value ascending), searched with the value each giver row would want back.
        perm = argsort_int(value[rows_h], kh, g.size)
        rows_h, kh = rows_h[perm], kh[perm]
        packed_h = kh * span + (value[rows_h] - vmin)
        value_g = value[rows_g]
        want = value_g - np.rint(target[kg]).astype(np.int64)
        query = kg * span + np.clip(want - vmin, 0, span - 1)
        hi = np.searchsorted(packed_h, query)
        best_err = np.full(rows_g.size, np.inf)
        best_row = np.full(rows_g.size, -1, dtype=np.int64)
        sig_g, sig_h = signed[g][kg], signed[h][kg]
        scale_g, scale_h = scale[g][kg], scale[h][kg]
        for cand in (hi - 1, hi):
            c = np.clip(cand, 0, rows_h.size - 1)
            inside = (cand >= 0) & (cand < rows_h.size) & (kh[c] == kg)
            delta = (value_g - value[rows_h[c]]).astype(np.float64)
            after = np.maximum(np.abs(sig_g - delta / scale_g), np.abs(sig_h + delta / scale_h))
            err = np.where(inside & (delta > 0), after, np.inf)
            better = err < best_err
            best_err[better], best_row[better] = err[better], rows_h[c][better]
        # Per pair: the giver row with the smallest error, the first in pool order (lowest row) on ties.
        smallest = np.minimum.reduceat(best_err, starts_g)
        i_bits = max((rows_g.size - 1).bit_length(), 1)
        tagged = np.where(best_err == smallest[kg], (rows_g << i_bits) | np.arange(rows_g.size), np.iinfo(np.int64).max)
        chosen = np.minimum.reduceat(tagged, starts_g) & ((1 << i_bits) - 1)
        chosen = chosen[best_err[chosen] < worst]
        if chosen.size == 0:
            break
        a_rows, b_rows = rows_g[chosen], best_row[chosen]
        gp, hp = g[kg[chosen]], h[kg[chosen]]
        delta = (value[a_rows] - value[b_rows]).astype(np.float64)
        swapped += [a_rows, b_rows]
        s_p[gp] -= delta
        s_p[hp] += delta
        touched[gp] = touched[hp] = True
        out[a_rows], out[b_rows] = pr[hp], pr[gp]
        sa, sb = slot[a_rows], slot[b_rows]
        members[sa], members[sb] = b_rows, a_rows
        slot[a_rows], slot[b_rows] = sb, sa
    if not touched.any():
        return rep, t
    # Weighted-EF1 per bucket (each rep's best = the max of its list); revert failing buckets. Untouched
    # lists are as dealt: their best is the input's.
    best = best_all[live].astype(np.float64)
    redo = np.flatnonzero(touched)
    length = n_all[live[redo]]
    offsets = np.repeat(first[redo] - (np.cumsum(length) - length), length) + np.arange(length.sum())
    best[redo] = np.maximum.reduceat(value[members[offsets]], np.cumsum(length) - length)
    bad = _not_wef1(s_p, best, capacity[pr, pb].astype(np.float64), pb, nb)
    new_t = t.copy()
    # Reps whose list changed: t is the place of each row in the (re-sorted) list.
    redo = np.flatnonzero(touched & ~np.isin(pb, bad))
    if redo.size:
        length = n_all[live[redo]]
        offsets = np.repeat(first[redo] - (np.cumsum(length) - length), length) + np.arange(length.sum())
        group = np.repeat(np.arange(redo.size), length)
        rows = members[offsets]
        rows = rows[argsort_int(rows, group, redo.size)]
        new_t[rows] = np.arange(rows.size) - np.repeat(np.cumsum(length) - length, length)
    if bad.size:
        moved = np.concatenate(swapped)
        moved = moved[np.isin(bucket[moved], bad)]
        out[moved] = rep[moved]
    return out, new_t


Books = tuple[IntArray, npt.NDArray[np.float64], IntArray]
"""Per (bucket, rep), indexed by ``bucket * reps + rep``: the count, the sum and the best of the values dealt."""


def _books(pid: IntArray, value: IntArray, t: IntArray, size: int) -> Books:
    """:data:`Books` of a deal (``t`` 0 marks each book's first row, its best: rows are in pool order)."""
    count = np.bincount(pid, minlength=size).astype(np.int64)
    total = np.bincount(pid, weights=value, minlength=size).astype(np.float64)
    best = np.zeros(size, dtype=np.int64)
    first = t == 0
    best[pid[first]] = value[first]
    return count, total, best


def _tie_runs(tied: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For ``tied[i]`` = "sorted items i and i+1 have equal keys": the positions of every item in a
    run of equal keys, and the run each belongs to (so one lexsort can order all runs at once)."""
    flags = np.concatenate(([0], tied.astype(np.int8), [0]))
    starts = np.flatnonzero(np.diff(flags) == 1)
    lengths = np.flatnonzero(np.diff(flags) == -1) + 1 - starts
    members = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
    run = np.repeat(np.arange(starts.size), lengths)
    return members.astype(np.int64), run.astype(np.int64)
