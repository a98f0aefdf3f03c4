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

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from dynbooks.domain.errors import InvalidInput, NotFound
from dynbooks.ingest import IngestError, ParsedFile, RowError, read_csv, read_mapping, reject_rows, write_rejects
from dynbooks.services.context import Context
from dynbooks.services.history import naive
from dynbooks.services.imports_effects import (
    chunks,
    fill_reps,
    flag_duplicates,
    record_owners,
    route_hand_raises,
    touch_worked,
)
from dynbooks.store.schema import accounts, activities, opportunities, reps, signals

__all__ = ["import_file"]

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
        rows = [_to_record(kind, r, ctx) for r in parsed.rows]
        counts, changed = _upsert(conn, table, key, rows)
        result: dict[str, Any] = {**counts, "rejected": len({line for line, _ in parsed.rejected})}
        result |= _effects(conn, ctx, kind, parsed, changed)
    if skip_invalid and parsed.rejected:
        target = rejects or Path(f"{path}.rejects.csv")
        write_rejects(parsed, target)
        result["rejects_file"] = str(target)
    return result


def _to_record(kind: str, row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    table, _ = TABLES[kind]
    record = {c: row[c] for c in row if c in table.c and c not in ("custom", "updated_at")}
    for column, value in record.items():
        if isinstance(value, datetime) and value.tzinfo is not None:
            record[column] = naive(value.astimezone(UTC))
    if kind == "accounts" and row.get("custom"):
        record["custom"] = row["custom"]
    if kind == "reps":
        rule = ctx.config.rules[row["book_rule"]]
        record["role"] = rule.role
        record.setdefault("active", True)
    if kind in ("accounts", "reps"):
        record["updated_at"] = naive(ctx.now.stamp)
    return record


def _upsert(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> tuple[dict[str, int], dict[
    str, tuple[dict[str, Any] | None, dict[str, Any]]]
]:
    """Insert new ids, update changed ones, count equal ones; ``changed`` maps id → (before, after)."""
    existing: dict[str, dict[str, Any]] = {}
    ids = [r[key] for r in rows]
    for chunk in chunks(ids):
        for found in conn.execute(select(table).where(table.c[key].in_(chunk))).mappings():
            existing[found[key]] = dict(found)
    new: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    changed: dict[str, tuple[dict[str, Any] | None, dict[str, Any]]] = {}
    unchanged = 0
    for row in rows:
        before = existing.get(row[key])
        if before is None:
            new.append(row)
            changed[row[key]] = (None, row)
            continue
        if all(before.get(c) == v for c, v in row.items() if c != "updated_at"):
            unchanged += 1
            continue
        changed_rows.append(row)
        changed[row[key]] = (before, row)
    # Rows of one executemany must share their keys: fill the missing ones with None.
    columns = sorted({c for r in new for c in r})
    if new:
        conn.execute(insert(table), [{c: r.get(c) for c in columns} for r in new])
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in changed_rows:
        by_shape.setdefault(tuple(sorted(row)), []).append(row)
    for shape, group in by_shape.items():
        values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in shape if c != key}
        conn.execute(
            update(table).where(table.c[key] == bindparam("k")).values(**values),
            [{"k": r[key], **{f"v_{c}": r[c] for c in shape if c != key}} for r in group],
        )
    return {"inserted": len(new), "updated": len(changed_rows), "unchanged": unchanged}, changed


def _known(conn: Connection, table: Table, key: str, ids: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(ids)
    for chunk in chunks(ordered):
        found.update(conn.execute(select(table.c[key]).where(table.c[key].in_(chunk))).scalars())
    return found


def _reference_errors(conn: Connection, ctx: Context, parsed: ParsedFile) -> list[RowError]:
    """Rows that name an unknown account, rep, book rule or role are bad rows (SPEC §10 Imports)."""
    errors: list[RowError] = []
    rows, lines = parsed.rows, parsed.lines
    if parsed.kind == "reps":
        for row, line in zip(rows, lines, strict=True):
            if row["book_rule"] not in ctx.config.rules:
                errors.append(RowError(line, "book_rule", f"no book rule named {row['book_rule']!r} in the config"))
        return errors
    if parsed.kind == "accounts":
        owner_cols = [c for c in parsed.columns if c.startswith("owner_")]
        if not owner_cols:
            return errors
        rep_roles = dict(conn.execute(select(reps.c.rep_id, reps.c.role)).all())
        for row, line in zip(rows, lines, strict=True):
            for col in owner_cols:
                rep_id = row.get(col)
                role = col.removeprefix("owner_")
                if not rep_id:
                    continue
                if role not in ctx.config.roles:
                    errors.append(RowError(line, col, f"no book rule has role {role!r}"))
                elif rep_id not in rep_roles:
                    errors.append(RowError(line, col, f"unknown rep {rep_id!r} (import reps first)"))
                elif rep_roles[rep_id] != role:
                    errors.append(RowError(line, col, f"rep {rep_id!r} has role {rep_roles[rep_id]!r}, not {role!r}"))
        return errors
    known_accounts = _known(conn, accounts, "account_id", {r["account_id"] for r in rows})
    known_reps = _known(conn, reps, "rep_id", {r["rep_id"] for r in rows if r.get("rep_id")})
    for row, line in zip(rows, lines, strict=True):
        if row["account_id"] not in known_accounts:
            errors.append(RowError(line, "account_id", f"unknown account {row['account_id']!r}"))
        if row.get("rep_id") and row["rep_id"] not in known_reps:
            errors.append(RowError(line, "rep_id", f"unknown rep {row['rep_id']!r}"))
    return errors


def _effects(
    conn: Connection, ctx: Context, kind: str, parsed: ParsedFile,
    changed: dict[str, tuple[dict[str, Any] | None, dict[str, Any]]],
) -> dict[str, Any]:
    if kind == "accounts":
        owners = record_owners(conn, ctx, parsed)
        return {"owners_recorded": owners, "flagged_duplicates": flag_duplicates(conn, ctx)}
    if kind == "activities":
        touch_worked(conn, ctx, {r["account_id"] for r in parsed.rows})
        return {}
    if kind == "signals":
        raised = [after for _, after in changed.values() if after["type"] in ctx.config.routing.hand_raise_types]
        return {"routed": route_hand_raises(conn, ctx, sorted({r["account_id"] for r in raised}))}
    if kind == "reps":
        return {"distributed": fill_reps(conn, ctx, changed)}
    return {}
