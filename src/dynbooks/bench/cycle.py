"""Cycle, import, naive-baseline and report benchmarks: ``python -m dynbooks.bench cycle|import [--json]``.

``cycle`` builds (once, cached by size and seed: see :mod:`dynbooks.bench.build`) the generated CRM of
:mod:`dynbooks.bench.world` — 5,000,000 accounts by default — copies it, and measures ONE committed
``run_cycle`` on SQLite and on PostgreSQL, then the six reports on the database the cycle left. Beside
it, at 100,000 accounts, the naive cycle (:mod:`dynbooks.bench.naive`) and the real one on the same
world. Each report runs in its own process, stopped after ``--report-timeout`` seconds (60: the target is 2).
``import`` imports a 1,000,000-row accounts CSV (``dynbooks generate``) into an empty database.

Every measured step runs in a fresh subprocess (``--child``), so its peak RSS (``VmHWM``, see
:func:`dynbooks.bench.peak_rss_mb`) is its own; the clock covers the call alone (imports, engine and
configuration are made before it). Each figure is given in seconds, as a ratio to the floor F (median of
7 ``np.argsort`` of 1M float64 in the parent process, just before), in rows per second and in MB of peak
RSS. One JSON object is printed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from dynbooks.bench import build, peak_rss_mb
from dynbooks.bench.world import AS_OF, CONFIG_TOML

__all__ = ["floor", "main"]

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def floor(runs: int = 7) -> float:
    """F: the median time of ``np.argsort`` of 1M float64 (the in-process floor)."""
    values = np.random.default_rng(0).random(1_000_000)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        np.argsort(values)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _child(kind: str, url: str, extra: list[str]) -> dict[str, Any]:
    """Run one measured step in this (fresh) process; returns its figures."""
    from dynbooks.domain.clock import Now
    from dynbooks.domain.rules import Config
    from dynbooks.services.context import Context
    from dynbooks.store.db import connect

    config = Config.model_validate(tomllib.loads(CONFIG_TOML))
    engine = connect(url)
    now = Now.of_date(AS_OF)
    ctx = Context(engine=engine, config=config, now=now, actor="bench")
    out: dict[str, Any] = {}
    if kind == "cycle":
        from dynbooks.services.cycle import run_cycle

        t, cpu = time.perf_counter(), time.process_time()
        result = run_cycle(ctx)
        out["seconds"] = time.perf_counter() - t
        # This process's own CPU time: on a shared machine the wall clock also counts waiting for a core.
        out["cpu_s"] = round(time.process_time() - cpu, 3)
        out.update({k: v for k, v in result.summary().items() if k in ("released", "retrieved", "distributed")})
    elif kind == "naive":
        from dynbooks.bench.naive import naive_cycle

        t, cpu = time.perf_counter(), time.process_time()
        out.update(naive_cycle(engine, config, now.stamp.replace(tzinfo=None)))
        out["seconds"] = time.perf_counter() - t
        out["cpu_s"] = round(time.process_time() - cpu, 3)
    elif kind == "import":
        from dynbooks.config import load_config
        from dynbooks.services.imports import import_file
        from dynbooks.store.migrate import upgrade

        folder = Path(extra[0])
        upgrade(engine)
        ctx = Context(engine=engine, config=load_config(folder / "dynbooks.toml"), now=now, actor="bench")
        import_file(ctx, "reps", folder / "reps.csv")
        t, cpu = time.perf_counter(), time.process_time()
        summary = import_file(ctx, "accounts", folder / "accounts.csv")
        out["seconds"] = time.perf_counter() - t
        # CPU time of this process alone: on a shared, loaded machine the wall clock says more about the others.
        out["cpu_seconds"] = round(time.process_time() - cpu, 3)
        out["inserted"] = summary.get("inserted")
        out["owners_recorded"] = summary.get("owners_recorded")
    elif kind == "dry-run":
        # The audit's second part (services.reporting): a first cycle, dry run, rolled back.
        from dynbooks.services.cycle import run_cycle

        t = time.perf_counter()
        run_cycle(ctx, dry_run=True)
        out["seconds"] = time.perf_counter() - t
    elif kind == "facts":
        # Setup, not a report: migrate a cached world (0007 adds and backfills the accounts' facts) and,
        # for a world written row by row past the services, recompute the facts once (services/facts.py).
        from dynbooks.services.facts import refresh_all
        from dynbooks.store.migrate import upgrade

        t = time.perf_counter()
        upgrade(engine)
        out["migrate_s"] = round(time.perf_counter() - t, 3)
        if engine.dialect.name == "postgresql":
            # What a DBA (or autovacuum, later) does after a backfill that rewrote the accounts: index-only
            # scans need the visibility map, the planner fresh statistics.
            t = time.perf_counter()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE accounts")
                conn.exec_driver_sql("VACUUM ANALYZE account_roles")
            out["vacuum_s"] = round(time.perf_counter() - t, 3)
        if extra and extra[0] == "refresh":
            t = time.perf_counter()
            with engine.begin() as conn:
                refresh_all(conn, config)
            out["refresh_all_s"] = round(time.perf_counter() - t, 3)
    elif kind == "report":
        from dynbooks.reports import REPORTS, ReportFilters

        with engine.connect() as conn:
            t, cpu = time.perf_counter(), time.process_time()
            REPORTS[extra[0]](conn, config, now, ReportFilters())
            out["seconds"] = time.perf_counter() - t
            # This process's CPU: on SQLite the whole query; on PostgreSQL the server's work is not in it.
            out["cpu_seconds"] = round(time.process_time() - cpu, 3)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _spawn(kind: str, url: str, *extra: str, timeout: float | None = None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "dynbooks.bench", "cycle", "--child", kind, url, *extra]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        build._log(f"{kind} {' '.join(extra)} on {url}: stopped after {timeout} s")
        return {"timed_out_after_s": timeout}
    if done.returncode != 0:
        raise RuntimeError(f"{kind} on {url} failed:\n{done.stderr[-4000:]}")
    out = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    build._log(f"{kind} {' '.join(extra)} on {url}: {out}")  # partial figures survive an interrupted run
    return out


def _figures(raw: dict[str, Any], rows: int, f: float) -> dict[str, Any]:
    seconds = raw.pop("seconds")
    return {"seconds": round(seconds, 3), "x_floor": round(seconds / f, 1), "rows": rows,
            "rows_per_s": round(rows / seconds), **raw}


def _moved(raw: dict[str, Any]) -> int:
    return int(raw.get("released", 0)) + int(raw.get("retrieved", 0)) + int(raw.get("distributed", 0))


def _cycle_on(url: str, f: float, reports: float | None) -> dict[str, Any]:
    """The cycle's figures; with ``reports`` (a time-out in seconds), each report's, on what it left."""
    raw = _spawn("cycle", url)
    out = _figures(raw, _moved(raw), f)
    if reports:
        from dynbooks.reports import REPORTS

        out["reports"] = {}
        for name in REPORTS:
            raw = _spawn("report", url, name, timeout=reports)
            out["reports"][name] = raw if "seconds" not in raw else {
                "seconds": round(raw["seconds"], 3), "peak_rss_mb": raw["peak_rss_mb"]}
    return out


def _reports_on(url: str, timeout: float | None) -> dict[str, Any]:
    from dynbooks.reports import REPORTS

    _spawn("facts", url)  # a cache made before migration 0007 gets its facts here (logged, not timed)
    out: dict[str, Any] = {}
    for name in REPORTS:
        raw = _spawn("report", url, name, timeout=timeout)
        out[name] = raw if "seconds" not in raw else {"seconds": round(raw["seconds"], 3),
                                                      "cpu_seconds": raw["cpu_seconds"],
                                                      "peak_rss_mb": raw["peak_rss_mb"]}
    # `report audit` also previews the first cycle (a dry run): timed on its own, beside the report proper.
    raw = _spawn("dry-run", url, timeout=timeout)
    out["audit"]["first_cycle_dry_run"] = raw if "seconds" not in raw else {
        "seconds": round(raw["seconds"], 3), "peak_rss_mb": raw["peak_rss_mb"]}
    return {"reports": out}


def _after_cycle_sqlite(n: int, seed: int) -> str:
    """The cached SQLite world after one committed cycle (built once: a copy of the world, then the cycle)."""
    path = build.cache_dir() / f"after-cycle-{n}-{seed}-v{build.VERSION}.db"
    if not path.exists():
        url = build.sqlite_copy(build.sqlite_world(n, seed), f"after-{n}-{seed}")
        _spawn("facts", url, "refresh")  # the world is written past the services: its facts, once
        _spawn("cycle", url)
        run = url.removeprefix("sqlite:///")
        con = sqlite3.connect(run)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the file before it is renamed
        con.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{run}{suffix}").unlink(missing_ok=True)
        Path(run).rename(path)
    return f"sqlite:///{path}"


def _after_cycle_pg(server: str, n: int, seed: int) -> str:
    """The cached PostgreSQL world after one committed cycle (a database kept beside the world's template)."""
    name = f"dynbooks_bench_after_{n}_{seed}_v{build.VERSION}"
    with build._admin(server) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if not found:
        url = build.pg_copy(server, build.pg_world(server, n, seed), f"after_{n}_{seed}")
        _spawn("facts", url, "refresh")
        _spawn("cycle", url)
        with build._admin(server) as admin:
            admin.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" RENAME TO "{name}"')
    return build._db_url(server, name)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"cpu": model, "cores": len(__import__("os").sched_getaffinity(0)), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "date": datetime.now(UTC).strftime("%Y-%m-%d")}


