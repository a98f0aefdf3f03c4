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
import collections
import csv
import gc
import hashlib
import io
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynbooks.ingest.columns import (
    ID_COLUMN,
    OWNER_PREFIX,
    SALESFORCE_ID_COLUMNS,
    SCHEMAS,
    BatchConverter,
    Column,
    Converter,
)
from dynbooks.ingest.model import KINDS, ParsedFile, RowError
from dynbooks.ingest.presets import PRESETS
from dynbooks.ingest.values import NULLS, coerce_custom, customs, salesforce_id

__all__ = ["MAX_CELL_CHARS", "PROGRESS_EVERY", "derive_id", "read_csv"]

MAX_CELL_CHARS = 1 << 20
"""A longer cell is a bad row: no CRM field is that long, it is usually a quote left open."""
FIELD_SIZE_LIMIT = 16 << 20
"""csv's own limit, raised from 128 KiB so that an over-long cell is reported, not fatal."""
PROGRESS_EVERY = 10_000
_NULL_TO_NONE: dict[str, None] = dict.fromkeys(NULLS)
NOT_UTF8 = "not UTF-8 text; save it as UTF-8"


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
    _ready(kind, preset)
    try:
        return _read(path, kind, mapping or {}, preset, progress)
    except UnicodeDecodeError:
        error = RowError(_undecodable_line(path), "", NOT_UTF8)
        return ParsedFile(kind, path, [], [], {}, [], [error], [])


def read_csv_text(text: str, kind: str, *, name: str = "<rows>", delimiter: str | None = None) -> ParsedFile:
    """:func:`read_csv` of CSV text held in memory (a webhook delivery's rows): the same rules, no file.
    ``delimiter``: the one the text was written with (else guessed from the header, as for a file)."""
    _ready(kind, None)
    return _read(Path(name), kind, {}, None, None, text=text, delimiter=delimiter)


