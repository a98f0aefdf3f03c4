"""The ``--mapping FILE``: a CSV with columns ``from,to`` that renames the import's columns."""

from __future__ import annotations

import csv
from pathlib import Path

from dynbooks.ingest.model import IngestError, RowError
from dynbooks.ingest.reader import NOT_UTF8, _records, _undecodable_line, sniff_delimiter

__all__ = ["read_mapping"]


def read_mapping(path: Path) -> dict[str, str]:
    """``{from: to}`` from a mapping file; raises ``IngestError`` naming every bad line and column.

    ``from`` is a column name as the import file's header writes it, ``to`` the dynbooks column it
    stands for. Names are stripped; a ``from`` listed twice or an empty cell is an error; extra columns
    are ignored.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            first = f.readline()
            f.seek(0)
            reader = csv.reader(f, delimiter=sniff_delimiter(first))
            header = [h.strip().lower() for h in next(reader, [])]
            missing = [c for c in ("from", "to") if c not in header]
            if missing:
                raise IngestError([RowError(1, c, "required column is missing") for c in missing])
            i_from, i_to = header.index("from"), header.index("to")
            result: dict[str, str] = {}
            first_line: dict[str, int] = {}
            errors: list[RowError] = []
            for line, cells in _records(reader):
                if len(cells) != len(header):
                    errors.append(RowError(line, "", f"row has {len(cells)} cells, the header has {len(header)}"))
                    continue
                src, dst = cells[i_from].strip(), cells[i_to].strip()
                if not src:
                    errors.append(RowError(line, "from", "required value is empty"))
                if not dst:
                    errors.append(RowError(line, "to", "required value is empty"))
                if not (src and dst):
                    continue
                if src in first_line:
                    errors.append(RowError(line, "from", f"{src!r} is mapped twice (first on line {first_line[src]})"))
                    continue
                first_line[src] = line
                result[src] = dst
    except UnicodeDecodeError:
        raise IngestError([RowError(_undecodable_line(path), "", NOT_UTF8)]) from None
    if errors:
        raise IngestError(errors)
    return result
