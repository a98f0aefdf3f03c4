"""Capacity: target size × ramp factor (SPEC §4, §10 Reps)."""

from __future__ import annotations

import math
from datetime import date

from dynbooks.domain.rules import BookRule

__all__ = ["months_since", "ramp_factor", "segment_capacity"]


def months_since(start: date, day: date) -> int:
    """Whole months from ``start`` to ``day`` (negative when the start is in the future)."""
    months = (day.year - start.year) * 12 + (day.month - start.month)
    if day.day < start.day:
        months -= 1
    return months


def ramp_factor(rule: BookRule, start: date | None, day: date) -> float:
    """The ramp factor for a rep: by whole months since start, the last factor after that; 0 before the start."""
    if start is None:
        return rule.ramp[-1]
    months = months_since(start, day)
    if start > day:
        return 0.0
    return rule.ramp[min(months, len(rule.ramp) - 1)]


def segment_capacity(rule: BookRule, start: date | None, day: date) -> dict[str | None, int]:
    """Total capacity per segment (``None`` = the remainder): floor(size × ramp factor) each."""
    factor = ramp_factor(rule, start, day)
    # A tiny epsilon keeps 0.7 × 100 = 70, not 69.99999 -> 69.
    return {name: math.floor(size * factor + 1e-9) for name, size in rule.segment_sizes().items()}
