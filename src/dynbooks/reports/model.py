"""What every report is: a name, an as-of date, a table (columns and rows) and a few extra top-level keys.

The CLI prints the table, ``--json`` prints :meth:`Report.to_json` (SPEC §9 "Reports with --json"),
``--format csv`` calls :meth:`Report.write_csv`; the web app reads the same object.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TextIO

import numpy as np

__all__ = ["FORMULA_PREFIXES", "Report", "ReportFilters", "jsonable"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A CSV cell starting with one of these is read as a formula by spreadsheets: it is written with a leading '."""


@dataclass(frozen=True)
class ReportFilters:
    """The report options of the CLI. ``since``/``until`` are inclusive dates; ``by`` buckets periods."""

    rule: str | None = None
    team: str | None = None
    manager: str | None = None
    rep: str | None = None
    since: date | None = None
    until: date | None = None
    by: Literal["week", "month"] = "week"


@dataclass
class Report:
    name: str
    as_of: date
    columns: list[str]
    rows: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"report", "as_of", "rows", **extra}`` with JSON-safe values (dates as ISO text, NaN as null)."""
        doc: dict[str, Any] = {"report": self.name, "as_of": self.as_of.isoformat(), "rows": self.rows, **self.extra}
        return dict(jsonable(doc))

    def write_csv(self, out: TextIO) -> None:
        """The rows under a header of ``columns``; nested values as JSON; formula-like text escaped with '."""
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([_cell(c) for c in self.columns])
        for row in self.rows:
            writer.writerow([_cell(jsonable(row.get(c))) for c in self.columns])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, dates and NaN made JSON-safe (recursively)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
