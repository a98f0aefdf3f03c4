"""Priority: fit plus decaying timing signals, and the sort-key fallback (SPEC §4, §10 Priority)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["GET_BACK_TO_ME_STRENGTH", "priorities", "tiebreak_keys"]

F64 = npt.NDArray[np.float64]

GET_BACK_TO_ME_STRENGTH = 10.0
"""The timing boost an account gets on the day its ``get_back_to_me`` rest ends."""


def priorities(
    fit_score: F64,
    signal_account: npt.NDArray[np.int64],
    signal_strength: F64,
    signal_age_days: npt.NDArray[np.int64],
    half_life_days: float,
) -> F64:
    """``priority = fit_score + Σ strength × 0.5^(age_days / half_life)`` per account.

    ``fit_score`` is NaN where missing (counts as 0). The signal arrays hold only *live* signals (not
    expired, not in the future: the caller selects them against the clock); ``signal_account`` indexes
    into ``fit_score``. Ages are whole calendar days.
    """
    base = np.nan_to_num(fit_score, nan=0.0)
    if len(signal_account) == 0:
        return base
    decayed = signal_strength * np.power(0.5, signal_age_days / half_life_days)
    return base + np.bincount(signal_account, weights=decayed, minlength=len(base))


def tiebreak_keys(sort_keys: Sequence[str], columns: Mapping[str, np.ndarray], n: int) -> F64:
    """The ``[scoring] sort_keys`` as a (k, n) array where smaller sorts first.

    ``-field`` is descending. A missing value sorts after every present one. Text fields sort by their
    text order (ranked with ``np.unique``, which sorts).
    """
    rows: list[F64] = []
    for key in sort_keys:
        descending = key.startswith("-")
        values = columns.get(key.removeprefix("-"))
        if values is None:
            continue
        if values.dtype.kind in "fiub":
            num = values.astype(np.float64)
        else:
            present = np.array([v is not None for v in values], dtype=bool)
            num = np.full(n, np.nan)
            if present.any():
                texts = np.array([str(v) for v in values[present]], dtype=object)
                _, rank = np.unique(texts, return_inverse=True)
                num[present] = rank
        key_row = -num if descending else num
        rows.append(np.where(np.isnan(key_row), np.inf, key_row))
    if not rows:
        return np.zeros((0, n))
    return np.vstack(rows)
