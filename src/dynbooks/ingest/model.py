"""The plain data an import produces: typed good rows, and every problem found, by line and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "IngestError", "ParsedFile", "RowError"]

KINDS = ("accounts", "reps", "activities", "signals", "opportunities")


@dataclass(frozen=True)
class RowError:
    """One problem in one record.

    ``line`` is the physical line where the record starts (the header is line 1); ``column`` is the
    column's name after mapping, or ``""`` when the whole row is wrong.
    """

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass
class ParsedFile:
    """A CSV file read and checked row by row; nothing has touched a database yet.

    The good rows are held column by column: ``values[name][i]`` is the typed value of column ``name`` in
    the ``i``-th good row, in file order, and ``lines[i]`` that row's line. Every good row has the same
    columns (a column the file does not have is absent; an empty cell is ``None``). ``rows`` gives them as
    one dict per row, for callers with a few rows; a million-row import never builds them.
    ``errors`` holds every problem, sorted by line; ``rejected`` the original cells of every bad row.
    A problem with the whole file (not UTF-8, a missing required column) is an error on line 1 (or on
    the line where decoding failed) and leaves no good row.
    """

    kind: str
    path: Path
    header: list[str]
    columns: list[str]
    values: dict[str, list[Any]]
    lines: list[int]
    errors: list[RowError]
    rejected: list[tuple[int, list[str]]]
    custom_columns: list[str] = field(default_factory=list)
    delimiter: str = ","

    @property
    def ok(self) -> bool:
        """True when the file has no problem at all."""
        return not self.errors

    @property
    def count(self) -> int:
        """How many good rows."""
        return len(self.lines)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The good rows as one dict each (built on each call: for small files and tests)."""
        names = list(self.values)
        return [dict(zip(names, row, strict=True)) for row in zip(*self.values.values(), strict=True)]


class IngestError(ValueError):
    """A file that cannot be used at all (e.g. a bad mapping file); ``errors`` names each problem."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))
