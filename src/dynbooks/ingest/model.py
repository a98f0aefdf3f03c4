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

    ``rows`` holds the good rows, typed, in file order, with ``lines[i]`` the line of ``rows[i]``.
    ``errors`` holds every problem, sorted by line; ``rejected`` the original cells of every bad row.
    A problem with the whole file (not UTF-8, a missing required column) is an error on line 1 (or on
    the line where decoding failed) and leaves ``rows`` empty.
    """

    kind: str
    path: Path
    header: list[str]
    columns: list[str]
    rows: list[dict[str, Any]]
    lines: list[int]
    errors: list[RowError]
    rejected: list[tuple[int, list[str]]]
    custom_columns: list[str] = field(default_factory=list)
    delimiter: str = ","

    @property
    def ok(self) -> bool:
        """True when the file has no problem at all."""
        return not self.errors


class IngestError(ValueError):
    """A file that cannot be used at all (e.g. a bad mapping file); ``errors`` names each problem."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))
