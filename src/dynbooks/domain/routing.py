"""Routing one account at once (hand-raises, hand-offs): who gets it, and what a full book gives up.

SPEC §4 and §10 Hand-raises. Pure: the service passes in the reps, their rotation history and the
candidate accounts with their priorities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["round_robin", "swap_victim"]


def round_robin(rep_ids: Sequence[str], last_routed: Mapping[str, int]) -> list[str]:
    """The order to offer an account in: the rep whose last account routed this way is the oldest
    (``last_routed`` holds the event sequence number; never routed goes first), then by rep id."""
    return sorted(rep_ids, key=lambda r: (last_routed.get(r, -1), r))


def swap_victim(account_ids: Sequence[str], priorities: Sequence[float]) -> str | None:
    """Under ``when_full = "swap"``: the account a full book gives up, the last in pool order among
    those with no meaningful activity since assignment — lowest priority (as fixed point), and among
    equals the highest account id. None when there is no such account."""
    if not account_ids:
        return None
    ranked = sorted(zip(account_ids, priorities, strict=True), key=lambda x: x[0], reverse=True)
    ranked.sort(key=lambda x: round(float(x[1]) * 1e6))
    return ranked[0][0]
