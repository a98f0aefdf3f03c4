"""Use case: import a CSV of one kind (SPEC §9 CSV files, §10 Imports).

All or nothing: the file is read and every row checked (by the ingest layer, then against the database)
before anything is written, and everything is written in one transaction. With ``skip_invalid`` the good
rows land and the bad ones go to the rejects file. Upserts are idempotent: a row equal to the stored one
counts as ``unchanged`` and writes nothing.

Side effects, in the same transaction: ``owner_<role>`` columns record today's ownership; likely
duplicates (same normalised domain) go to the review queue; meaningful activities move the owners'
retrieval clocks; hand-raise signals route their accounts at once; deactivated reps' books go back to the
pool and are redistributed, and new or reactivated reps are filled.
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Table, bindparam, select, update

from dynbooks.domain.errors import InvalidInput, NotFound
from dynbooks.ingest import IngestError, ParsedFile, RowError, read_csv, read_mapping, reject_rows, write_rejects
from dynbooks.services.context import Context
from dynbooks.services.facts import refresh_activity_facts, refresh_opportunity_facts
from dynbooks.services.history import naive
from dynbooks.services.imports_effects import (
    by_ids,
    fill_reps,
    flag_duplicates,
    record_owners,
    route_hand_raises,
    touch_worked,
)
from dynbooks.store.bulk import insert_columns, insert_rows, secondary_indexes_deferred
from dynbooks.store.schema import accounts, activities, opportunities, reps, signals

__all__ = ["import_file"]

INSERT_SLICE = 50_000
COMPARE_SLICE = 100_000
"""Rows of a file compared with their stored rows at a time (a join against their staged ids each)."""

TABLES: dict[str, tuple[Table, str]] = {
    "accounts": (accounts, "account_id"),
    "reps": (reps, "rep_id"),
    "activities": (activities, "activity_id"),
    "signals": (signals, "signal_id"),
    "opportunities": (opportunities, "opportunity_id"),
}


def import_file(
    ctx: Context,
    kind: str,
    path: Path,
    *,
    mapping: Path | None = None,
    preset: str | None = None,
    skip_invalid: bool = False,
    rejects: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Import ``path``; returns ``{"inserted", "updated", "unchanged", "rejected", ...}``."""
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    try:
        renames = read_mapping(mapping) if mapping is not None else None
    except FileNotFoundError:
        raise NotFound(f"{mapping}: no such mapping file") from None
    except IngestError as exc:
        raise InvalidInput(f"{mapping}: bad mapping file", [str(e) for e in exc.errors]) from None
    with _gc_paused():
        return _import(ctx, kind, path, renames, preset, skip_invalid, rejects, progress)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A large import builds millions of objects, none in a cycle: the cyclic collector would walk them all
    again and again for nothing (seconds at a million rows)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(
    ctx: Context, kind: str, path: Path, renames: dict[str, str] | None, preset: str | None, skip_invalid: bool,
    rejects: Path | None, progress: Callable[[int], None] | None,
) -> dict[str, Any]:
    try:
        parsed = read_csv(path, kind, mapping=renames, preset=preset, progress=progress)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    table, key = TABLES[kind]
    with ctx.writing(lock=True) as conn:
        parsed = reject_rows(parsed, _reference_errors(conn, ctx, parsed))
        if parsed.errors and not skip_invalid:
            bad = len({e.line for e in parsed.errors})
            raise InvalidInput(
                f"{path}: {bad} bad row{'s' if bad != 1 else ''}; nothing was imported "
                "(fix them, or use --skip-invalid --rejects FILE)",
                [str(e) for e in parsed.errors],
            )
        columns, values = _records(kind, parsed.values, parsed.count, ctx)
        counts, changed = _upsert_columns(conn, table, key, columns, values, changes=kind in ("signals", "reps"))
        del values
        result: dict[str, Any] = {**counts, "rejected": len({line for line, _ in parsed.rejected})}
        result |= _effects(conn, ctx, kind, parsed, changed)
    if skip_invalid and parsed.rejected:
        target = rejects or Path(f"{path}.rejects.csv")
        write_rejects(parsed, target)
        result["rejects_file"] = str(target)
    return result


