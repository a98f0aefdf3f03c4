"""Printing: rich tables for people, one JSON document for scripts, errors on stderr (SPEC §9, §10)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from dynbooks.domain.errors import DynbooksError

__all__ = ["emit", "emit_error", "safe_cell", "table", "write_csv"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def emit(document: Any, as_json: bool, human: str | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(document, default=_default, ensure_ascii=False) + "\n")
    elif human is not None:
        out.print(human)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r))
    out.print(t)


def emit_error(exc: DynbooksError, as_json: bool) -> int:
    err.print(f"[bold red]error:[/] {exc.message}", markup=True)
    for line in exc.details[:200]:
        err.print(f"  {line}", markup=False)
    if len(exc.details) > 200:
        err.print(f"  … and {len(exc.details) - 200} more")
    if as_json:
        sys.stdout.write(json.dumps({"error": {"exit_code": exc.exit_code, "message": exc.message,
                                               "details": exc.details}}) + "\n")
    return exc.exit_code


def safe_cell(value: Any) -> Any:
    """Spreadsheet formula injection: a text cell starting with = + - @ is prefixed with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        if value[:1] in "+-" and _is_number(value):
            return value
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_csv(rows: Iterable[Sequence[Any]], stream: TextIO) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    n = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        n += 1
    return max(0, n - 1)