def _ready(kind: str, preset: str | None) -> None:
    """Refuse an unknown kind or preset (``ValueError``); let the csv module read long cells."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (use one of {', '.join(KINDS)})")
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r} (use one of {', '.join(PRESETS)})")
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)


def derive_id(*parts: str) -> str:
    """A stable id for a row without one: ``h:`` + sha1 of the parts joined by ``|``."""
    return "h:" + hashlib.sha1("|".join(parts).encode()).hexdigest()


def _read(
    path: Path,
    kind: str,
    mapping: dict[str, str],
    preset: str | None,
    progress: Callable[[int], None] | None,
    text: str | None = None,
    delimiter: str | None = None,
) -> ParsedFile:
    with (path.open(newline="", encoding="utf-8-sig") if text is None else io.StringIO(text, newline="")) as f:
        first = f.readline()
        if not first.strip():
            error = RowError(1, "", "the first line must be the header row (the file is empty or starts blank)")
            return ParsedFile(kind, path, [], [], {}, [], [error], [])
        delimiter = delimiter or sniff_delimiter(first)
        reader = csv.reader(itertools.chain([first], f), delimiter=delimiter)
        header = next(reader)
        preset_map = PRESETS[preset][kind] if preset else {}
        columns = resolve_columns([h.strip() for h in header], preset_map, mapping)
        header_errors = _check_header(kind, columns)
        parsed = ParsedFile(kind, path, header, columns, {}, [], header_errors, [], delimiter=delimiter)
        try:
            if header_errors:
                # Every row is unusable; keep them all for the rejects file.
                parsed.rejected.extend(_records(reader))
            else:
                _check_rows(parsed, _chunks(reader, PROGRESS_EVERY), preset == "salesforce", progress)
        except csv.Error as exc:
            # The physical line where reading stopped; the record may have started earlier.
            line = max(reader.line_num, 2)
            parsed.errors.append(RowError(line, "", f"the file cannot be read from here on ({exc})"))
            parsed.values.clear()
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


@dataclass(frozen=True)
class _Step:
    """How one column is read: its index in the row, its name, and its converters."""

    index: int
    name: str
    convert: Converter | None
    batch: BatchConverter | None
    required: bool


def _plan(kind: str, columns: list[str], salesforce: bool) -> tuple[list[_Step], list[_Step]]:
    """The known columns and (accounts) the custom columns, worked out once per file."""
    schema = SCHEMAS[kind]
    plan: list[_Step] = []
    custom: list[_Step] = []
    for i, name in enumerate(columns):
        if not name:
            continue
        col = schema.get(name)
        if col is None:
            if kind != "accounts":
                continue
            if not name.startswith(OWNER_PREFIX):
                custom.append(_Step(i, name, coerce_custom, customs, False))
                continue
            col = Column()
        if salesforce and (name in SALESFORCE_ID_COLUMNS or name.startswith(OWNER_PREFIX)):
            plan.append(_Step(i, name, salesforce_id, None, col.required))
        else:
            plan.append(_Step(i, name, col.convert, col.batch, col.required))
    return plan, custom


Chunk = tuple[list[int], list[list[str]]]
"""Start lines and cells of consecutive non-empty records."""


def _chunks(reader: Any, size: int) -> Iterator[Chunk]:
    """``_records`` in chunks of up to ``size`` records, without Python work per record in the common case.

    ``reader.line_num`` counts physical lines read. When a chunk of records used as many lines as it
    holds records (no quoted newlines), record k starts on line ``before + 1 + k``; otherwise each
    record's span is 1 plus the line breaks (``\r\n``, ``\n`` or ``\r``, as the file splits lines)
    inside its cells.
    """
    while True:
        before: int = reader.line_num
        raw: list[list[str]] = list(itertools.islice(reader, size))
        if not raw:
            return
        after: int = reader.line_num
        if after - before == len(raw):
            starts: Iterable[int] = range(before + 1, after + 1)
        else:
            starts = _start_lines(before, raw)
        keep = list(map(any, raw))
        if all(keep):
            yield list(starts), raw
        elif any(keep):
            yield list(itertools.compress(starts, keep)), list(itertools.compress(raw, keep))


def _start_lines(before: int, raw: list[list[str]]) -> list[int]:
    starts = []
    line = before + 1
    for cells in raw:
        starts.append(line)
        line += 1
        for cell in cells:
            if "\n" in cell or "\r" in cell:
                line += cell.count("\n") + cell.count("\r") - cell.count("\r\n")
    return starts


def _check_rows(
    parsed: ParsedFile,
    chunks: Iterator[Chunk],
    salesforce: bool,
    progress: Callable[[int], None] | None,
) -> None:
    """Check and type every record, a chunk of ``PROGRESS_EVERY`` at a time, column by column.

    Working column-wise lets the common case (every cell fine) run in C (``map(int, …)``); only a
    column that holds a bad cell is converted cell by cell, to name each bad cell. The cyclic garbage
    collector is paused meanwhile: a million freshly built dicts would otherwise trigger it thousands
    of times for nothing (none of them forms a cycle).
    """
    plan, custom_plan = _plan(parsed.kind, parsed.columns, salesforce)
    parsed.custom_columns = [step.name for step in custom_plan]
    checker = _Checker(parsed, plan, custom_plan)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        n = 0
        for lines, rows in chunks:
            checker.check(lines, rows)
            n += len(rows)
            if progress is not None and n // PROGRESS_EVERY > (n - len(rows)) // PROGRESS_EVERY:
                progress(n // PROGRESS_EVERY * PROGRESS_EVERY)
    finally:
        if gc_was_enabled:
            gc.enable()


class _Checker:
    def __init__(self, parsed: ParsedFile, plan: list[_Step], custom_plan: list[_Step]) -> None:
        self.parsed = parsed
        self.plan = plan
        self.custom_plan = custom_plan
        self.width = len(parsed.columns)
        self.id_column = ID_COLUMN[parsed.kind]
        self.seen_ids: dict[str, int] = {}

    def check(self, lines: list[int], chunk: list[list[str]]) -> None:
        parsed, width = self.parsed, self.width
        errs: dict[int, list[RowError]] = {}  # chunk index -> its errors, in column order
        if min(map(len, chunk)) != width or max(map(len, chunk)) != width:
            for k, cells in enumerate(chunk):
                if len(cells) != width:
                    errs[k] = [RowError(lines[k], "", f"row has {len(cells)} cells, the header has {width}")]
        ok = [k for k in range(len(chunk)) if k not in errs] if errs else list(range(len(chunk)))
        cols = self._transpose(chunk, ok)
        # A column's total length bounds its longest cell: one C call per column in the common case.
        if any(len("".join(col)) > MAX_CELL_CHARS and max(map(len, col)) > MAX_CELL_CHARS for col in cols):
            self._too_long(lines, chunk, ok, errs)
            ok = [k for k in ok if k not in errs]
            cols = self._transpose(chunk, ok)
        row_lines = lines if len(ok) == len(lines) else list(map(lines.__getitem__, ok))

        def bad(j: int, column: str, message: str) -> None:
            errs.setdefault(ok[j], []).append(RowError(row_lines[j], column, message))

        names = [step.name for step in self.plan]
        values = [self._column(step, cols[step.index], bad) for step in self.plan]
        self._extras(names, values, cols, row_lines, bad)

        good = [j for j in range(len(ok)) if ok[j] not in errs] if errs else None
        good_lines = row_lines
        if good is not None:
            values = [list(map(column.__getitem__, good)) for column in values]
            good_lines = list(map(row_lines.__getitem__, good))
        if parsed.kind in ("activities", "signals"):
            self._derive_ids(names, values)
        for name, column in zip(names, values, strict=True):
            parsed.values.setdefault(name, []).extend(column)
        parsed.lines.extend(good_lines)
        for k in sorted(errs):
            parsed.errors.extend(errs[k])
            parsed.rejected.append((lines[k], chunk[k]))

    def _derive_ids(self, names: list[str], values: list[list[Any]]) -> None:
        """Rows without an id (or all rows, when the file has no id column) get one derived from their
        content (see :func:`_derived_id`)."""
        if self.id_column not in names:
            names.append(self.id_column)
            values.append([None] * (len(values[0]) if values else 0))
        ids = values[names.index(self.id_column)]
        if None not in ids:
            return
        at = {name: k for k, name in enumerate(names)}
        for j, key in enumerate(ids):
            if key is None:
                ids[j] = _derived_id(self.parsed.kind, {name: values[k][j] for name, k in at.items()})

    def _transpose(self, chunk: list[list[str]], ok: list[int]) -> list[tuple[str, ...]]:
        if not ok:
            return [() for _ in range(self.width)]
        if len(ok) == len(chunk):
            return list(zip(*chunk, strict=True))
        return list(zip(*map(chunk.__getitem__, ok), strict=True))

    def _too_long(self, lines: list[int], chunk: list[list[str]], ok: list[int],
                  errs: dict[int, list[RowError]]) -> None:
        """Reject rows with an over-long cell outright: converting a megabyte of text helps nobody."""
        columns, header = self.parsed.columns, self.parsed.header
        for k in ok:
            line, cells = lines[k], chunk[k]
            for i, cell in enumerate(cells):
                if len(cell) > MAX_CELL_CHARS:
                    errs.setdefault(k, []).append(RowError(line, columns[i] or header[i], (
                        f"value is {len(cell):,} characters long, the limit is {MAX_CELL_CHARS:,} "
                        "(is a quote left open?)")))

    @staticmethod
    def _column(step: _Step, raw: tuple[str, ...], bad: Callable[[int, str, str], None]) -> list[Any]:
        """One column of the chunk, typed; ``None`` for empty (and for bad) cells.

        Only C-level calls per cell (``map``, ``compress``); Python runs per empty or bad cell only.
        """
        cells: list[Any] = list(map(str.strip, raw))
        present: list[int] | None = None  # positions of non-empty cells, when some are empty
        if not NULLS.isdisjoint(cells):
            cells = list(map(_NULL_TO_NONE.get, cells, cells))  # a null spelling -> None, else itself
            if step.required:
                for j in itertools.compress(range(len(cells)), map(operator.is_, cells, itertools.repeat(None))):
                    bad(j, step.name, "required value is empty")
            if step.convert is not None:
                present = list(itertools.compress(range(len(cells)), cells))
        conv = step.convert
        if conv is None:
            return _shared(cells)
        todo = cells if present is None else list(map(cells.__getitem__, present))
        try:
            done = step.batch(todo) if step.batch is not None else list(map(conv, todo))
        except (ValueError, KeyError):
            done = []
            for j, v in zip(present if present is not None else range(len(todo)), todo, strict=True):
                try:
                    done.append(conv(v))
                except ValueError as exc:
                    done.append(None)
                    bad(j, step.name, str(exc))
        if present is None:
            return done
        collections.deque(map(cells.__setitem__, present, done), maxlen=0)  # scatter back, in C
        return cells

    def _extras(
        self,
        names: list[str],
        values: list[list[Any]],
        cols: list[tuple[str, ...]],
        row_lines: list[int],
        bad: Callable[[int, str, str], None],
    ) -> None:
        """Kind-specific columns (custom fields, defaults) and the repeated-id check."""
        kind, n = self.parsed.kind, len(row_lines)
        if kind == "accounts":
            custom_names = [step.name for step in self.custom_plan]
            custom_values = [self._column(step, cols[step.index], bad) for step in self.custom_plan]
            customs_ = _custom_dicts(custom_names, custom_values)
            names += ["custom", "duplicate_key"]
            domain = values[names.index("domain")] if "domain" in names else [None] * n
            values += [customs_ if custom_values else [{} for _ in range(n)], domain]
        elif kind == "reps":
            if "active" in names:
                k = names.index("active")
                values[k] = [True if v is None else v for v in values[k]]
            else:
                names.append("active")
                values.append([True] * n)
        if self.id_column in names:
            self._repeated_ids(values[names.index(self.id_column)], row_lines, bad)

    def _repeated_ids(self, ids: list[Any], row_lines: list[int], bad: Callable[[int, str, str], None]) -> None:
        """The first row with an id keeps it; a later one is bad, even when the first is bad itself."""
        seen, name = self.seen_ids, self.id_column
        if None not in ids and len(set(ids)) == len(ids) and seen.keys().isdisjoint(ids):
            seen.update(zip(ids, row_lines, strict=True))
            return
        for j, key in enumerate(ids):
            if key is None:
                continue
            first = seen.setdefault(key, row_lines[j])
            if first != row_lines[j]:
                bad(j, name, f"duplicate {name} {key!r} (first on line {first})")


def _shared(cells: list[Any]) -> list[Any]:
    """A text column with its repeated values as one object each (industry, country, an owner's id: a
    million rows hold a few hundred distinct values, not a million copies of them); a column of mostly
    distinct values is returned as it is."""
    seen: dict[Any, Any] = {}
    shared = list(map(seen.setdefault, cells, cells))  # the first object for each value, in C
    return shared if 2 * len(seen) <= len(cells) else cells


def _custom_dicts(names: list[str], columns: list[list[Any]]) -> list[dict[str, Any]]:
    """Each row's custom fields as a dict; rows with the same values share one dict (a million rows of a
    yes/no column hold two dicts, not a million). The dicts are read-only by contract."""
    if not columns:
        return []
    rows = list(zip(*columns, strict=True))
    try:
        distinct = {row: dict(zip(names, row, strict=True)) for row in set(rows)}
    except TypeError:  # an unhashable value: cannot happen with the converters of today, but stay safe
        return [dict(zip(names, row, strict=True)) for row in rows]
    if 2 * len(distinct) > len(rows):
        return [dict(zip(names, row, strict=True)) for row in rows]
    return list(map(distinct.__getitem__, rows))


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
