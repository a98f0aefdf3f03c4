"""Bad rows after the fact: rows the service finds bad against the database, and the rejects file."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from dynbooks.ingest.model import ParsedFile, RowError
from dynbooks.ingest.reader import FIELD_SIZE_LIMIT, _records

__all__ = ["reject_rows", "write_rejects"]


def reject_rows(parsed: ParsedFile, errors: list[RowError]) -> ParsedFile:
    """A copy of ``parsed`` with the rows on the lines of ``errors`` moved from ``rows`` to ``rejected``.

    For problems found later, e.g. an account id the database does not know. ``errors`` and
    ``rejected`` stay sorted by line (errors of one line in the order they were found). The original
    cells of the newly rejected rows are read again from ``parsed.path``.
    """
    bad_lines = {e.line for e in errors}
    moved = bad_lines.intersection(parsed.lines)
    keep = [k for k, line in enumerate(parsed.lines) if line not in bad_lines] if moved else []
    cells = _cells_on(parsed, moved) if moved else {}
    if not moved:  # nothing leaves the good rows: they are shared, not copied (neither copy is changed)
        values, lines = parsed.values, parsed.lines
    else:
        values = {name: [column[k] for k in keep] for name, column in parsed.values.items()}
        lines = [parsed.lines[k] for k in keep]
    return replace(
        parsed,
        values=values,
        lines=lines,
        errors=sorted([*parsed.errors, *errors], key=lambda e: e.line),
        rejected=sorted([*parsed.rejected, *((line, cells[line]) for line in sorted(moved))], key=lambda r: r[0]),
    )


def write_rejects(parsed: ParsedFile, path: Path, extra_errors: dict[int, str] | None = None) -> None:
    """Write the rejected rows with their original header plus an ``error`` column.

    The error text of a row is every error on its line (``line N, column C: why``, joined by ``; ``),
    then ``extra_errors[line]``; a row with no error of its own (the header was unusable) carries the
    header's errors. A short row is padded with empty cells so that ``error`` lines up; a long row keeps
    its extra cells after ``error``.
    """
    extra = extra_errors or {}
    by_line: dict[int, list[str]] = {}
    for e in parsed.errors:
        by_line.setdefault(e.line, []).append(str(e))
    file_errors = "; ".join(by_line.get(1, []))
    width = len(parsed.header)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*parsed.header, "error"])
        for line, cells in parsed.rejected:
            texts = list(by_line.get(line, []))
            if line in extra:
                texts.append(extra[line])
            text = "; ".join(texts) or file_errors
            padded = cells[:width] + [""] * (width - len(cells))
            writer.writerow([*padded, text, *cells[width:]])


def _cells_on(parsed: ParsedFile, wanted: set[int]) -> dict[int, list[str]]:
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    found: dict[int, list[str]] = {}
    with parsed.path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=parsed.delimiter)
        next(reader, None)
        for line, cells in _records(reader):
            if line in wanted:
                found[line] = cells
                if len(found) == len(wanted):
                    break
    return found
