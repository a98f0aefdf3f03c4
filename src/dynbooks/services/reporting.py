"""Use case: compute a report (SPEC §6). The audit also previews what a first cycle would change."""

from __future__ import annotations

from dynbooks.domain.errors import UsageError
from dynbooks.reports import REPORTS, Report, ReportFilters
from dynbooks.services.context import Context
from dynbooks.services.cycle import run_cycle

__all__ = ["run_report"]


def run_report(ctx: Context, name: str, filters: ReportFilters) -> Report:
    if name not in REPORTS:
        raise UsageError(f"unknown report {name!r}; use one of {', '.join(REPORTS)}")
    with ctx.reading() as conn:
        report = REPORTS[name](conn, ctx.config, ctx.now, filters)
    if name == "audit":
        # The seeds' first step ends with "what would change": a dry-run cycle, rolled back.
        preview = run_cycle(ctx, dry_run=True)
        moved: dict[str, int] = {}
        for a in preview.distributed:
            moved[a.rep_id] = moved.get(a.rep_id, 0) + 1
        report.extra["first_cycle"] = preview.summary() | {"distributed_per_rep": dict(sorted(moved.items()))}
    return report
