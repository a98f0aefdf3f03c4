"""The book-size calculator and the territory shrink (SPEC §7, §9 ``calc book-size``).

The book size
    A rep with ``A`` activities a day runs a cadence of ``D`` days, so has ``A × D`` touches per cadence.
    Working an account takes ``T`` touches on each of ``C`` contacts, ``T × C`` touches. The recommended
    target book size is the number of accounts those touches cover, rounded down:
    ``floor(A × D / (T × C))`` (50 activities/day × 10 days / (5 touches × 2 contacts) = 50 accounts).
    With a sales-cycle length ``S`` the book turns over ``S / D`` times per sales cycle, so a rep works
    through ``floor(book_size × S / D)`` accounts in one sales cycle.

The territory shrink
    In a static book nothing replaces a returned or retrieved account. If every week a fraction ``r`` of
    the workable accounts is returned and a fraction ``q`` retrieved (disjoint events), the workable supply
    after ``w`` weeks is ``book_size × (1 − r − q) ** w``: a geometric decay with half-life
    ``ln 2 / −ln(1 − r − q)`` weeks. A dynamic book refills to ``book_size`` instead.

Pure functions: no I/O, no clock. Bad input raises :class:`~dynbooks.domain.errors.InvalidInput` naming the
parameter.
"""

from __future__ import annotations

import math
from typing import Any

from dynbooks.domain.errors import InvalidInput

__all__ = ["book_size", "supply_half_life_weeks", "territory_shrink"]

_EPSILON = 1e-9
"""Keeps float noise from flooring a whole ratio one below (e.g. 0.3 × 10 / 0.3 = 9.999999999)."""


def book_size(
    activities_per_day: float,
    touches_per_contact: float,
    contacts_per_account: float,
    cadence_days: float,
    *,
    sales_cycle_days: float | None = None,
) -> dict[str, Any]:
    """The recommended target book size ``floor(A × D / (T × C))``, with the arithmetic shown.

    Returns ``{"book_size": n, "touches_per_cadence": A × D, "touches_per_account": T × C,
    "arithmetic": "…", "inputs": {…}}``; with ``sales_cycle_days`` also ``"cadences_per_sales_cycle"``
    (``S / D``) and ``"accounts_per_sales_cycle"`` (``floor(n × S / D)``), and the arithmetic says so.
    Every input must be a finite number greater than 0.
    """
    inputs: dict[str, float] = {
        "activities_per_day": activities_per_day,
        "touches_per_contact": touches_per_contact,
        "contacts_per_account": contacts_per_account,
        "cadence_days": cadence_days,
    }
    if sales_cycle_days is not None:
        inputs["sales_cycle_days"] = sales_cycle_days
    for name, value in inputs.items():
        _require_positive(name, value)

    touches_per_cadence = activities_per_day * cadence_days
    touches_per_account = touches_per_contact * contacts_per_account
    ratio = touches_per_cadence / touches_per_account
    size = math.floor(ratio + _EPSILON)
    division = f"{_number(touches_per_cadence)} / {_number(touches_per_account)} = {_floored(ratio, size)} accounts"
    arithmetic = (
        f"{_number(activities_per_day)} activities/day × {_number(cadence_days)} days = "
        f"{_number(touches_per_cadence)} touches; "
        f"{_number(touches_per_contact)} touches/contact × {_number(contacts_per_account)} contacts/account = "
        f"{_number(touches_per_account)} touches/account; {division}"
    )
    result: dict[str, Any] = {
        "book_size": size,
        "touches_per_cadence": _plain(touches_per_cadence),
        "touches_per_account": _plain(touches_per_account),
        "arithmetic": arithmetic,
        "inputs": {name: _plain(value) for name, value in inputs.items()},
    }
    if sales_cycle_days is not None:
        cadences = sales_cycle_days / cadence_days
        worked = math.floor(size * cadences + _EPSILON)
        result["cadences_per_sales_cycle"] = round(cadences, 4)
        result["accounts_per_sales_cycle"] = worked
        result["arithmetic"] += (
            f"; {_number(sales_cycle_days)}-day sales cycle / {_number(cadence_days)}-day cadence = "
            f"{_number(cadences)} cadences; {size} × {_number(cadences)} = {_floored(size * cadences, worked)} "
            "accounts per sales cycle"
        )
    return result


def territory_shrink(
    book_size: float, return_rate_per_week: float, retrieval_rate_per_week: float, weeks: int
) -> list[float]:
    """The workable supply of an unreplenished book at the start of weeks ``0 .. weeks``.

    ``supply[w] = book_size × (1 − return_rate − retrieval_rate) ** w``, rounded to 2 decimals, so the list
    has ``weeks + 1`` entries and starts at ``book_size``. Rates are fractions of the workable accounts per
    week, each in [0, 1], together at most 1; ``book_size`` > 0; ``weeks`` a whole number >= 0.
    """
    _require_positive("book_size", book_size)
    _require_rates(return_rate_per_week, retrieval_rate_per_week)
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 0:
        raise InvalidInput(f"weeks must be a whole number >= 0, got {weeks!r}", ["weeks"])
    keep = 1.0 - return_rate_per_week - retrieval_rate_per_week
    return [round(book_size * keep**w, 2) for w in range(weeks + 1)]


def supply_half_life_weeks(return_rate_per_week: float, retrieval_rate_per_week: float) -> float:
    """Weeks until an unreplenished book's workable supply halves: ``ln 2 / −ln(1 − r − q)``.

    ``math.inf`` when nothing leaves the book, 0 when everything leaves in the first week.
    """
    _require_rates(return_rate_per_week, retrieval_rate_per_week)
    keep = 1.0 - return_rate_per_week - retrieval_rate_per_week
    if keep >= 1.0:
        return math.inf
    if keep <= 0.0:
        return 0.0
    return math.log(2) / -math.log(keep)


def _require_positive(name: str, value: float) -> None:
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise InvalidInput(f"{name} must be a number greater than 0, got {value!r}", [name])


def _require_rates(return_rate: float, retrieval_rate: float) -> None:
    for name, value in (("return_rate_per_week", return_rate), ("retrieval_rate_per_week", retrieval_rate)):
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            raise InvalidInput(f"{name} must be a fraction from 0 to 1, got {value!r}", [name])
    if return_rate + retrieval_rate > 1.0 + _EPSILON:
        raise InvalidInput(
            f"return_rate_per_week + retrieval_rate_per_week must be at most 1, got {return_rate + retrieval_rate:g}",
            ["return_rate_per_week", "retrieval_rate_per_week"],
        )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _floored(value: float, whole: int) -> str:
    """``"50"`` when ``value`` is whole, else ``"41.67, rounded down to 41"``."""
    if math.isclose(value, whole, abs_tol=_EPSILON):
        return str(whole)
    return f"{_number(value, 4 if value - whole > 0.995 else 2)}, rounded down to {whole}"


def _plain(value: float) -> float | int:
    """Whole floats as ints, so JSON shows ``500`` rather than ``500.0``."""
    return int(value) if float(value).is_integer() else value


def _number(value: float, decimals: int = 2) -> str:
    """A number as a person writes it: ``500``, ``2.5``, ``41.67`` (at most ``decimals`` decimals)."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
