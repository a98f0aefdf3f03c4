"""Activity deliveries that arrive together, applied in one transaction as one set (SQLite's writer path).

Why: a delivery of one activity is ten small statements and a commit, and on SQLite every writer of a
process waits for the one before it. So one thread per database writes a process's deliveries (the
inbox's writer thread, services/webhooks.py): when deliveries queue behind each other (many CRMs, a burst),
it takes the first waiting delivery and every other that can go with it and applies them as one set: one
reference check, one upsert, one pass of effects (retrieval clocks, account facts) and one insert of their
idempotency answers, in one transaction.

Exactly the answers and effects of applying them one after the other, in arrival order, because a set
is a run of deliveries that arrived one behind the other (none overtakes a delivery that waited before it)
and cannot see each other's rows: no two share an idempotency key or an activity id, and each has
distinct ids of its own (a delivery that repeats an id, or an answer that a stored key
replays, is applied alone by the ordinary path). A delivery with a bad row is refused alone, naming its
own rows; the others go on. Anything unexpected rolls the set back and every delivery is applied alone.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection

from dynbooks.domain.errors import InvalidInput
from dynbooks.ingest import ParsedFile, RowError
from dynbooks.services.context import Context
from dynbooks.services.idempotency import Idempotency, remember_all, stored_keys
from dynbooks.services.imports import TABLES, _effects, _reference_errors, _to_record, _upsert

__all__ = ["Delivery", "apply_together", "together"]


@dataclass(eq=False)  # deliveries are compared by identity: two with equal rows are still two deliveries
class Delivery:
    """One delivery on its way to the writer: its rows as sent (``rows``, kept for the inbox), as read
    (``parsed``), what became of it in a set (``outcome``) and the answer its sender waits for (``future``)."""

    ctx: Context
    kind: str
    parsed: ParsedFile
    line_of: dict[int, int]
    key: str | None
    fingerprint: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    outcome: tuple[str, Any] | None = None  # ("answer", dict) | ("error", InvalidInput) | ("alone", None)
    future: Future[dict[str, Any]] = field(default_factory=Future)


def together(first: Delivery, waiting: list[Delivery]) -> list[Delivery]:
    """``first`` and the waiting deliveries right behind it, in arrival order, that can be applied as one set
    with it: the set ends at the first that cannot (another kind, other columns, another sender, a bad cell,
    an id repeated within it, or a key or an activity id already in the set). No delivery overtakes one that
    waited before it: what it would see of the other's rows, or of the ownership a hand-raise changes,
    would then depend on the order the writer took them in."""
    if first.kind != "activities":
        return [first]
    _, id_column = TABLES[first.kind]
    shape = tuple(first.parsed.values)
    keys: set[str] = set()
    ids: set[Any] = set()
    chosen: list[Delivery] = []
    for d in [first, *waiting]:
        own = d.parsed.values.get(id_column, [])
        # The set is applied with the first's context; an activity's effects do not read the clock (the
        # answers' stored instant is the first's, milliseconds apart).
        if (d.kind != first.kind or tuple(d.parsed.values) != shape or d.ctx.actor != first.ctx.actor
                or d.parsed.errors or len(set(own)) != len(own)
                or (d.key is not None and d.key in keys) or ids.intersection(own)):
            return chosen or [first]  # the first alone: the ordinary path applies it
        chosen.append(d)
        ids.update(own)
        if d.key is not None:
            keys.add(d.key)
    return chosen


def apply_together(conn: Connection, ctx: Context, batch: list[Delivery],
                   refusal: Callable[[list[RowError], dict[int, int]], InvalidInput]) -> None:
    """Apply ``batch`` (from :func:`together`) in the caller's transaction and settle each delivery: its
    answer, its refusal (made by ``refusal``, the webhooks' one wording of bad rows), or "alone" (an earlier
    delivery of its key is stored: the ordinary path replays or refuses it). The caller settles them all
    "alone" if this raises."""
    kind = batch[0].kind
    assert not any(d.parsed.errors for d in batch), "deliveries with bad cells are refused alone"
    table, id_column = TABLES[kind]
    stored = stored_keys(conn, [d.key for d in batch if d.key is not None])
    live = [d for d in batch if d.key not in stored]
    refused: dict[int, list[RowError]] = {}
    if live:
        combined, spans = _combined(live)
        for error in _reference_errors(conn, ctx, combined):
            k, start = next((k, start) for k, (start, end) in enumerate(spans) if start <= error.line < end)
            refused.setdefault(k, []).append(replace(error, line=error.line - start + 2))
    good = [d for k, d in enumerate(live) if k not in refused]
    changed: dict[Any, Any] = {}
    if good:
        records = [_to_record(kind, row, ctx) for d in good for row in d.parsed.rows]
        _, changed = _upsert(conn, table, id_column, records)
        _effects(conn, ctx, kind, _combined(good)[0], changed)
    answers = []
    for d in good:
        own = d.parsed.values.get(id_column, [])
        inserted = sum(1 for i in own if i in changed and changed[i][0] is None)
        updated = sum(1 for i in own if i in changed and changed[i][0] is not None)
        answers.append({"inserted": inserted, "updated": updated, "unchanged": len(own) - inserted - updated,
                        "rejected": 0})
    remember_all(conn, [(Idempotency(d.key, d.fingerprint), a) for d, a in zip(good, answers, strict=True)
                        if d.key is not None], ctx.now.stamp)
    # Settled only here, once every statement ran: the caller commits, or settles them all "alone".
    for d in batch:
        if d.key in stored:
            d.outcome = ("alone", None)
    for k, d in enumerate(live):
        if k in refused:
            d.outcome = ("error", refusal(refused[k], d.line_of))
    for d, answer in zip(good, answers, strict=True):
        d.outcome = ("answer", answer | {"replayed": False})


def _combined(batch: list[Delivery]) -> tuple[ParsedFile, list[tuple[int, int]]]:
    """The deliveries' rows as one file (their lines moved after each other's) and each one's line span:
    a row on line L (from 2) of the k-th delivery is on line L - 2 + start, start <= that < end."""
    values: dict[str, list[Any]] = {name: [] for name in batch[0].parsed.values}
    lines: list[int] = []
    spans = []
    start = 0
    for d in batch:
        for name, column in d.parsed.values.items():
            values[name].extend(column)
        lines.extend(line - 2 + start for line in d.parsed.lines)
        end = start + max(d.parsed.lines, default=1) - 1
        spans.append((start, end))
        start = end
    return replace(batch[0].parsed, values=values, lines=lines, errors=[], rejected=[]), spans