def _to_record(kind: str, row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """One row as the store keeps it (the per-row form of :func:`_records`, for the webhooks)."""
    columns, values = _records(kind, {name: [v] for name, v in row.items()}, 1, ctx)
    return {name: column[0] for name, column in zip(columns, values, strict=True)}


def _records(kind: str, parsed: dict[str, list[Any]], n: int, ctx: Context) -> tuple[list[str], list[list[Any]]]:
    """The ``n`` good rows of one file (columns as :func:`read_csv` gives them) as the store keeps them:
    the table's columns and one list of values per column. No dict and no tuple per row is built."""
    if not n:
        return [], []
    table, _ = TABLES[kind]
    names = [c for c in parsed if c in table.c and c not in ("custom", "updated_at")]
    values: list[list[Any]] = [parsed[c] for c in names]
    for k, column in enumerate(names):
        if isinstance(table.c[column].type, DateTime):
            values[k] = [naive(v.astimezone(UTC)) if isinstance(v, datetime) and v.tzinfo is not None else v
                         for v in values[k]]
    if kind == "accounts" and parsed.get("custom") and any(parsed["custom"]):
        names.append("custom")
        values.append(parsed["custom"])
    if kind == "reps":
        role_of = {name: rule.role for name, rule in ctx.config.rules.items()}
        names.append("role")
        values.append([role_of[r] for r in parsed["book_rule"]])
        if "active" not in names:
            names.append("active")
            values.append([True] * n)
    if kind in ("accounts", "reps"):
        names.append("updated_at")
        values.append([naive(ctx.now.stamp)] * n)
    return names, values


Changed = dict[str, tuple[dict[str, Any] | None, dict[str, Any]]]
"""Upserted id → (the stored row before, or ``None`` when new; the row written)."""


def _upsert(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> tuple[dict[str, int], Changed]:
    """:func:`_upsert_rows` for dicts; rows with different keys are upserted apart (a missing key is a column
    the row does not set)."""
    by_shape: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        by_shape.setdefault(tuple(row), []).append(tuple(row.values()))
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    changed: Changed = {}
    for shape, group in by_shape.items():
        part, more = _upsert_columns(conn, table, key, list(shape), list(map(list, zip(*group, strict=True))),
                                     changes=True)
        counts = {k: counts[k] + part[k] for k in counts}
        changed |= more
    return counts, changed


def _upsert_columns(
    conn: Connection, table: Table, key: str, columns: list[str], values: list[list[Any]], *, changes: bool,
) -> tuple[dict[str, int], Changed]:
    """Insert new ids, update changed ones, count equal ones; with ``changes``, also say what changed.

    ``values`` holds one list per column. Only the stored rows with the file's ids are read (a join against
    the staged ids when there are many, nothing at all when the table is empty). When nothing is stored and
    no id repeats (a first import), the columns go to the store as they are, a slice at a time; otherwise
    rows are compared one by one.
    """
    if not values or not values[0]:
        return {"inserted": 0, "updated": 0, "unchanged": 0}, {}
    k = columns.index(key)
    ids = values[k]
    compared = [(j, c) for j, c in enumerate(columns) if c != "updated_at"]
    at = [j for j, _ in compared]
    empty = conn.execute(select(table.c[key]).limit(1)).first() is None
    if empty and not changes and len(set(ids)) == len(ids):
        with secondary_indexes_deferred(conn, table, len(ids)):
            for start in range(0, len(ids), INSERT_SLICE):
                insert_columns(conn, table, columns, [column[start:start + INSERT_SLICE] for column in values])
        return {"inserted": len(ids), "updated": 0, "unchanged": 0}, {}
    new: list[tuple[Any, ...]] = []
    changed_rows: list[tuple[Any, ...]] = []
    changed: Changed = {}
    unchanged = 0
    # With ``changes`` the stored rows are read whole (to say what changed), all at once; otherwise only the
    # compared columns, as tuples, a slice of the file at a time (a million stored rows at once would double
    # the peak memory). Only new and changed rows are kept.
    step = len(ids) if changes or empty else COMPARE_SLICE
    query = select(table) if changes else select(*(table.c[c] for _, c in compared))
    for start in range(0, len(ids), step):
        found = [] if empty else by_ids(conn, query, table.c[key], ids[start:start + step])
        if changes:
            existing: dict[Any, Any] = {r[key]: dict(r) for r in map(attrgetter("_mapping"), found)}
        else:
            existing = {r[at.index(k)]: r for r in map(tuple, found)}
        for row in zip(*(column[start:start + step] for column in values), strict=True):
            before = existing.get(row[k])
            if before is None:
                new.append(row)
            elif (all(before.get(c) == row[j] for j, c in compared) if changes
                  else all(map(operator.eq, before, map(row.__getitem__, at)))):
                unchanged += 1
            else:
                changed_rows.append(row)
                if changes:
                    changed[row[k]] = (before, dict(zip(columns, row, strict=True)))
    if changes:
        changed |= {row[k]: (None, dict(zip(columns, row, strict=True))) for row in new}
    # An id twice in one file can only be a derived id (the same fact twice): the first is kept.
    if len({row[k] for row in new}) != len(new):
        first: dict[Any, tuple[Any, ...]] = {}
        for row in new:
            first.setdefault(row[k], row)
        new = list(first.values())
    # In slices: each value is bound (JSON text, DATETIME text) a slice at a time, not all at once in memory.
    for start in range(0, len(new), INSERT_SLICE):
        insert_rows(conn, table, columns, new[start:start + INSERT_SLICE])
    if changed_rows:
        sets: dict[str, Any] = {c: bindparam(f"v_{c}") for c in columns if c != key}
        conn.execute(
            update(table).where(table.c[key] == bindparam("k")).values(**sets),
            [{"k": r[k], **{f"v_{c}": r[j] for j, c in enumerate(columns) if c != key}} for r in changed_rows],
        )
    return {"inserted": len(new), "updated": len(changed_rows), "unchanged": unchanged}, changed


def _reference_errors(conn: Connection, ctx: Context, parsed: ParsedFile) -> list[RowError]:
    """Rows that name an unknown account, rep, book rule or role are bad rows (SPEC §10 Imports)."""
    errors: list[RowError] = []
    values, lines = parsed.values, parsed.lines
    if parsed.kind == "reps":
        for rule, line in zip(values.get("book_rule", []), lines, strict=True):
            if rule not in ctx.config.rules:
                errors.append(RowError(line, "book_rule", f"no book rule named {rule!r} in the config"))
        return errors
    if parsed.kind == "accounts":
        owner_cols = [c for c in parsed.columns if c.startswith("owner_")]
        if not owner_cols or not lines:
            return errors
        rep_roles = dict(conn.execute(select(reps.c.rep_id, reps.c.role)).all())
        for col in owner_cols:
            role = col.removeprefix("owner_")
            named = values[col]
            fine = set() if role not in ctx.config.roles else {r for r, of in rep_roles.items() if of == role}
            if set(named) <= fine | {None, ""}:
                continue  # the common case: one set difference, no loop over the rows
            for line, rep_id in zip(lines, named, strict=True):
                if not rep_id or rep_id in fine:
                    continue
                if role not in ctx.config.roles:
                    errors.append(RowError(line, col, f"no book rule has role {role!r}"))
                elif rep_id not in rep_roles:
                    errors.append(RowError(line, col, f"unknown rep {rep_id!r} (import reps first)"))
                else:
                    errors.append(RowError(line, col, f"rep {rep_id!r} has role {rep_roles[rep_id]!r}, not {role!r}"))
        # Errors by line, each line's in column order (the sort is stable).
        return sorted(errors, key=attrgetter("line"))
    if not lines:
        return errors
    account_ids = values["account_id"]
    rep_ids = values.get("rep_id", [None] * len(lines))
    known_accounts = _known(conn, accounts, "account_id", set(account_ids))
    known_reps = _known(conn, reps, "rep_id", set(filter(None, rep_ids)))
    for account_id, rep_id, line in zip(account_ids, rep_ids, lines, strict=True):
        if account_id not in known_accounts:
            errors.append(RowError(line, "account_id", f"unknown account {account_id!r}"))
        if rep_id and rep_id not in known_reps:
            errors.append(RowError(line, "rep_id", f"unknown rep {rep_id!r}"))
    return errors


def _known(conn: Connection, table: Table, key: str, ids: set[str]) -> set[str]:
    return {found[0] for found in by_ids(conn, select(table.c[key]), table.c[key], sorted(ids))}


def _effects(
    conn: Connection, ctx: Context, kind: str, parsed: ParsedFile, changed: Changed,
) -> dict[str, Any]:
    if kind == "accounts":
        owners = record_owners(conn, ctx, parsed)
        return {"owners_recorded": owners, "flagged_duplicates": flag_duplicates(conn, ctx)}
    if kind == "activities":
        touch_worked(conn, ctx, set(parsed.values.get("account_id", [])))
        refresh_activity_facts(conn, ctx, set(parsed.values.get("account_id", [])))
        return {}
    if kind == "opportunities":
        refresh_opportunity_facts(conn, ctx, set(parsed.values.get("account_id", [])))
        return {}
    if kind == "signals":
        raised = [after for _, after in changed.values() if after["type"] in ctx.config.routing.hand_raise_types]
        return {"routed": route_hand_raises(conn, ctx, sorted({r["account_id"] for r in raised}))}
    if kind == "reps":
        return {"distributed": fill_reps(conn, ctx, changed)}
    return {}
