"""Benchmark of the web app and the API on one worker: ``python -m dynbooks.bench.web [--accounts N] [--json]``.

Setup (not timed): a copy of the cached benchmark world (:mod:`dynbooks.bench.world`, SQLite), a rep user and
an admin token, and ``dynbooks serve`` on a loopback port (one uvicorn worker, no scheduler). The load comes
from ``wrk`` (Debian's package ``wrk``: a C load generator, so that the client is not what is measured) with
``--clients`` connections for ``--seconds`` each; without ``wrk`` on the PATH, from ``--clients`` Python
threads (httpx) sending ``--requests`` in all, which saturate a core before the server does. Measured:

- ``book``: the rep's book page (``GET /book``, HTML, a full book of the world's biggest rule);
- ``webhook``: ``POST /api/webhooks/activities``, one meaningful activity for an account of that book, with an
  ``Idempotency-Key``;
- both again while a cycle runs in another process (``dynbooks cycle``);
- ``hand_raise``: ``POST /api/webhooks/signals`` with one ``demo_request`` for a pool account, one at a time:
  the time until the answer, which comes after the account was routed.

Each figure: requests per second (completed ÷ wall time) and the latency percentiles in milliseconds (wrk's
own when wrk runs; the hand-raise's always from one Python client, one request at a time), the answers 202
(queued in the webhook inbox while the cycle held SQLite's write lock), and the load average; with wrk,
``within_cycle`` says whether the cycle outlasted the run (else part of it ran after the cycle).
``cycle_webhook.applied`` counts the cycle-time activities in the database after the cycle: it equals the
answered requests when each delivery was applied exactly once. ``--pin`` separates server and clients by CPU;
``--only`` runs a subset of the scenarios, ``--hold`` waits (printing the server's pid) so a profiler can attach.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import text

from dynbooks.bench.build import sqlite_copy, sqlite_world
from dynbooks.bench.world import AS_OF, CONFIG_TOML
from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.services.auth import add_user, create_token
from dynbooks.services.context import Context
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade

__all__ = ["main"]

PASSWORD = "benchmark password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stats(latencies: list[float], wall: float) -> dict[str, Any]:
    ms = np.array(latencies) * 1000
    if not len(ms):
        return {"requests": 0}
    return {"requests": len(ms), "rps": round(len(ms) / wall, 1), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1), "max_ms": round(float(ms.max()), 1)}


def _load_average() -> list[float]:
    """The machine's 1/5/15-minute load average when a figure was taken (other benchmarks share it)."""
    return [round(x, 2) for x in os.getloadavg()]


