"""Optimal selection: which accounts go to which bucket (SPEC §4, objective 2).

The pool order
    Accounts are ranked by priority as fixed point ``round(priority * 1e6)`` (int64) descending, then by
    each ``tiebreak`` row in order ascending (the caller orients them so that smaller is better), then by
    account id ascending. Account ids are unique, so this is a total order and it does not depend on the
    order of the input rows.

The guarantee
    Among all assignments of accounts to buckets that respect eligibility and each bucket's capacity
    (the sum of its reps' free slots), :func:`select` returns one of maximum total priority (in the
    fixed-point unit). An account's value does not depend on the bucket, so the feasible account sets
    form a transversal matroid and the greedy walk in pool order ("take the account if the taken set
    can still be matched") is exact. It is also lexicographically best: no better account is left out
    for a worse one.

How it stays fast
    Accounts with the same eligibility bitmask form a *type*; there are few types. Once a type is
    rejected it stays rejected (matroid), so the accepted accounts of a type are a prefix of that type
    in pool order. We find each point where a Hall set becomes tight by binary search on a prefix of
    the stream, with a max-flow on the tiny type × bucket graph, and retire the types that can no longer
    grow; at most one event per type. Before that, each type is cut to its best ``capacity(mask)``
    accounts (no more could ever be taken), so only the candidates are sorted.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

__all__ = [
    "FIXED_POINT", "argsort_int", "eligibility_codes", "eligibility_types", "order_subset", "pool_order",
    "priority_key", "select",
]

FIXED_POINT = 1_000_000
"""Priorities are compared as ``round(priority * FIXED_POINT)``: equal to 6 decimals means tied."""

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def priority_key(priority: npt.ArrayLike) -> IntArray:
    """The fixed-point priority ``round(priority * 1e6)`` as int64; NaN or infinite priorities are refused."""
    p = np.asarray(priority, dtype=np.float64)
    # A finite sum means every term is finite (one fast pass); otherwise look element by element.
    if not np.isfinite(p.sum()) and not np.isfinite(p).all():
        raise ValueError("priority must be finite")
    scaled = p * FIXED_POINT
    np.rint(scaled, out=scaled)
    return scaled.astype(np.int64)


def order_subset(
    idx: IntArray,
    key: IntArray,
    tiebreak: FloatArray,
    account_ids: npt.NDArray[np.object_],
    group: IntArray | None = None,
    groups: int = 1,
) -> IntArray:
    """``idx`` sorted by the pool order (key descending, tiebreak rows ascending, account id ascending).

    With ``group`` (one small non-negative int per element of ``idx``, below ``groups``), sorted by group
    first, then by the pool order inside each group.

    The numeric keys are sorted first; account ids are compared only inside runs where every numeric key
    is equal, because comparing strings is far slower than comparing numbers and ties are rare.
    """
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size <= 1:
        return idx.copy()
    return _order(idx, -key[idx], [tiebreak[r, idx] for r in range(tiebreak.shape[0])], account_ids, group, groups)


def _order(
    idx: IntArray,
    neg: IntArray,
    rows: list[FloatArray],
    account_ids: npt.NDArray[np.object_],
    group: IntArray | None = None,
    groups: int = 1,
) -> IntArray:
    """:func:`order_subset` with the keys already gathered: ``neg`` = -key[idx], ``rows`` the tiebreak rows."""
    if idx.size <= 1:
        return idx.copy()
    if rows:
        perm = np.lexsort((*reversed(rows), neg) if group is None else (*reversed(rows), neg, group))
        out = idx[perm]
        sorted_neg = neg[perm]
        same = sorted_neg[1:] == sorted_neg[:-1]
        if group is not None:
            sorted_group = group[perm]
            same &= sorted_group[1:] == sorted_group[:-1]
        for row in rows:
            sorted_row = row[perm]
            same &= sorted_row[1:] == sorted_row[:-1]
        tied = np.flatnonzero(same)
    else:
        perm, high = _argsort_int_keys(neg, group, groups)
        out = idx[perm]
        tied = np.flatnonzero(high[1:] == high[:-1])
    _sort_ties_by_id(out, tied, account_ids)
    return out


def _sort_ties_by_id(out: IntArray, tied: IntArray, account_ids: npt.NDArray[np.object_]) -> None:
    """Sort, in place, each run of ``out`` whose numeric keys are equal by account id.

    ``tied`` lists the positions i where items i and i + 1 have equal keys (a short list: ties are rare),
    so only those runs are touched and only their ids are converted to strings.
    """
    if tied.size == 0:
        return
    new_run = np.ones(tied.size, dtype=bool)
    new_run[1:] = tied[1:] != tied[:-1] + 1
    run = np.cumsum(new_run) - 1
    starts = tied[new_run]
    lengths = np.bincount(run) + 1
    members = np.repeat(starts, lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    run_of = np.repeat(np.arange(starts.size), lengths)
    ids = np.asarray(account_ids[out[members]]).astype(str)
    out[members] = out[members][np.lexsort((ids, run_of))]


def _argsort_int_keys(values: IntArray, group: IntArray | None, groups: int) -> tuple[IntArray, IntArray]:
    """:func:`argsort_int` and, for each sorted position, a number equal between positions iff their
    (group, value) are equal."""
    n = values.size
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    bits = max(int(n - 1).bit_length(), 1)
    if (groups * span) << bits < 1 << 62:
        packed = values - lo
        if group is not None:
            packed += group.astype(np.int64) * span
        packed <<= bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        high = packed >> bits
        packed &= (1 << bits) - 1
        return packed, high
    perm = np.lexsort((values,) if group is None else (values, group)).astype(np.int64)
    if group is None:
        return perm, values[perm]
    # (group, value) pairs as one number: ranks of the distinct pairs in sorted order.
    sv, sg = values[perm], group[perm]
    step = np.ones(n, dtype=np.int64)
    step[0] = 0
    step[1:] = (sv[1:] != sv[:-1]) | (sg[1:] != sg[:-1])
    return perm, np.cumsum(step)


def argsort_int(values: IntArray, group: IntArray | None = None, groups: int = 1) -> IntArray:
    """A permutation sorting int64 ``values`` ascending (by ``group`` first when given), ties by position.

    When (group, value, position) fit in 63 bits together they are packed into one int64 and sorted
    with ``np.sort``, which is 2-3x faster than ``np.argsort`` (SIMD sort, no index array to carry);
    otherwise a stable ``np.lexsort``. Same result either way.
    """
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    return _argsort_int_keys(values, group, groups)[0]


def pool_order(priority: npt.ArrayLike, tiebreak: npt.ArrayLike, account_ids: npt.ArrayLike) -> IntArray:
    """The permutation of account indices in pool order, best first.

    Order: ``round(priority * 1e6)`` as int64 descending, then the rows of ``tiebreak`` (shape ``(k, n)``,
    smaller is better) in order ascending, then account id ascending. The result does not depend on the
    order of the input rows: shuffling them permutes the returned indices accordingly.
    """
    key = priority_key(priority)
    tb = _tiebreak(tiebreak, key.size)
    ids = np.asarray(account_ids, dtype=object)
    return order_subset(np.arange(key.size, dtype=np.int64), key, tb, ids)


def _tiebreak(tiebreak: npt.ArrayLike, n: int) -> FloatArray:
    tb = np.asarray(tiebreak, dtype=np.float64).reshape(-1, n) if n else np.zeros((0, 0))
    if np.isnan(tb).any():
        raise ValueError("tiebreak keys must not be NaN")
    return tb


_GATHER_BITS = np.uint64(0x0102040810204080)
"""Times eight 0/1 bytes (little-endian in a uint64), puts byte k at bit 56 + k and nothing else above bit 55."""


def eligibility_codes(eligible: BoolArray) -> npt.NDArray[np.uint64]:
    """The eligibility bitmask of every account (bucket ``j`` is bit ``j``), for up to 64 buckets.

    Reads each row 8 bytes at a time as a uint64 (a strided view, no copy) and gathers the 8 booleans
    into 8 bits with one multiply and one shift: a few passes over the matrix instead of one per bucket.
    """
    b = eligible.shape[1]
    if b > 64:
        raise ValueError("at most 64 buckets have a bitmask code")
    return _codes(eligible, np.uint64)[0]


_CHUNK = 1 << 15
"""Rows per block in :func:`_codes`: the temporaries of a block stay in the CPU cache."""


def _codes(eligible: BoolArray, dtype: type[np.unsignedinteger]) -> tuple[npt.NDArray[np.unsignedinteger], IntArray]:
    """:func:`eligibility_codes` as ``dtype`` (wide enough for the buckets), and how many rows have each code
    (for up to 16 buckets; empty otherwise).

    Block by block, so that the 8-byte products and the shifted words never leave the cache: on a busy
    machine the passes over whole 8 MB temporaries cost more than reading the matrix itself.
    """
    n, b = eligible.shape
    raw = np.ascontiguousarray(eligible).view(np.uint8)
    if b < 8:  # a row is shorter than a word: pad it (the matrix is small in bytes then)
        padded = np.zeros((n, 8), dtype=np.uint8)
        padded[:, :b] = raw
        raw, b = padded, 8
    flat = raw.reshape(-1)
    code = np.zeros(n, dtype=dtype)
    counts = np.zeros(1 << b if b <= 16 else 0, dtype=np.int64)
    word = np.empty(min(n, _CHUNK), dtype=np.uint64)
    part = np.empty(min(n, _CHUNK), dtype=dtype)
    # Words at byte 0, 8, 16, ... of the row, the last one ending on the row's last byte (overlaps OR in
    # the same bits again). The top byte of word * _GATHER_BITS holds the word's 8 booleans as bits.
    starts = sorted({*range(0, b - 7, 8), b - 8})
    for lo in range(0, n, _CHUNK):
        k = min(n - lo, _CHUNK)
        out = code[lo : lo + k]
        for start in starts:
            view = np.ndarray((k,), dtype=np.uint64, buffer=flat, offset=lo * b + start, strides=(b,))
            np.multiply(view, _GATHER_BITS, out=word[:k])
            top = word[:k].view(np.uint8)[7::8]
            np.left_shift(top, dtype(start), out=part[:k])
            np.bitwise_or(out, part[:k], out=out)
        if counts.size:
            counts += np.bincount(out, minlength=counts.size)
    return code, counts


def eligibility_types(eligible: BoolArray) -> tuple[npt.NDArray[np.integer], BoolArray]:
    """Group accounts by eligibility bitmask: ``(type of each account, mask of each type)``.

    Types are numbered by ascending bitmask (bucket 0 is the lowest bit), so the numbering depends only
    on the set of masks present, never on row order.
    """
    b = eligible.shape[1]
    if b <= 24:
        code = eligibility_codes(eligible).astype(np.uint32 if b > 16 else np.uint16)
        present = np.flatnonzero(np.bincount(code, minlength=1 << b))
        lookup = np.zeros(1 << b, dtype=np.uint16 if present.size < 65536 else np.int64)
        lookup[present] = np.arange(present.size)
        masks = ((present[:, None] >> np.arange(b)) & 1).astype(bool)
        return lookup[code], masks
    if b <= 64:
        present_codes, inverse = np.unique(eligibility_codes(eligible), return_inverse=True)
        masks = ((present_codes[:, None] >> np.arange(b, dtype=np.uint64)) & np.uint64(1)).astype(bool)
        return inverse.ravel().astype(np.int64), masks
    masks, inverse = np.unique(eligible, axis=0, return_inverse=True)
    # np.unique sorts rows lexicographically with bucket 0 most significant; re-number by bitmask order.
    weights = [int(sum(1 << j for j in range(b) if row[j])) for row in masks]
    renumber = np.argsort(np.argsort(np.array(weights, dtype=object)))
    order = np.argsort(renumber)
    return renumber[inverse.ravel()].astype(np.int64), masks[order]  # (over 64 buckets: rare, slower)


class _TypeGraph:
    """Max-flow on source → type → bucket → sink; answers "can these per-type counts all be placed?"."""

    def __init__(self, masks: BoolArray, bucket_cap: IntArray, big: int) -> None:
        self.t, self.b = masks.shape
        self.size = self.t + self.b + 2
        self.sink = self.size - 1
        tt, bb = np.nonzero(masks)
        self.tt, self.bb = tt, bb
        self.src = np.concatenate((np.zeros(self.t, np.int64), 1 + tt, 1 + self.t + np.arange(self.b)))
        self.dst = np.concatenate((1 + np.arange(self.t), 1 + self.t + bb, np.full(self.b, self.sink)))
        self.middle = np.full(tt.size, big, dtype=np.int64)
        self.bucket_cap = np.minimum(bucket_cap, big).astype(np.int64)

    def flow(self, x: IntArray) -> tuple[int, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(flow value, dense capacity matrix, dense flow matrix) for per-type supplies ``x``."""
        cap = np.concatenate((x, self.middle, self.bucket_cap)).astype(np.int32)
        graph = csr_matrix((cap, (self.src, self.dst)), shape=(self.size, self.size))
        result = maximum_flow(graph, 0, self.sink, method="dinic")
        dense_cap = np.zeros((self.size, self.size), dtype=np.int64)
        dense_cap[self.src, self.dst] = cap
        return int(result.flow_value), dense_cap, np.asarray(result.flow.toarray(), dtype=np.int64)

    def feasible(self, x: IntArray) -> bool:
        cap = np.concatenate((x, self.middle, self.bucket_cap)).astype(np.int32)
        graph = csr_matrix((cap, (self.src, self.dst)), shape=(self.size, self.size))
        return int(maximum_flow(graph, 0, self.sink, method="dinic").flow_value) == int(x.sum())

    def can_grow(self, x: IntArray) -> BoolArray:
        """For a feasible ``x``: which types could take one more account (a residual path to the sink)."""
        _, cap, flow = self.flow(x)
        residual = cap - flow
        np.fill_diagonal(residual, 0)
        reach = np.zeros(self.size, dtype=bool)
        reach[self.sink] = True
        while True:
            grown = reach | (residual[:, reach] > 0).any(axis=1)
            grown[0] = False  # paths must not go back through the source
            if (grown == reach).all():
                break
            reach = grown
        return reach[1 : 1 + self.t]

    def split(self, x: IntArray) -> IntArray:
        """A placement of ``x``: ``(types, buckets)`` matrix of counts (one max-flow, deterministic)."""
        _, _, flow = self.flow(x)
        out = np.zeros((self.t, self.b), dtype=np.int64)
        out[self.tt, self.bb] = flow[1 + self.tt, 1 + self.t + self.bb]
        return out


