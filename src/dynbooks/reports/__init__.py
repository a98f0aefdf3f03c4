"""Read models managers act on: balance, returns, coverage, audit, productivity, flow (SPEC §6, §9).

Each report is a function ``(conn, config, now, filters) -> Report``, computed set-based: SQL aggregates
(GROUP BY) and narrow columns in numpy arrays, never a Python object or a query per account. The CLI
prints them as tables, JSON or CSV; the web app reads the same objects.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.reports.audit import audit
from dynbooks.reports.balance import balance
from dynbooks.reports.charts import chart
from dynbooks.reports.coverage import coverage
from dynbooks.reports.flow import flow
from dynbooks.reports.model import Report, ReportFilters
from dynbooks.reports.productivity import productivity
from dynbooks.reports.returns import returns

__all__ = ["REPORTS", "Report", "ReportFilters", "ReportFunction", "chart"]

ReportFunction = Callable[[Connection, Config, Now, ReportFilters], Report]

REPORTS: dict[str, ReportFunction] = {
    "balance": balance,
    "returns": returns,
    "coverage": coverage,
    "audit": audit,
    "productivity": productivity,
    "flow": flow,
}
