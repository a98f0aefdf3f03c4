"""Dealing inside a bucket: a capacity-proportional snake (SPEC §4, objective 3).

The pick sequence
    Every rep ``i`` with free capacity ``c_i > 0`` in the bucket owns ``c_i`` slots; its pick ``t``
    (``t = 0 .. c_i - 1``) has the key ``t / c_i``. Slots are sorted by key. Among equal keys a rep on an
    even pick ``t`` goes in base order and a rep on an odd pick in reversed base order (then base order
    decides what is left), so with equal capacities every round ties and the sequence is exactly a snake
    draft: A B B A A B ... The base order of reps is by rep id ascending, never by input row order.

    Slot ``k`` gets the ``k``-th best selected account of the bucket. With fewer accounts than slots the
    first slots win (a snake with drop-out).

Why ``t / c_i`` and not ``(t + 1/2) / c_i``
    This is the weighted picking sequence of Chakraborty, Igarashi, Suksompong and Zick (2020). With
    common values (the priority) and ``t / c_i`` keys, for any prefix of the sequence,
    ``(picks_j - 1) / c_j <= picks_i / c_i``, so every deal (and every truncation of it) is
    weighted-EF1: ``v_i / c_i >= (v_j - max item of j) / c_j``. Sainte-Laguë keys ``(t + 1/2) / c_i`` are
    slightly more even on average but break weighted-EF1 when capacities differ by 4x or more (rep j
    with ``c_j = 4`` picks twice before rep i with ``c_i = 1`` picks once).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["pick_sequence"]

IntArray = npt.NDArray[np.int64]


def pick_sequence(capacity: IntArray, base_position: IntArray) -> tuple[IntArray, IntArray]:
    """The slots of one bucket in dealing order: ``(rep, t)`` with ``t`` 0-based.

    ``capacity[i]`` is rep ``i``'s free slots in the bucket, ``base_position[i]`` its place in the base
    order (its rank by rep id). Reps with no capacity own no slot.
    """
    cap = np.asarray(capacity, dtype=np.int64)
    reps = np.flatnonzero(cap > 0)
    if reps.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    reps = reps[np.argsort(base_position[reps], kind="stable")]
    c = cap[reps]
    pos = np.arange(reps.size, dtype=np.int64)
    rep = np.repeat(reps, c)
    slot_pos = np.repeat(pos, c)
    firsts = np.cumsum(c) - c
    t = np.arange(rep.size, dtype=np.int64) - np.repeat(firsts, c)
    # Correctly rounded division makes equal fractions equal floats (and unequal ones unequal for any
    # realistic capacity), so float keys tie exactly when the rational keys do.
    key = t / np.repeat(c, c)
    direction = np.where(t % 2 == 0, slot_pos, reps.size - 1 - slot_pos)
    order = np.lexsort((slot_pos, direction, key))
    return rep[order], t[order]
