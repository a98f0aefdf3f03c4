"""Retrieval: when an owned account counts as not worked (SPEC §5, §10 Retrieval and Time).

"Not worked for N days" means ``day − date(max(assigned, last meaningful activity by the owner,
unavailable_until)) ≥ N``: the clock starts at the later of the assignment and the owner's last
meaningful activity, and it does not run while the owner is away (``unavailable_until``).
The functions take whole day numbers (see :func:`dynbooks.domain.clock.day_number`) so that the cycle
evaluates a whole rule at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["idle_days", "retrieval_due", "warn_due"]

I64 = npt.NDArray[np.int64]


def idle_days(worked_day: I64, unavailable_until_day: I64, day: int) -> I64:
    """Days the account has not been worked; ``unavailable_until_day`` is -1 where the owner is not away."""
    return np.asarray(day - np.maximum(worked_day, unavailable_until_day), dtype=np.int64)


def retrieval_due(worked_day: I64, unavailable_until_day: I64, day: int, after_days: int) -> npt.NDArray[np.bool_]:
    return np.asarray(idle_days(worked_day, unavailable_until_day, day) >= after_days, dtype=np.bool_)


def warn_due(
    worked_day: I64, unavailable_until_day: I64, day: int, after_days: int, warn_days: int
) -> npt.NDArray[np.bool_]:
    """Accounts that will be retrieved within ``warn_days`` (and are not due yet): flagged in the rep's book."""
    left = after_days - idle_days(worked_day, unavailable_until_day, day)
    return np.asarray((left > 0) & (left <= warn_days), dtype=np.bool_)
