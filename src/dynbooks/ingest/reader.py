"""Read one import CSV into typed rows, naming every bad row by line and column (SPEC §9, §10 "Imports").

Pure: reads a file, touches no database. The service layer checks what needs the database (unknown
account or rep ids) and moves those rows out with ``reject_rows``.

Format: UTF-8 (a BOM is stripped), a header row, ``,`` as the delimiter. As a courtesy ``;`` and tab are
accepted too (spreadsheets in many European locales save ``;``): the delimiter is guessed with
``csv.Sniffer`` from the header line alone, restricted to ``,``, ``;`` and tab, and ``,`` when in doubt.
Quoted cells may hold the delimiter, quotes (doubled) and newlines; line numbers are physical lines,
so a record that spans lines is named by the line where it starts.

Rules for every row:

- empty lines (and lines of only empty cells) are skipped;
- a row with more or fewer cells than the header is bad (``row has 5 cells, the header has 4``);
- a cell over 1 MiB is bad (a cell over 16 MiB makes the file unreadable and refuses it whole);
- cells are stripped; ``""`` and the null spellings ``#N/A N/A NULL null None`` are empty;
- an empty required cell is bad; an empty optional cell gives the key with value ``None``; a column
  the file does not have gives no key at all (so an upsert can tell "set to empty" from "not given");
- a repeated id (``account_id`` etc.) within one file makes the later row bad.

Columns that are neither known nor ``owner_<role>`` are kept as custom fields for accounts and
ignored for the other kinds (CRM exports carry many columns dynbooks has no use for).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from dynbooks.ingest.columns import ID_COLUMN, OWNER_PREFIX, SALESFORCE_ID_COLUMNS, SCHEMAS, Column
from dynbooks.ingest.model import KINDS, ParsedFile, RowError
from dynbooks.ingest.presets import PRESETS
from dynbooks.ingest.values import NULLS, coerce_custom, salesforce_id

__all__ = ["MAX_CELL_CHARS", "PROGRESS_EVERY", "derive_id", "read_csv"]

MAX_CELL_CHARS = 1 << 20
"""A longer cell is a bad row: no CRM field is that long, it is usually a quote left open."""
FIELD_SIZE_LIMIT = 16 << 20
"""csv's own limit, raised from 128 KiB so that an over-long cell is reported, not fatal."""
PROGRESS_EVERY = 10_000
NOT_UTF8 = "not UTF-8 text; save it as UTF-8"

Converter = Callable[[str], Any]
Plan = list[tuple[int, str, Converter | None, bool]]


