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

__all__ = ["run_scheduled_cycle", "send_scheduled", "start_scheduler", "trigger_for"]

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


def send_scheduled(state: AppState, which: str) -> dict[str, Any] | None:
    """Reps' ``digests`` or managers' ``summaries`` through the configured channels; failures are logged."""
    from dynbooks.notify import senders_for
    from dynbooks.services import notify

    senders = senders_for(state.config.notifications)
    if not senders:
        log.warning("no %s sent: no notification channel is configured", which)
        return None
    try:
        ctx = state.context("scheduler")
        messages = notify.rep_digests(ctx) if which == "digests" else notify.manager_summaries(ctx)
        result = notify.deliver(messages, senders)
    except DynbooksError as exc:
        log.warning("%s not sent: %s", which, exc.message)
        return None
    log.info("%s: %d messages, sent %s, %d failed", which, result["messages"], result["sent"], len(result["failed"]))
    for failure in result["failed"]:
        log.warning("%s", failure)
    return result


def start_scheduler(state: AppState) -> BackgroundScheduler | None:
    """Start the jobs the config's ``[schedule]`` names (cycles, digests, summaries); ``None`` when none."""
    schedule = state.config.schedule
    jobs: list[tuple[str, str, Any, list[Any]]] = [
        (name, cron, func, args) for name, cron, func, args in (
            ("cycle", schedule.cycle_cron, run_scheduled_cycle, [state]),
            ("digests", schedule.digest_cron, send_scheduled, [state, "digests"]),
            ("summaries", schedule.summary_cron, send_scheduled, [state, "summaries"]),
        ) if cron is not None
    ]
    if not jobs:
        return None
    scheduler = BackgroundScheduler(timezone=schedule.timezone)
    for name, cron, func, args in jobs:
        scheduler.add_job(func, trigger_for(cron, schedule.timezone), args=args, id=name, max_instances=1,
                          coalesce=True, misfire_grace_time=3600)
    scheduler.start()
    for name, cron, _, _ in jobs:
        job = scheduler.get_job(name)
        log.info("%s scheduled %r (%s); next at %s", name, cron, schedule.timezone, job.next_run_time if job else "?")
    return scheduler