def _best_k(idx: IntArray, k: int, key: IntArray, tiebreak: FloatArray, ids: npt.NDArray[np.object_]) -> IntArray:
    """The best ``k`` of ``idx`` in pool order (as a set, unsorted); exact at ties on the boundary."""
    if k >= idx.size:
        return idx
    if k <= 0:
        return idx[:0]
    sub = key[idx]
    threshold = np.partition(sub, idx.size - k)[idx.size - k]
    above: IntArray = idx[sub > threshold]
    if above.size == k:
        return above
    at = idx[sub == threshold]
    return np.concatenate((above, order_subset(at, key, tiebreak, ids)[: k - above.size]))


def _sampled_cuts(
    priority: FloatArray, code: npt.NDArray[np.uint16], present: IntArray, bucket_cap: IntArray, counts: IntArray
) -> FloatArray:
    """Per eligibility code: a raw priority at or below the ``capacity``-th best of that code (a cut).

    Read off a strided sample of ~65k rows with a safety margin of ~5 standard deviations of a sampled
    quantile; ``-inf`` where a bucket takes every account of its code, ``+inf`` where it takes none.
    """
    n = code.size
    nb = bucket_cap.size
    step = max(1, n // 65536)
    # One grouping of the sample by code (contiguous copies): a strided comparison per code cost ~10x more.
    sample_code = np.ascontiguousarray(code[::step])
    by_code = np.argsort(sample_code, kind="stable")
    sample_p = np.ascontiguousarray(priority[::step])[by_code]
    bounds = np.searchsorted(sample_code[by_code], np.stack((present, present + 1)))
    threshold = np.full(1 << nb, np.inf)  # code 0 and buckets without capacity take nothing
    for c, lo, hi in zip(present.tolist(), bounds[0].tolist(), bounds[1].tolist(), strict=True):
        cap = int(bucket_cap[c.bit_length() - 1]) if c else 0
        if cap >= counts[c]:
            threshold[c] = -np.inf
        elif cap > 0:
            mine = sample_p[lo:hi]
            # Rank of the cut in the sample, widened by ~5 standard deviations of a sampled quantile.
            want = cap / counts[c] * mine.size
            rank = int(want + 5 * np.sqrt(want + 1) + 16)
            threshold[c] = -np.inf if rank >= mine.size else np.partition(mine, mine.size - rank)[mine.size - rank]
    # Two fixed-point units lower, so that an account left out can never tie with one at the cut.
    threshold[np.isfinite(threshold)] -= 2.0 / FIXED_POINT
    return threshold


def _by_bucket_then_pool_order(
    sup: IntArray, sup_bucket: IntArray, key: IntArray, tiebreak: FloatArray, account_ids: npt.NDArray[np.object_],
    nb: int, n: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """``sup`` sorted by (bucket, pool order): ``(accounts, their keys, start of each bucket (nb + 1))``.

    Without tiebreak rows, (bucket, key descending, account index) are packed into one int64 and sorted
    with ``np.sort``: the sorted words carry the account and its key, so nothing is gathered afterwards
    (random gathers over these arrays cost more than the sort itself). Equal keys are then ordered by id.
    """
    kmin, kmax = (int(key.min()), int(key.max())) if key.size else (0, 0)
    span = kmax - kmin + 1
    ibits = max(int(n - 1).bit_length(), 1)
    if tiebreak.shape[0] == 0 and (nb * span) << ibits < 1 << 62:
        packed = sup_bucket * span
        packed += kmax
        packed -= key
        packed <<= ibits
        packed |= sup
        packed.sort()
        high = packed >> ibits  # bucket * span + (kmax - key)
        packed &= (1 << ibits) - 1
        _sort_ties_by_id(packed, np.flatnonzero(high[1:] == high[:-1]), account_ids)
        starts = np.searchsorted(high, np.arange(nb + 1, dtype=np.int64) * span)
        sorted_key = np.repeat(np.arange(nb, dtype=np.int64) * span + kmax, np.diff(starts))
        sorted_key -= high
        return packed, sorted_key, starts
    ordered = _order(sup, -key, [tiebreak[r, sup] for r in range(tiebreak.shape[0])], account_ids, sup_bucket, nb)
    in_bucket = np.bincount(sup_bucket, minlength=nb)
    starts = np.concatenate(([0], np.cumsum(in_bucket)))
    return ordered, _keys_of(ordered, sup, key), starts


def _keys_of(accounts: IntArray, sup: IntArray, key: IntArray) -> IntArray:
    """The keys of ``accounts`` (a permutation of ``sup``, whose keys are ``key``)."""
    where = np.empty(int(sup.max(initial=-1)) + 1, dtype=np.int64)
    where[sup] = key
    return where[accounts]


def _select_disjoint(
    priority: FloatArray,
    tiebreak: FloatArray,
    account_ids: npt.NDArray[np.object_],
    code: npt.NDArray[np.uint16],
    present: IntArray,
    bucket_cap: IntArray,
    counts: IntArray,
) -> tuple[IntArray, IntArray, IntArray] | None:
    """Disjoint rules: every bucket's best ``capacity`` accounts, without touching most of the pool twice.

    The lowest sampled cut (:func:`_sampled_cuts`) keeps a superset of every bucket's best accounts. Keys
    are computed on that superset only, it is sorted once by (bucket, pool order) and each bucket takes
    its first ``capacity``. The result is exact or ``None``: it is kept only when, in every bucket, the
    superset holds at least ``capacity`` accounts and the last one taken has a fixed-point key above that
    of the cut, so no account left out could have tied with or beaten it. (The sample and the superset
    depend on row order; the result does not.) Returns ``(accounts, buckets, keys)`` like :func:`select`.
    """
    nb = bucket_cap.size
    threshold = _sampled_cuts(priority, code, present, bucket_cap, counts)
    floor = threshold[present].min()
    if not np.isfinite(floor):
        return None  # some bucket needs everything of its type: the general path is as fast
    bucket_of = np.full(1 << nb, -1, dtype=np.int64)
    cut = np.full(nb + 1, np.inf)  # per bucket; the last entry (bucket -1: none) keeps nothing
    for c in present.tolist():
        if c and bucket_cap[c.bit_length() - 1] > 0:
            bucket_of[c] = c.bit_length() - 1
            cut[c.bit_length() - 1] = threshold[c]
    # The lowest cut first (one cheap pass over the pool), then each bucket's own cut on what is left: the
    # buckets' cuts differ, and the superset to key and sort shrinks by a quarter.
    sup = np.flatnonzero(priority >= floor)
    sup_bucket = bucket_of[code[sup]]
    sup_priority = priority[sup]
    keep = sup_priority >= cut[sup_bucket]
    sup, sup_bucket, sup_priority = sup[keep], sup_bucket[keep], sup_priority[keep]
    ordered, key, starts = _by_bucket_then_pool_order(
        sup, sup_bucket, priority_key(sup_priority), tiebreak, account_ids, nb, priority.size
    )
    cap = np.where(bucket_of[1 << np.arange(nb)] >= 0, bucket_cap, 0)
    if (cap > np.diff(starts)).any():
        return None  # the margin was not enough: fewer candidates than slots
    last = starts[:-1] + cap - 1
    taking = cap > 0
    if (key[last[taking]] <= priority_key(cut[:nb][taking])).any():
        return None  # an account below its bucket's cut could tie with the last one taken
    # The first `capacity` of each bucket, as one index (buckets ascend, so the result is in bucket order).
    take = np.repeat(starts[:-1] - (np.cumsum(cap) - cap), cap) + np.arange(int(cap.sum()))
    return ordered[take], np.repeat(np.arange(nb, dtype=np.int64), cap), key[take]


def select(
    priority: FloatArray,
    tiebreak: FloatArray,
    account_ids: npt.NDArray[np.object_],
    eligible: BoolArray,
    bucket_cap: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """An optimal selection: ``(accounts, buckets, keys)``, sorted by bucket, then in pool order inside a
    bucket; ``keys`` are the accounts' fixed-point priorities (:func:`priority_key`), which dealing needs.

    Maximises the total fixed-point priority subject to eligibility and ``bucket_cap``. Inside a type,
    the best accounts go to the lowest-numbered buckets of that type's share (from one max-flow).

    Closed form when every account is eligible for at most one bucket (disjoint rules): each bucket
    takes its best ``capacity`` accounts, no max-flow (:func:`_select_disjoint`).
    """
    n, nb = eligible.shape
    empty = np.zeros(0, dtype=np.int64)
    if n == 0 or nb == 0:
        return empty, empty, empty
    if nb <= 16:
        code, code_counts = _codes(eligible, np.uint16)
        present = np.flatnonzero(code_counts[: 1 << nb])
        if all(int(c).bit_count() <= 1 for c in present):
            fast = _select_disjoint(priority, tiebreak, account_ids, code, present, bucket_cap, code_counts)
            if fast is not None:
                return fast
    key = priority_key(priority)
    types, masks = eligibility_types(eligible)
    nt = masks.shape[0]
    type_cap = masks.astype(np.int64) @ bucket_cap.astype(np.int64)

    # Cut every type to its best capacity(mask) accounts: the rest can never be taken.
    by_type = np.argsort(types, kind="stable")  # radix sort: types are uint16 when there are few
    bounds = np.concatenate(([0], np.cumsum(np.bincount(types, minlength=nt))))
    parts = [_best_k(by_type[bounds[t] : bounds[t + 1]], int(type_cap[t]), key, tiebreak, account_ids)
             for t in range(nt)]
    stream = order_subset(np.concatenate(parts), key, tiebreak, account_ids)
    if stream.size == 0:
        return empty, empty, empty
    stream_type = types[stream]
    size = stream.size
    in_stream = np.argsort(stream_type.astype(np.uint16) if nt < 65536 else stream_type, kind="stable")
    sbounds = np.concatenate(([0], np.cumsum(np.bincount(stream_type, minlength=nt))))
    positions = [in_stream[sbounds[t] : sbounds[t + 1]] for t in range(nt)]

    graph = _TypeGraph(masks, bucket_cap, big=size + 1)
    alive = type_cap > 0
    fixed = np.zeros(nt, dtype=np.int64)

    def counts(p: int) -> IntArray:
        x = fixed.copy()
        for t in np.flatnonzero(alive):
            x[t] = np.searchsorted(positions[t], p)
        return x

    cur = 0
    while True:
        if graph.feasible(counts(size)):
            final = counts(size)
            break
        lo, hi = cur, size  # invariant: prefix lo is feasible, prefix hi is not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if graph.feasible(counts(mid)):
                lo = mid
            else:
                hi = mid
        x = counts(lo)
        # Stream position lo is the first rejected account; retire every type that can no longer grow.
        dead = alive & ~graph.can_grow(x)
        if not dead[stream_type[lo]]:  # pragma: no cover - would mean the flow oracle is inconsistent
            raise AssertionError("selection: the rejected account's type can still grow")
        fixed[dead] = x[dead]
        alive &= ~dead
        cur = lo + 1

    share = graph.split(final)
    accounts = []
    buckets = []
    for t in range(nt):
        taken = positions[t][: final[t]]
        accounts.append(taken)
        buckets.append(np.repeat(np.arange(nb, dtype=np.int64), share[t]))
    # Mark each taken stream position with its bucket, then group by bucket keeping pool order (radix).
    bucket_at = np.full(size, -1, dtype=np.int64)
    bucket_at[np.concatenate(accounts)] = np.concatenate(buckets)
    taken_positions = np.flatnonzero(bucket_at >= 0)
    chosen = bucket_at[taken_positions]
    by_bucket = np.argsort(chosen.astype(np.uint16) if nb < 65536 else chosen, kind="stable")
    selected = stream[taken_positions[by_bucket]]
    return selected, chosen[by_bucket], key[selected]
