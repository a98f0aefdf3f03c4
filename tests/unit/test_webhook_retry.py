"""A PostgreSQL delivery chosen to break a deadlock (SQLSTATE 40P01) wrote nothing and is tried again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg.errors
import pytest
from sqlalchemy.exc import OperationalError

from dynbooks.services import webhooks
from dynbooks.services.webhook_batch import Delivery


class FakeContext:
    @contextmanager
    def writing(self, *, lock: bool = False) -> Iterator[None]:
        yield None


def delivery() -> Delivery:
    return Delivery(FakeContext(), "activities", None, {}, None, "f")  # type: ignore[arg-type]


def deadlock() -> OperationalError:
    return OperationalError("UPDATE accounts …", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


def test_a_deadlocked_delivery_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    tries: list[int] = []

    def apply_in(*args: Any) -> dict[str, Any]:
        tries.append(1)
        if len(tries) == 1:
            raise deadlock()
        return {"inserted": 1}

    monkeypatch.setattr(webhooks, "_apply_in", apply_in)
    answer = webhooks._apply_postgres(delivery(), False)
    assert answer == {"inserted": 1} and len(tries) == 2


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    tries: list[int] = []

    def apply_in(*args: Any) -> dict[str, Any]:
        tries.append(1)
        raise OperationalError("SELECT", {}, psycopg.errors.QueryCanceled("canceling statement"))

    monkeypatch.setattr(webhooks, "_apply_in", apply_in)
    with pytest.raises(OperationalError):
        webhooks._apply_postgres(delivery(), False)
    assert len(tries) == 1
    assert webhooks._deadlock(deadlock()) and not webhooks._deadlock(ValueError("x"))
