"""Periods and windows: ISO weeks (``2026-W02``) or calendar months (``2026-01``).

Bucketing happens here, in Python over per-day counts that SQL has already aggregated, because SQLite
and PostgreSQL name their date functions differently; ``date(x)`` is the one both share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, String, case, cast, func, literal_column

from dynbooks.domain.clock import Now
from dynbooks.reports.model import ReportFilters

__all__ = ["DEFAULT_PERIODS", "Window", "day_of", "day_sql", "period_label", "period_start", "window"]

Per = Literal["week", "month"]

DEFAULT_PERIODS = 12
"""Without ``--since``, a report over time covers the as-of period and the 11 before it."""


def period_start(day: date, by: Per) -> date:
    """The Monday of the ISO week, or the first of the month, that holds ``day``."""
    return day - timedelta(days=day.weekday()) if by == "week" else day.replace(day=1)


def period_label(day: date, by: Per) -> str:
    """``2026-W02`` (ISO year and week) or ``2026-01``."""
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def _previous_start(start: date, by: Per) -> date:
    if by == "week":
        return start - timedelta(days=7)
    return (start - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class Window:
    """Inclusive dates ``since``..``until`` and the SQL bounds ``start <= at < end`` (never past the horizon)."""

    since: date
    until: date
    start: datetime
    end: datetime
    by: Per

    def periods(self) -> list[str]:
        """Every period label from ``since`` to ``until``, in order."""
        return [period_label(day, self.by) for day in self.starts()]

    def starts(self) -> list[date]:
        """The first day of every period from ``since`` to ``until``, in order."""
        starts: list[date] = []
        day = period_start(self.since, self.by)
        while day <= self.until:
            starts.append(day)
            day = day + timedelta(days=7) if self.by == "week" else (day + timedelta(days=32)).replace(day=1)
        return starts

    def index_sql(self, column: Any) -> ColumnElement[Any]:
        """Which period of :meth:`periods` a DATETIME inside the window falls in (0-based), in portable SQL:
        a comparison with each period's first instant, so the database counts per period, not per day."""
        starts = self.starts()
        if len(starts) <= 1:
            return literal_column("0")
        return case(
            *((column < datetime.combine(day, time(0)), i) for i, day in enumerate(starts[1:])),
            else_=len(starts) - 1,
        )


def window(filters: ReportFilters, now: Now) -> Window:
    """The report's window: ``--since``/``--until`` or, by default, the last 12 periods up to the as-of date."""
    until = min(filters.until or now.day, now.day)
    if filters.since is not None:
        since = filters.since
    else:
        since = period_start(until, filters.by)
        for _ in range(DEFAULT_PERIODS - 1):
            since = _previous_start(since, filters.by)
    horizon = now.horizon.replace(tzinfo=None)
    end = min(datetime.combine(until + timedelta(days=1), time(0)), horizon + timedelta(microseconds=1))
    return Window(since=since, until=until, start=datetime.combine(since, time(0)), end=end, by=filters.by)


def day_sql(column: Any) -> ColumnElement[Any]:
    """The calendar day of a DATETIME column as ISO text ``YYYY-MM-DD``, in SQL both databases understand.

    Text, not a date: numpy parses a column of ISO text into ``datetime64[D]`` many times faster than it
    converts Python dates.
    """
    return cast(func.date(column), String)


def day_of(value: Any) -> date:
    """A value of :func:`day_sql` as a date (SQLite answers text, PostgreSQL a date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def bucket(days: Iterable[tuple[Any, int]], by: Per) -> dict[str, int]:
    """Sum ``(day, count)`` pairs into period labels."""
    out: dict[str, int] = {}
    for day, count in days:
        label = period_label(day_of(day), by)
        out[label] = out.get(label, 0) + int(count)
    return out
