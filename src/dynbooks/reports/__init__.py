"""Read models managers act on: balance, returns, coverage, audit, productivity, flow (SPEC §6, §9).

Each report is a function ``(conn, config, now, filters) -> Report``, computed set-based: SQL aggregates
(GROUP BY) and narrow columns in numpy arrays, never a Python object or a query per account. The CLI
prints them as tables, JSON or CSV; the web app reads the same objects.
"""

from __future__ import annotations

import functools
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



def _tuned(report: ReportFunction) -> ReportFunction:
    """On PostgreSQL, for the report's transaction only: no JIT (compiling a report's expressions took
    ~1 s of its 3.5 s at 5M accounts; each query runs once). More ``work_mem`` was tried and left out:
    it made the planner hash-join all 5M accounts to the owned rows instead of probing them (slower)."""

    @functools.wraps(report)
    def run(conn: Connection, config: Config, now: Now, filters: ReportFilters) -> Report:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL jit = off")
        return report(conn, config, now, filters)

    return run


REPORTS: dict[str, ReportFunction] = {
    name: _tuned(report) for name, report in (
        ("balance", balance), ("returns", returns), ("coverage", coverage), ("audit", audit),
        ("productivity", productivity), ("flow", flow),
    )
}
