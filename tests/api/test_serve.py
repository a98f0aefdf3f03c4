"""``dynbooks serve``'s parts: the scheduled cycle, settings that refuse placeholder secrets, the real server."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from dynbooks.api.deps import AppState
from dynbooks.domain.errors import InvalidInput
from dynbooks.schedule import run_scheduled_cycle, start_scheduler, trigger_for
from dynbooks.settings import Settings
from dynbooks.store.db import connect, write
from tests.api.world import build_org


def test_production_refuses_a_missing_or_placeholder_secret_and_development_makes_one() -> None:
    for key in (None, "changeme", "short"):
        with pytest.raises(InvalidInput, match="DYNBOOKS_SECRET_KEY"):
            Settings(secret_key=key, environment="production").checked()
    assert len(Settings(secret_key=None).checked().secret_key or "") >= 32
    assert Settings(secret_key="x" * 40, environment="production").checked().secret_key == "x" * 40


def test_a_bad_cron_is_refused_naming_the_key() -> None:
    with pytest.raises(InvalidInput, match="cycle_cron"):
        trigger_for("61 6 * * *", "UTC")


def test_the_scheduler_runs_a_cycle_on_the_cron_and_a_held_lock_is_logged_not_raised(
        db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    org = build_org(db_url, tmp_path)
    config = org.world.config.model_copy(update={"schedule": org.world.config.schedule.model_copy(
        update={"cycle_cron": "0 6 * * 1-5"})})
    state = AppState(settings=org.settings, engine=org.world.engine, config=config)
    scheduler = start_scheduler(state)
    assert scheduler is not None
    try:
        job = scheduler.get_job("cycle")
        assert job is not None and job.next_run_time.hour == 6 and job.next_run_time.weekday() < 5
    finally:
        scheduler.shutdown(wait=False)
    summary = run_scheduled_cycle(state)
    assert summary is not None and summary["dry_run"] is False
    assert start_scheduler(AppState(settings=org.settings, engine=org.world.engine, config=org.world.config)) is None
    if org.world.engine.dialect.name == "sqlite":
        with write(org.world.engine):  # another writer holds SQLite's write lock
            quick = AppState(settings=replace(org.settings, wait=0.2), engine=connect(org.settings.db, wait=0.2),
                             config=config)
            assert run_scheduled_cycle(quick) is None
        assert "scheduled cycle not run" in caplog.text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dynbooks_serve_answers_health_and_the_login_page(tmp_path: Path) -> None:
    org = build_org(f"sqlite:///{tmp_path / 'serve.db'}", tmp_path)
    exe = shutil.which("dynbooks", path=str(Path(sys.executable).parent))
    base = [exe] if exe else [sys.executable, "-m", "dynbooks"]
    port = free_port()
    proc = subprocess.Popen([*base, "serve", "--port", str(port), "--no-schedule", "--db", org.settings.db,
                             "--config", str(org.settings.config), "--as-of", "2026-03-02"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = None
        deadline = time.monotonic() + 60  # a loaded CI machine starts Python slowly
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.1)
        assert body is not None and body["status"] == "ok", proc.stdout.read() if proc.poll() is not None else ""
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
            assert "Sign in" in r.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
