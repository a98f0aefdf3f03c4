"""Idempotency keys (SPEC §9 HTTP API): a repeated request answers the first answer and has no second effect.

The answer is stored in the ``idempotency`` table in the same transaction as the effect, so either both
are there or neither. A key is scoped (``webhooks/signals``, ``return/<user>``, ``cycles/<user>``) and
stored with a fingerprint of the request: the same key with another request is refused (422), never
answered with somebody else's answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from dynbooks.domain.errors import InvalidInput
from dynbooks.services.context import Context
from dynbooks.services.history import naive
from dynbooks.store.schema import idempotency

__all__ = ["MAX_KEY", "Idempotency", "answered", "remember", "remember_all", "replay", "stored_keys"]

MAX_KEY = 150
"""Longest ``Idempotency-Key`` header accepted; the scope fills the rest of the 200-character column."""


@dataclass(frozen=True)
class Idempotency:
    """A scoped key and the fingerprint of the request it came with."""

    key: str
    request: str

    @classmethod
    def of(cls, scope: str, key: str | None, request: Any) -> Idempotency | None:
        """``None`` without a key; ``request`` is anything JSON-able that tells two requests apart."""
        if key is None:
            return None
        if len(key) > MAX_KEY:
            raise InvalidInput(f"the Idempotency-Key is too long (at most {MAX_KEY} characters)")
        scoped = f"{scope}:{key}"
        if len(scoped) > 200:
            raise InvalidInput("the Idempotency-Key is too long for this request")
        digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
        return cls(scoped, digest)


def replay(conn: Connection, key: Idempotency | None) -> dict[str, Any] | None:
    """The stored answer to an earlier request with this key (with ``"replayed": true``), or ``None``.
    Refuses the key when it came with a different request."""
    if key is None:
        return None
    stored = conn.execute(select(idempotency.c.response).where(idempotency.c.key == key.key)).scalar()
    if stored is None:
        return None
    if stored.get("request") != key.request:
        raise InvalidInput("this Idempotency-Key was already used for a different request")
    return dict(stored["answer"]) | {"replayed": True}


def remember(conn: Connection, key: Idempotency | None, answer: dict[str, Any], now: datetime) -> None:
    """Store ``answer`` for the key, in the caller's transaction (the one that made the effect)."""
    if key is not None:
        remember_all(conn, [(key, answer)], now)


def remember_all(conn: Connection, answers: list[tuple[Idempotency, dict[str, Any]]], now: datetime) -> None:
    """:func:`remember` for several keys in one statement (a set of webhook deliveries)."""
    if answers:
        conn.execute(insert(idempotency), [
            {"key": key.key, "response": {"request": key.request, "answer": answer}, "created_at": naive(now)}
            for key, answer in answers])


def stored_keys(conn: Connection, keys: list[str]) -> set[str]:
    """Which of ``keys`` have a stored answer (those deliveries are replays: :func:`replay` answers them)."""
    if not keys:
        return set()
    return set(conn.execute(select(idempotency.c.key).where(idempotency.c.key.in_(keys))).scalars())


def answered(ctx: Context, key: Idempotency | None) -> dict[str, Any] | None:
    """:func:`replay` in a read of its own, for an edge that must answer a repeat before checks the first
    request's effect would now fail (after a return the account is no longer in the rep's book). The
    use case checks again in its own transaction, which is what makes it exactly once."""
    if key is None:
        return None
    with ctx.reading() as conn:
        return replay(conn, key)
