"""Scheduled cycles for ``dynbooks serve`` (APScheduler 3): ``[schedule] cycle_cron`` in ``dynbooks.toml``.

The scheduler only decides *when*. That one cycle runs at a time is guaranteed by the database (the cycle
lock every cycle takes), not by this process: several servers on one database may all fire, and each
cycle then runs after the other, or gives up after ``--wait`` seconds with a logged refusal.
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from dynbooks.api.deps import AppState
from dynbooks.domain.errors import DynbooksError, InvalidInput
from dynbooks.services.cycle import run_cycle

__all__ = ["run_scheduled_cycle", "start_scheduler", "trigger_for"]

log = logging.getLogger("dynbooks.schedule")


def trigger_for(cron: str, timezone: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(cron, timezone=timezone)
    except (ValueError, LookupError) as exc:
        raise InvalidInput(f"[schedule] cycle_cron {cron!r}: {exc}") from None


def run_scheduled_cycle(state: AppState) -> dict[str, Any] | None:
    """One cycle as the scheduler runs it; a refusal (another cycle holds the lock) is logged, not raised."""
    try:
        summary = run_cycle(state.context("scheduler")).summary()
    except DynbooksError as exc:
        log.warning("scheduled cycle not run: %s", exc.message)
        return None
    log.info("scheduled cycle %s: released %d, retrieved %d, distributed %d", summary["cycle_id"],
             summary["released"], summary["retrieved"], summary["distributed"])
    return summary


def start_scheduler(state: AppState) -> BackgroundScheduler | None:
    """Start the cycle job if the config has a ``cycle_cron``; ``None`` when there is nothing to schedule."""
    schedule = state.config.schedule
    if schedule.cycle_cron is None:
        return None
    scheduler = BackgroundScheduler(timezone=schedule.timezone)
    scheduler.add_job(run_scheduled_cycle, trigger_for(schedule.cycle_cron, schedule.timezone), args=[state],
                      id="cycle", max_instances=1, coalesce=True, misfire_grace_time=3600)
    scheduler.start()
    job = scheduler.get_job("cycle")
    log.info("cycles scheduled %r (%s); next at %s", schedule.cycle_cron, schedule.timezone,
             job.next_run_time if job else "?")
    return scheduler