def read_csv(
    path: Path,
    kind: str,
    *,
    mapping: dict[str, str] | None = None,
    preset: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ParsedFile:
    """Read ``path`` as a file of ``kind``; never raises for bad content, only records it.

    Columns are renamed by ``preset`` first, then by ``mapping`` (keyed by the file's header name or by
    the preset's output name; an entry for the header name wins over the preset). ``progress(n)`` is
    called after every ``PROGRESS_EVERY`` records. Raises ``ValueError`` for an unknown kind or
    preset and ``FileNotFoundError`` for a missing file.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (use one of {', '.join(KINDS)})")
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r} (use one of {', '.join(PRESETS)})")
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    try:
        return _read(path, kind, mapping or {}, preset, progress)
    except UnicodeDecodeError:
        error = RowError(_undecodable_line(path), "", NOT_UTF8)
        return ParsedFile(kind, path, [], [], [], [], [error], [])


def derive_id(*parts: str) -> str:
    """A stable id for a row without one: ``h:`` + sha1 of the parts joined by ``|``."""
    return "h:" + hashlib.sha1("|".join(parts).encode()).hexdigest()


def _read(
    path: Path,
    kind: str,
    mapping: dict[str, str],
    preset: str | None,
    progress: Callable[[int], None] | None,
) -> ParsedFile:
    with path.open(newline="", encoding="utf-8-sig") as f:
        first = f.readline()
        if not first.strip():
            error = RowError(1, "", "the first line must be the header row (the file is empty or starts blank)")
            return ParsedFile(kind, path, [], [], [], [], [error], [])
        delimiter = sniff_delimiter(first)
        reader = csv.reader(itertools.chain([first], f), delimiter=delimiter)
        header = next(reader)
        preset_map = PRESETS[preset][kind] if preset else {}
        columns = resolve_columns([h.strip() for h in header], preset_map, mapping)
        header_errors = _check_header(kind, columns)
        parsed = ParsedFile(kind, path, header, columns, [], [], header_errors, [], delimiter=delimiter)
        records = _records(reader)
        try:
            if header_errors:
                # Every row is unusable; keep them all for the rejects file.
                parsed.rejected.extend(records)
            else:
                _check_rows(parsed, records, preset == "salesforce", progress)
        except csv.Error as exc:
            line = reader.line_num + 1
            parsed.errors.append(RowError(line, "", f"the file cannot be read from here on ({exc})"))
            parsed.rows.clear()
            parsed.lines.clear()
    return parsed


def sniff_delimiter(header_line: str) -> str:
    """``,`` ``;`` or tab, guessed from the header line; ``,`` when the guess fails."""
    try:
        return csv.Sniffer().sniff(header_line, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def resolve_columns(header: list[str], preset: dict[str, str], mapping: dict[str, str]) -> list[str]:
    """The dynbooks name of each header column (see ``read_csv`` for the order of renaming).

    When two columns get the same name from the preset alone, the one listed first in the preset wins
    and the other keeps its header name.
    """
    columns: list[str] = []
    from_preset: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        if h in mapping:
            columns.append(mapping[h])
        elif h in preset:
            name = mapping.get(preset[h], preset[h])
            columns.append(name)
            from_preset.setdefault(name, []).append(i)
        else:
            columns.append(h)
    order = {h: k for k, h in enumerate(preset)}
    for name, idx in from_preset.items():
        others = [i for i, c in enumerate(columns) if c == name and i not in idx]
        if len(idx) > 1 and not others:
            keep = min(idx, key=lambda i: order[header[i]])
            for i in idx:
                if i != keep:
                    columns[i] = header[i]
    return columns


def _check_header(kind: str, columns: list[str]) -> list[RowError]:
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(columns, start=1):
        if not name:
            continue
        if name in seen:
            errors.append(RowError(1, name, f"column appears twice (columns {seen[name]} and {i})"))
        else:
            seen[name] = i
        if name == OWNER_PREFIX and kind == "accounts":
            errors.append(RowError(1, name, "an owner column needs a role, e.g. owner_sdr"))
    for name, col in SCHEMAS[kind].items():
        if col.required and name not in seen:
            errors.append(RowError(1, name, "required column is missing"))
    return errors


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for every non-empty record; ``reader`` is a csv.reader."""
    line_num: int = reader.line_num
    for cells in reader:
        start = line_num + 1
        line_num = reader.line_num
        if any(cells):
            yield start, cells


def _plan(kind: str, columns: list[str], salesforce: bool) -> tuple[Plan, list[tuple[int, str]]]:
    """Per column: (index, name, converter, required) once, so the row loop does no look-ups."""
    schema = SCHEMAS[kind]
    plan: Plan = []
    custom: list[tuple[int, str]] = []
    for i, name in enumerate(columns):
        if not name:
            continue
        col = schema.get(name)
        if col is None:
            if kind != "accounts":
                continue
            if not name.startswith(OWNER_PREFIX):
                custom.append((i, name))
                continue
            col = Column()
        conv = col.convert
        if salesforce and (name in SALESFORCE_ID_COLUMNS or name.startswith(OWNER_PREFIX)):
            conv = salesforce_id
        plan.append((i, name, conv, col.required))
    return plan, custom


def _check_rows(
    parsed: ParsedFile,
    records: Iterable[tuple[int, list[str]]],
    salesforce: bool,
    progress: Callable[[int], None] | None,
) -> None:
    kind, columns = parsed.kind, parsed.columns
    plan, custom_plan = _plan(kind, columns, salesforce)
    parsed.custom_columns = [name for _, name in custom_plan]
    width = len(columns)
    id_column = ID_COLUMN[kind]
    seen_ids: dict[str, int] = {}
    rows, lines, errors, rejected = parsed.rows, parsed.lines, parsed.errors, parsed.rejected
    nulls = NULLS
    accounts, reps = kind == "accounts", kind == "reps"
    derived = kind in ("activities", "signals")
    n = 0
    for line, cells in records:
        n += 1
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n)
        if len(cells) != width:
            errors.append(RowError(line, "", f"row has {len(cells)} cells, the header has {width}"))
            rejected.append((line, cells))
            continue
        if max(map(len, cells)) > MAX_CELL_CHARS:
            for i, cell in enumerate(cells):
                if len(cell) > MAX_CELL_CHARS:
                    errors.append(RowError(line, columns[i] or parsed.header[i], (
                        f"value is {len(cell):,} characters long, the limit is {MAX_CELL_CHARS:,} "
                        "(is a quote left open?)")))
            rejected.append((line, cells))
            continue
        row: dict[str, Any] = {}
        bad: list[RowError] | None = None
        for i, name, conv, required in plan:
            v = cells[i].strip()
            if v in nulls:
                if required:
                    bad = bad or []
                    bad.append(RowError(line, name, "required value is empty"))
                row[name] = None
                continue
            if conv is not None:
                try:
                    v = conv(v)
                except ValueError as exc:
                    bad = bad or []
                    bad.append(RowError(line, name, str(exc)))
                    continue
            row[name] = v
        if accounts:
            custom: dict[str, Any] = {}
            for i, name in custom_plan:
                v = cells[i].strip()
                custom[name] = None if v in nulls else coerce_custom(v)
            row["custom"] = custom
            row["duplicate_key"] = row.get("domain")
        elif reps and row.get("active") is None:
            row["active"] = True
        key = row.get(id_column)
        if key is not None:
            first = seen_ids.setdefault(key, line)
            if first != line:
                bad = bad or []
                bad.append(RowError(line, id_column, f"duplicate {id_column} {key!r} (first on line {first})"))
        elif derived and bad is None:
            row[id_column] = _derived_id(kind, row)
        if bad is None:
            rows.append(row)
            lines.append(line)
        else:
            errors.extend(bad)
            rejected.append((line, cells))


def _derived_id(kind: str, row: dict[str, Any]) -> str:
    """Activities: account|rep|type|time; signals: account|type|time (time as ISO UTC).

    Two rows without an id that agree on these are the same fact and get the same id; they are not an
    error (the upsert keeps one).
    """
    when = row["occurred_at"].isoformat()
    if kind == "activities":
        return derive_id(row["account_id"], row["rep_id"], row["type"], when)
    return derive_id(row["account_id"], row["type"], when)


def _undecodable_line(path: Path) -> int:
    """The physical line (1-based) holding the first byte that is not UTF-8."""
    data = path.read_bytes()
    offset = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        data[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, offset + exc.start) + 1
    return 1
