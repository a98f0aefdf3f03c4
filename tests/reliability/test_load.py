"""A bounded load test on loopback against a real ``dynbooks serve`` (``make reliability`` only: it is timed).

The world: 3,000 accounts and 12 SDRs (book target 200), dealt once; the server runs 31 days later, so
a cycle has 2,400 retrievals and as many distributions to do. ``THREADS`` client threads send, for
``SECONDS`` seconds, a seeded mix: a rep reads their book (40 %), a rep opens an account of it (25 %),
a rep returns an account of it (15 %), the CRM posts a signed activity webhook with an Idempotency-Key
(20 %); an admin starts the cycle after ``CYCLE_AFTER`` seconds, while the load goes on.

Measured per kind: requests answered, median and p99 latency; errors (a 5xx answer, a refused
connection, a timeout): the target is 0. Answers a user can cause under races (404 for an account the
cycle just moved, 409 refused by a rule) are counted apart. The invariants must hold afterwards.
The figures are printed (``pytest -s``) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import platform
import random
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from dynbooks.services.auth import add_user, create_token
from dynbooks.services.cycle import run_cycle
from dynbooks.store.schema import activities
from tests.api.world import PASSWORD
from tests.integration.helpers import World
from tests.reliability.invariants import violations
from tests.reliability.server import serving

# Timed: collected only with DYNBOOKS_RELIABILITY=1 (make reliability; see conftest.collect_ignore).

THREADS = int(os.environ.get("DYNBOOKS_LOAD_THREADS", "16"))
SECONDS = float(os.environ.get("DYNBOOKS_LOAD_SECONDS", "60"))
CYCLE_AFTER = 10.0
ACCOUNTS, REPS = 3000, 12
SECRET = "l" * 40
DAY = date(2026, 3, 2)
LATER = DAY + timedelta(days=31)
TOML = """
[enrollment]
filter = { is_customer = false }

