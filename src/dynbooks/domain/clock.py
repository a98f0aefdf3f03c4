"""The injected "now" (SPEC §10 Time): nothing in dynbooks reads the wall clock below the edges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["Now", "day_number"]


@dataclass(frozen=True)
class Now:
    """When a command runs.

    ``day`` is the as-of date that every day count uses; ``stamp`` is written on events; ``horizon`` is
    the instant up to which facts have happened. ``--as-of 2026-01-05`` means the end of that day: every
    fact stamped that day has happened, and events are stamped that day at 00:00 UTC.
    """

    day: date
    stamp: datetime
    horizon: datetime

    @classmethod
    def of_date(cls, day: date) -> Now:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        return cls(day=day, stamp=start, horizon=start + timedelta(days=1) - timedelta(microseconds=1))

    @classmethod
    def of_datetime(cls, moment: datetime) -> Now:
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return cls(day=moment.date(), stamp=moment, horizon=moment)

    @classmethod
    def parse(cls, text: str) -> Now:
        """An ISO date or datetime; raises ValueError with the reason."""
        text = text.strip()
        try:
            if len(text) == 10:
                return cls.of_date(date.fromisoformat(text))
            return cls.of_datetime(datetime.fromisoformat(text))
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO date or datetime (e.g. 2026-03-02)") from None


_EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    """Whole days since 1970-01-01: day counts are differences of these (calendar days, SPEC §10)."""
    return (day - _EPOCH).days
