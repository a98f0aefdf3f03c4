"""Use case: activities and signals pushed by a CRM as JSON rows (SPEC §9 HTTP API webhooks).

The rows have the CSV columns of their kind and pass through exactly the rules of a CSV import: the
ingest layer converts and checks every cell (the rows are written as CSV and read by
:func:`dynbooks.ingest.read_csv`), the import service checks ids against the database, upserts, and
sets the same effects in motion (meaningful activities move retrieval clocks, hand-raise signals route
their accounts at once). All or nothing: one bad row refuses the delivery, naming ``row I, column C``
(rows counted from 0).

Idempotency: with a key, the answer is stored in the ``idempotency`` table in the same transaction as
the effect; a repeat with the same key and the same body has no second effect and gets the first answer,
a repeat with the same key and another body is refused. Without a key, ids still dedupe: a row with the
``activity_id``/``signal_id`` of a stored one (or, without an id, the same account, type and time)
changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from dynbooks.domain.errors import InvalidInput
from dynbooks.ingest import ParsedFile, RowError, read_csv, reject_rows
from dynbooks.services.context import Context
from dynbooks.services.history import naive
from dynbooks.services.imports import TABLES, _effects, _reference_errors, _to_record, _upsert
from dynbooks.store.schema import idempotency

__all__ = ["WEBHOOK_KINDS", "ingest_rows"]

WEBHOOK_KINDS = ("activities", "signals")
MAX_ROWS = 10_000


def _cell(value: Any, i: int, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise InvalidInput("bad rows; nothing was written", [f"row {i}, column {column}: must be text, a number, "
                                                         "true/false or null"])


def _write(rows: list[dict[str, Any]], path: Path) -> dict[int, int]:
    """Write ``rows`` as CSV; returns the physical start line of each row → its index."""
    columns = list(dict.fromkeys(c for r in rows for c in r))
    line_of: dict[int, int] = {}
    line = 2
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for i, row in enumerate(rows):
            cells = [_cell(row.get(c), i, c) for c in columns]
            line_of[line] = i
            line += 1 + sum(c.count("\n") + c.count("\r") for c in cells)
            writer.writerow(cells)
    return line_of


def _row_errors(errors: list[RowError], line_of: dict[int, int]) -> list[str]:
    out = []
    for e in errors:
        where = f"row {line_of[e.line]}" if e.line in line_of else "rows"
        out.append(f"{where}, column {e.column}: {e.message}" if e.column else f"{where}: {e.message}")
    return out


def _fingerprint(kind: str, rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps([kind, rows], sort_keys=True, default=str).encode()).hexdigest()


def ingest_rows(ctx: Context, kind: str, rows: list[dict[str, Any]], *,
                idempotency_key: str | None = None) -> dict[str, Any]:
    """Import ``rows`` of ``kind`` (activities or signals); returns
    ``{"inserted", "updated", "unchanged", "rejected", ...}`` as an import does (signals add ``routed``),
    plus ``"replayed": true`` when the answer is the stored answer to an earlier delivery of the same key."""
    if kind not in WEBHOOK_KINDS:
        raise InvalidInput(f"unknown webhook kind {kind!r}; use one of {', '.join(WEBHOOK_KINDS)}")
    if not rows:
        raise InvalidInput("no rows: send a JSON list of at least one row")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"{len(rows)} rows: at most {MAX_ROWS} in one delivery")
    fingerprint = _fingerprint(kind, rows)
    key = None if idempotency_key is None else f"webhooks/{kind}:{idempotency_key}"
    if key is not None and len(key) > 200:
        raise InvalidInput("the Idempotency-Key is too long (at most 150 characters)")
    fd, name = tempfile.mkstemp(prefix=f"dynbooks-{kind}-", suffix=".csv")
    os.close(fd)
    path = Path(name)
    try:
        line_of = _write(rows, path)
        parsed = read_csv(path, kind)
        return _apply(ctx, kind, parsed, line_of, key, fingerprint)
    finally:
        path.unlink(missing_ok=True)


def _apply(ctx: Context, kind: str, parsed: ParsedFile, line_of: dict[int, int], key: str | None,
           fingerprint: str) -> dict[str, Any]:
    table, id_column = TABLES[kind]
    with ctx.writing(lock=True) as conn:
        if key is not None:
            stored = conn.execute(select(idempotency.c.response).where(idempotency.c.key == key)).scalar()
            if stored is not None:
                if stored.get("request") != fingerprint:
                    raise InvalidInput("this Idempotency-Key was already used for a different delivery")
                return dict(stored["answer"]) | {"replayed": True}
        parsed = reject_rows(parsed, _reference_errors(conn, ctx, parsed))
        if parsed.errors:
            bad = len({e.line for e in parsed.errors})
            raise InvalidInput(f"{bad} bad row{'s' if bad != 1 else ''}; nothing was written",
                               _row_errors(parsed.errors, line_of))
        records = [_to_record(kind, r, ctx) for r in parsed.rows]
        counts, changed = _upsert(conn, table, id_column, records)
        answer: dict[str, Any] = {**counts, "rejected": 0, **_effects(conn, ctx, kind, parsed, changed)}
        if key is not None:
            conn.execute(insert(idempotency).values(key=key, response={"request": fingerprint, "answer": answer},
                                                    created_at=naive(ctx.now.stamp)))
    return answer | {"replayed": False}