[[book_rule]]
name = "sdr"
role = "sdr"
target_size = 200
retrieve_after_days = 30
rest_days = 60
cooldown_days = 90
filter = {}
"""
MIX = [("book", 40), ("account", 25), ("return", 15), ("webhook", 20)]


def build(url: str, folder: Path) -> tuple[World, dict[str, str], str, Path]:
    world = World(url, folder, TOML, DAY)
    world.load("reps", "rep_id,name,book_rule,team,manager",
               [f"R{i:02d},Rep {i},sdr,team-{i % 3},Boss {i % 3}" for i in range(REPS)])
    world.load("accounts", "account_id,name,employees,fit_score,industry,country",
               [f"A{i:05d},Company {i},{50 + i % 900},{(i * 37) % 100},Software,US" for i in range(ACCOUNTS)])
    run_cycle(world.ctx())
    tokens = {}
    for i in range(REPS):
        email = f"r{i:02d}@example.com"
        add_user(world.ctx(), email, PASSWORD, "rep", rep_id=f"R{i:02d}")
        tokens[f"R{i:02d}"] = create_token(world.ctx(), email)["token"]
    add_user(world.ctx(), "admin@example.com", PASSWORD, "admin")
    admin = create_token(world.ctx(), "admin@example.com")["token"]
    config = folder / "dynbooks.toml"
    config.write_text(TOML, encoding="utf-8")
    return world, tokens, admin, config


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: list[str] = []
        self.accepted: list[str] = []  # activity ids of accepted (200) or queued (202) webhooks

    def add(self, kind: str, seconds: float, status: int | None, detail: str = "") -> None:
        with self.lock:
            if status is None or status >= 500:
                self.errors.append(f"{kind}: {status} {detail[:200]}")
            else:
                self.latency[kind].append(seconds)
            self.status[kind][status or 0] += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def worker(n: int, base: str, tokens: dict[str, str], admin: str, stop: float, tally: Tally) -> None:
    rng = random.Random(n)
    kinds, weights = zip(*MIX, strict=True)
    with httpx.Client(base_url=base, timeout=120) as client:
        seq = 0
        while time.monotonic() < stop:
            kind = rng.choices(kinds, weights)[0]
            rep = f"R{rng.randrange(REPS):02d}"
            auth = {"Authorization": f"Bearer {tokens[rep]}"}
            seq += 1
            started = time.monotonic()
            try:
                if kind == "webhook":
                    row = {"activity_id": f"load-{n}-{seq}", "account_id": f"A{rng.randrange(ACCOUNTS):05d}",
                           "rep_id": rep, "type": "call", "occurred_at": LATER.isoformat()}
                    body = json.dumps([row]).encode()
                    at = str(int(time.time()))
                    mac = hmac.new(SECRET.encode(), at.encode() + b"." + body, hashlib.sha256).hexdigest()
                    answer = client.post("/api/webhooks/activities", content=body, headers={
                        "Authorization": f"Bearer {admin}", "Content-Type": "application/json",
                        "X-Dynbooks-Timestamp": at, "X-Dynbooks-Signature": f"sha256={mac}",
                        "Idempotency-Key": f"load-{n}-{seq}"})
                elif kind == "book":
                    answer = client.get(f"/api/books/{rep}", headers=auth)
                else:
                    book = client.get(f"/api/books/{rep}", headers=auth)
                    mine = book.json().get("accounts", []) if book.status_code == 200 else []
                    if not mine:
                        continue
                    account = rng.choice(mine)["account_id"]
                    started = time.monotonic()  # the book read is not part of this request's time
                    if kind == "account":
                        answer = client.get(f"/api/accounts/{account}", headers=auth)
                    else:
                        answer = client.post(f"/api/accounts/{account}/return", headers=auth,
                                             json={"reason": "no_relevant_contact"})
                tally.add(kind, time.monotonic() - started, answer.status_code, answer.text)
                if kind == "webhook" and answer.status_code in (200, 202):
                    with tally.lock:
                        tally.accepted.append(row["activity_id"])
            except httpx.HTTPError as exc:
                tally.add(kind, time.monotonic() - started, None, repr(exc))


def test_reads_returns_and_webhooks_under_load_while_a_cycle_runs(db_url: str, tmp_path: Path) -> None:
    world, tokens, admin, config = build(db_url, tmp_path)
    tally = Tally()
    cycle: dict[str, Any] = {}
    with serving(db_url, config, LATER.isoformat(), tmp_path, webhook_secret=SECRET) as bases:
        start = time.monotonic()
        stop = start + SECONDS
        threads = [threading.Thread(target=worker, args=(n, bases[0], tokens, admin, stop, tally))
                   for n in range(THREADS)]
        for t in threads:
            t.start()
        time.sleep(CYCLE_AFTER)
        with httpx.Client(base_url=bases[0], timeout=600) as client:
            t0 = time.monotonic()
            answer = client.post("/api/cycles", json={"dry_run": False}, headers={"Authorization": f"Bearer {admin}"})
            cycle = {"status": answer.status_code, "seconds": round(time.monotonic() - t0, 2), "summary": {}}
            try:
                cycle["summary"] = {k: v for k, v in answer.json().items() if k != "changes"}
            except ValueError:
                cycle["answer"] = f"{len(answer.content)} bytes: {answer.text[:300]!r}"
        for t in threads:
            t.join()
        wall = time.monotonic() - start
        # every accepted or queued delivery lands (a queued one once the cycle has let go of the lock)
        deadline = time.monotonic() + 60
        while True:
            with world.engine.connect() as conn:
                landed = set(conn.execute(select(activities.c.activity_id).where(
                    activities.c.activity_id.like("load-%"))).scalars())
            if set(tally.accepted) <= landed or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    report = {"database": world.engine.dialect.name, "threads": THREADS, "seconds": round(wall, 1),
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "load average at the end": os.getloadavg(), "cycle": cycle, "errors": len(tally.errors),
              "per kind": {k: {"answered": len(v), "median ms": round(1000 * percentile(v, 0.5), 1),
                               "p99 ms": round(1000 * percentile(v, 0.99), 1),
                               "statuses": dict(tally.status[k])} for k, v in tally.latency.items()}}
    total = sum(len(v) for v in tally.latency.values())
    report["requests answered"], report["per second"] = total, round(total / wall, 1)
    print("\nLOAD", json.dumps(report, default=str))
    assert cycle["status"] == 200, cycle
    assert cycle["summary"]["retrieved"] > 0
    assert tally.errors == [], tally.errors[:20]
    assert all(len(tally.latency[k]) > 0 for k, _ in MIX)
    assert violations(world.engine, world.config, LATER) == []
    assert set(tally.accepted) <= landed, sorted(set(tally.accepted) - landed)[:10]