def _pg_version(server: str) -> str | None:
    try:
        with build._admin(server) as admin:
            row = admin.execute("SHOW server_version").fetchone()
            return None if row is None else str(row[0])
    except psycopg.Error:  # no PostgreSQL here
        return None


def run(args: argparse.Namespace) -> dict[str, Any]:
    pg = None if args.no_postgres else args.db
    info = machine()
    info["postgresql"] = _pg_version(pg) if pg else None
    if info["postgresql"] is None:
        pg = None
    f = floor()
    out: dict[str, Any] = {"benchmark": args.name, "machine": info, "floor_s": round(f, 5), "seed": args.seed}
    if args.name == "import":
        folder = build.cache_dir() / f"csv-{args.rows}-{args.seed}"
        if not (folder / "accounts.csv").exists():
            from dynbooks.sample import generate

            generate(folder, seed=args.seed, accounts=args.rows, as_of=AS_OF)
        target = build.cache_dir() / "run-import.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        out["rows"] = args.rows
        out["sqlite"] = _figures(_spawn("import", f"sqlite:///{target}", str(folder)), args.rows, f)
        if pg:
            url = build.empty_pg(pg, "import")
            out["postgresql"] = _figures(_spawn("import", url, str(folder)), args.rows, f)
            build.drop_pg(pg, url.rsplit("/", 1)[1])
        return out

    only = set(args.only.split(","))
    reports = args.report_timeout if "reports" in only else None
    out["accounts"] = args.accounts
    if "cycle" in only:
        out["sqlite"] = _cycle_on(build.sqlite_copy(build.sqlite_world(args.accounts, args.seed), "cycle"), f,
                                  reports)
        if pg:
            url = build.pg_copy(pg, build.pg_world(pg, args.accounts, args.seed), "cycle")
            out["postgresql"] = _cycle_on(url, floor(), reports)
            build.drop_pg(pg, url.rsplit("/", 1)[1])
    if "reports" in only and "cycle" not in only:
        # Reports alone: on a database one committed cycle has already changed, kept between runs (reports
        # only read; the audit's dry-run cycle rolls back), so iterating on a report does not rerun the cycle.
        out["sqlite"] = _reports_on(_after_cycle_sqlite(args.accounts, args.seed), reports)
        if pg:
            out["postgresql"] = _reports_on(_after_cycle_pg(pg, args.accounts, args.seed), reports)
    if "naive" in only:
        world = build.sqlite_world(args.naive_accounts, args.seed)
        naive = _spawn("naive", build.sqlite_copy(world, "naive"))
        real = _spawn("cycle", build.sqlite_copy(world, "small"))
        out["baseline"] = {
            "accounts": args.naive_accounts, "database": "sqlite",
            "naive": _figures(naive, _moved(naive), f),
            "dynbooks": _figures(real, _moved(real), f),
        }
        out["baseline"]["speedup"] = round(out["baseline"]["naive"]["seconds"] / out["baseline"]["dynbooks"]["seconds"],
                                           1)
    return out


def main(argv: list[str] | None = None, name: str = "cycle") -> int:
    parser = argparse.ArgumentParser(prog=f"python -m dynbooks.bench {name}")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output too)")
    parser.add_argument("--accounts", type=int, default=5_000_000)
    parser.add_argument("--naive-accounts", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="accounts CSV rows for `import`")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default=PG_DEFAULT, help="PostgreSQL server (databases are created on it)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", default="cycle,reports,naive", help="for `cycle`: a subset of cycle,reports,naive")
    parser.add_argument("--report-timeout", type=float, default=60.0, help="seconds before a report is stopped")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.name = name
    if args.child:
        print(json.dumps(_child(args.child[0], args.child[1], args.child[2:])))
        return 0
    print(json.dumps(run(args), indent=None if args.json else 2))
    return 0