def _load(base: str, clients: int, count: int, request: Any, stop: threading.Event | None = None) -> dict[str, Any]:
    """``count`` requests split over ``clients`` threads (fewer if ``stop`` is set first)."""
    latencies: list[float] = []
    errors: list[int] = []
    queued: list[int] = []
    lock = threading.Lock()
    per = count // clients

    def worker(k: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            for i in range(per):
                if stop is not None and stop.is_set():
                    return
                t0 = time.perf_counter()
                status = request(client, k * per + i)
                took = time.perf_counter() - t0
                with lock:
                    latencies.append(took)
                    if status >= 400:
                        errors.append(status)
                    elif status == 202:
                        queued.append(status)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _stats(latencies, time.perf_counter() - start) | {"errors": len(errors), "queued": len(queued),
                                                             "load": _load_average()}


_WRK_LUA = """
local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end
sent, queued, errors = 0, 0, 0
%(request)s
function response(status, headers, body)
  if status == 202 then queued = queued + 1 end
  if status ~= 200 and status ~= 202 then errors = errors + 1 end
end
function done(summary, latency, requests)
  local q, e = 0, 0
  for _, t in ipairs(threads) do q = q + t:get("queued"); e = e + t:get("errors") end
  io.write(string.format("DYNBOOKS queued=%%d errors=%%d\\n", q, e))
end
"""

_WEBHOOK_LUA = """
local accounts = {%(accounts)s}
function request()
  sent = sent + 1
  local key = "%(tag)s-" .. id .. "-" .. sent
  local body = '[{"account_id": "' .. accounts[(sent %% #accounts) + 1] .. '", "rep_id": "%(rep)s", "type": "call", '
    .. '"occurred_at": "2026-03-02T09:00:00Z", "activity_id": "bench-' .. key .. '"}]'
  return wrk.format("POST", "/api/webhooks/activities", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(token)s", ["Idempotency-Key"] = key}, body)
end
"""

SCENARIOS = ("idle_book", "idle_webhook", "cycle_book", "cycle_webhook", "hand_raise")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return round(float(number) * _UNITS[unit], 1)


def _wrk(base: str, path: str, clients: int, seconds: float, *, headers: dict[str, str] | None = None,
         request_lua: str = "") -> dict[str, Any]:
    """``wrk`` against ``base + path`` for ``seconds`` with ``clients`` connections (one thread): its own
    latency percentiles, and the 202 and error answers counted by a Lua ``response`` hook."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_LUA % {"request": request_lua})
    command = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "60s",
               "-s", script.name]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    try:
        out = subprocess.run([*command, base + path], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, flags=re.M))
    if set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    requests, wall, unit = re.search(r"(\d+) requests in ([0-9.]+)(\w+)", out).groups()  # type: ignore[union-attr]
    wall_s = _ms(wall + unit) / 1000
    counted = re.search(r"DYNBOOKS queued=(\d+) errors=(\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    return {"requests": int(requests), "rps": round(int(requests) / wall_s, 1),
            "p50_ms": _ms(percentiles["50"]), "p99_ms": _ms(percentiles["99"]),
            "max_ms": _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
            "errors": int(counted.group(2)) + (int(timeouts.group(1)) if timeouts else 0) if counted else None,
            "queued": int(counted.group(1)) if counted else None, "load": _load_average(), "client": "wrk"}


def _count(url: str, sql: str) -> int:
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dynbooks.bench.web")
    p.add_argument("--accounts", type=int, default=1_000_000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--hand-raises", type=int, default=100)
    p.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    p.add_argument("--python-client", action="store_true", help="load from Python threads even if wrk is installed")
    p.add_argument("--json", action="store_true")
    p.add_argument("--pin", action="store_true",
                   help="pin the server to CPU 0 and the clients and the cycle to the other CPUs")
    p.add_argument("--only", default=",".join(SCENARIOS),
                   help=f"a comma-separated subset of {','.join(SCENARIOS)}")
    p.add_argument("--hold", type=float, default=0.0,
                   help="seconds to keep the server up before the first scenario (to attach a profiler); "
                        "its pid is printed to stderr")
    args = p.parse_args(argv)
    only = set(args.only.split(","))
    if only - set(SCENARIOS):
        p.error(f"--only: unknown scenario(s) {', '.join(sorted(only - set(SCENARIOS)))}")
    url = sqlite_copy(sqlite_world(args.accounts, 7), "web")
    engine = connect(url)
    upgrade(engine)
    with engine.connect() as conn:
        # Not timed: a migration's backfill can leave a large WAL whose checkpoint would otherwise fall on
        # the first timed write.
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    folder = Path(tempfile.mkdtemp(prefix="dynbooks-bench-web-"))
    (folder / "dynbooks.toml").write_text(CONFIG_TOML, encoding="utf-8")
    import tomllib

    config = Config.model_validate(tomllib.loads(CONFIG_TOML))
    ctx = Context(engine=engine, config=config, now=Now.of_date(AS_OF))
    with engine.connect() as conn:
        rep, size = conn.execute(text("SELECT rep_id, count(*) FROM account_roles WHERE state = 'owned' "
                                      "GROUP BY rep_id ORDER BY count(*) DESC, rep_id LIMIT 1")).one()
        mine = list(conn.execute(text("SELECT account_id FROM account_roles WHERE rep_id = :r AND state = 'owned'"),
                                 {"r": rep}).scalars())
        pool = list(conn.execute(text(
            "SELECT a.account_id FROM accounts a WHERE a.region = 'NA' AND a.is_customer = false "
            "AND a.status = 'active' AND a.duplicate_of IS NULL AND NOT EXISTS (SELECT 1 FROM account_roles r "
            "WHERE r.account_id = a.account_id) ORDER BY a.account_id LIMIT :n"), {"n": args.hand_raises}).scalars())
    add_user(ctx, "rep@bench.example", PASSWORD, "rep", rep_id=rep)
    add_user(ctx, "admin@bench.example", PASSWORD, "admin")
    token = create_token(ctx, "admin@bench.example")["token"]
    engine.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    exe = str(Path(sys.executable).parent / "dynbooks")
    common = ["--db", url, "--config", str(folder / "dynbooks.toml"), "--as-of", AS_OF.isoformat()]
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus, client_cpus = ({cpus[0]}, set(cpus[1:]) or {cpus[0]}) if args.pin else (set(cpus), set(cpus))
    server = subprocess.Popen([exe, "serve", "--port", str(port), "--no-schedule", *common],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=os.environ | {"DYNBOOKS_SECRET_KEY": "b" * 40},
                              preexec_fn=lambda: os.sched_setaffinity(0, server_cpus))
    os.sched_setaffinity(0, client_cpus)  # the clients, and the cycle started from here
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/api/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        with httpx.Client(base_url=base) as c:
            page = c.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf is not None
            c.post("/login", data={"email": "rep@bench.example", "password": PASSWORD, "csrf_token": csrf.group(1)})
            session = c.cookies.get("dynbooks_session")
        hook_headers = {"Authorization": f"Bearer {token}"}

        def book(client: httpx.Client, i: int) -> int:
            return client.get("/book", cookies={"dynbooks_session": session or ""}).status_code

        def activity(tag: str) -> Any:
            def send(client: httpx.Client, i: int) -> int:
                row = {"account_id": mine[i % len(mine)], "rep_id": rep, "type": "call",
                       "occurred_at": "2026-03-02T09:00:00Z", "activity_id": f"bench-{tag}-{i}"}
                return client.post("/api/webhooks/activities", json=[row],
                                   headers=hook_headers | {"Idempotency-Key": f"{tag}-{i}"}).status_code
            return send

        result: dict[str, Any] = {"accounts": args.accounts, "clients": args.clients, "book_size": size,
                                  "cpus": os.cpu_count(), "pinned": args.pin}
        _load(base, 2, 20, book)  # warm-up
        use_wrk = shutil.which("wrk") is not None and not args.python_client
        accounts_lua = ", ".join(f'"{a}"' for a in mine)

        def measure(what: str, tag: str, stop: threading.Event | None = None) -> dict[str, Any]:
            if not use_wrk:
                return _load(base, args.clients, args.requests, book if what == "book" else activity(tag), stop)
            if what == "book":
                return _wrk(base, "/book", args.clients, args.seconds,
                            headers={"Cookie": f"dynbooks_session={session}"})
            return _wrk(base, "", args.clients, args.seconds, request_lua=_WEBHOOK_LUA % {
                "accounts": accounts_lua, "tag": tag, "rep": rep, "token": token})

        # This process imported the app's stack too: a full collection of it (~100 ms) during a timed request
        # would be counted as the server's latency.
        gc.collect()
        gc.freeze()
        if args.hold:
            print(f"server pid {server.pid}", file=sys.stderr, flush=True)
            time.sleep(args.hold)
        for name, what in (("idle_book", "book"), ("idle_webhook", "webhook")):
            if name in only:
                result[name] = measure(what, "idle")
        for name, what in (("cycle_book", "book"), ("cycle_webhook", "webhook")):
            if name not in only:
                continue
            stop = threading.Event()
            t0 = time.perf_counter()
            cycle = subprocess.Popen([exe, "cycle", "--wait", "600", *common], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            watcher = threading.Thread(target=lambda c=cycle, s=stop: (c.wait(), s.set()))
            watcher.start()
            time.sleep(0.5)  # the cycle has started and holds the lock
            result[name] = measure(what, "cycle", stop) | {"cycle_s": None}
            # wrk runs for --seconds: every request fell within the cycle only if the cycle outlasted it.
            result[name]["within_cycle"] = not stop.is_set()
            watcher.join()
            result[name]["cycle_s"] = round(time.perf_counter() - t0, 1)
        if "cycle_webhook" in only:
            # Every cycle-time delivery applied exactly once (queued ones after the cycle committed): each
            # answered request left one activity, none twice.
            sent = result["cycle_webhook"]["requests"] - result["cycle_webhook"]["errors"]
            for _ in range(300):
                applied = _count(url, "SELECT count(*) FROM activities WHERE activity_id LIKE 'bench-cycle-%'")
                if applied >= sent:
                    break
                time.sleep(0.1)
            result["cycle_webhook"]["applied"] = applied
        if "hand_raise" not in only:
            pool = []
        latencies = []
        routed = 0
        with httpx.Client(base_url=base, timeout=60) as c:
            start = time.perf_counter()
            for i, account in enumerate(pool):
                row = {"account_id": account, "type": "demo_request", "strength": 5,
                       "occurred_at": "2026-03-02T10:00:00Z", "signal_id": f"bench-raise-{i}"}
                t0 = time.perf_counter()
                answer = c.post("/api/webhooks/signals", json=[row], headers=hook_headers)
                latencies.append(time.perf_counter() - t0)
                assert answer.status_code == 200, answer.text
                routed += answer.json()["routed"]
            if "hand_raise" in only:
                result["hand_raise"] = _stats(latencies, time.perf_counter() - start) | {
                    "routed": routed, "load": _load_average()}
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:14} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
