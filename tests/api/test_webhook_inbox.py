"""Webhooks during a cycle (docs/benchmarks.md, "Web app and API"): an activity never waits for the cycle lock,
and a delivery that arrives while a cycle holds SQLite's write lock is queued durably (202) and applied exactly
once when the lock is free; on PostgreSQL it is written at once beside the cycle."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from dynbooks.services.webhooks import Inbox, inbox_of
from dynbooks.store.db import lock_cycle, write
from dynbooks.store.schema import activities, idempotency, webhook_inbox
from tests.api.world import Org


def _admin(org: Org, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.tokens['admin']}"} | ({"Idempotency-Key": key} if key else {})


def _count(org: Org, table: Any) -> int:
    with org.world.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _activity(org: Org, activity_id: str) -> list[dict[str, str]]:
    account = sorted(a for a, r in org.world.owners().items() if r == "S1")[0]
    return [{"account_id": account, "rep_id": "S1", "type": "call", "occurred_at": "2026-03-02T10:00:00Z",
             "activity_id": activity_id}]


def _holding_the_cycle_lock(org: Org) -> Any:
    """The lock a running cycle holds for its whole transaction (on SQLite: the database's write lock)."""
    conn_cm = write(org.world.engine)
    conn = conn_cm.__enter__()
    lock_cycle(conn, "a cycle", 5.0)
    return conn_cm


@pytest.mark.backend("sqlite")  # the inbox is for SQLite's single write lock; PostgreSQL writes beside the cycle
def test_an_activity_posted_while_a_cycle_holds_the_lock_is_queued_then_applied_exactly_once(
        client: TestClient, org: Org) -> None:
    rows = _activity(org, "a-1")
    cycle = _holding_the_cycle_lock(org)
    try:
        queued = client.post("/api/webhooks/activities", json=rows, headers=_admin(org, "k-1"))
        assert queued.status_code == 202, queued.text
        assert queued.json() == {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0, "queued": True,
                                 "replayed": False}
        replay = client.post("/api/webhooks/activities", json=rows, headers=_admin(org, "k-1"))
        assert replay.status_code == 202 and replay.json()["replayed"] is True
        other = client.post("/api/webhooks/activities", json=rows + rows, headers=_admin(org, "k-1"))
        assert other.status_code == 422  # the same key with another body, while queued
        bad = client.post("/api/webhooks/activities", json=[rows[0] | {"account_id": "NOPE"}],
                          headers=_admin(org))
        assert bad.status_code == 422  # checked against the database (a read) before it is queued
        inbox = inbox_of(org.world.ctx())
        queued_row = inbox.pending()
        assert [r.key for r in queued_row] == ["webhooks/activities:k-1"]
        assert _count(org, activities) == 0  # nothing was written while the lock was held
    finally:
        cycle.__exit__(None, None, None)
    assert _settled(inbox) and _count(org, activities) == 1 and _count(org, idempotency) == 1
    assert org.world.row(rows[0]["account_id"]).worked_at.isoformat().startswith("2026-03-02T10:00")
    stored = client.post("/api/webhooks/activities", json=rows, headers=_admin(org, "k-1"))
    assert stored.status_code == 200 and stored.json() == {"inserted": 1, "updated": 0, "unchanged": 0,
                                                           "rejected": 0, "replayed": True}
    # A crash between the database's commit and the inbox's delete leaves the delivery queued: applied
    # again, it finds its key and has no second effect, then leaves the queue.
    with inbox.engine.begin() as conn:
        conn.execute(insert(webhook_inbox).values(**queued_row[0]._asdict()))
    inbox.drain(org.world.ctx())  # (or the drainer thread, if it is still running)
    assert _settled(inbox) and _count(org, activities) == 1 and _count(org, idempotency) == 1


def _settled(inbox: Inbox) -> bool:
    """Waits for the drainer thread (asserts what it did, not how fast)."""
    deadline = time.monotonic() + 60
    while inbox.pending() and time.monotonic() < deadline:
        time.sleep(0.1)
    return inbox.pending() == []


@pytest.mark.backend("sqlite")
def test_the_queue_is_applied_without_another_delivery_once_the_lock_is_free(client: TestClient, org: Org) -> None:
    cycle = _holding_the_cycle_lock(org)
    try:
        answer = client.post("/api/webhooks/activities", json=_activity(org, "a-9"), headers=_admin(org))
        assert answer.status_code == 202
    finally:
        cycle.__exit__(None, None, None)
    assert _settled(inbox_of(org.world.ctx())) and _count(org, activities) == 1


@pytest.mark.backend("sqlite")
def test_queued_deliveries_are_drained_as_one_set_each_exactly_once(
        client: TestClient, org: Org, webhook_sets: list[int]) -> None:
    cycle = _holding_the_cycle_lock(org)
    try:
        answers = [client.post("/api/webhooks/activities", json=_activity(org, f"q-{i}"),
                               headers=_admin(org, f"q-{i}")) for i in range(5)]
        assert [a.status_code for a in answers] == [202] * 5
    finally:
        cycle.__exit__(None, None, None)
    assert _settled(inbox_of(org.world.ctx()))
    assert webhook_sets == [5]  # the drainer took the five queued deliveries as one set
    assert _count(org, activities) == 5 and _count(org, idempotency) == 5
    for i in range(5):  # each answer stored under its key, as if applied alone
        again = client.post("/api/webhooks/activities", json=_activity(org, f"q-{i}"), headers=_admin(org, f"q-{i}"))
        assert again.status_code == 200 and again.json() == {"inserted": 1, "updated": 0, "unchanged": 0,
                                                             "rejected": 0, "replayed": True}


@pytest.mark.backend("postgres")  # SQLite has one write lock (see the inbox tests)
def test_on_postgresql_an_activity_does_not_wait_for_the_cycle_lock(client: TestClient, org: Org) -> None:
    cycle = _holding_the_cycle_lock(org)
    try:
        answer = client.post("/api/webhooks/activities", json=_activity(org, "a-5"), headers=_admin(org, "p-1"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["inserted"] == 1
    finally:
        cycle.__exit__(None, None, None)
    again = client.post("/api/webhooks/activities", json=_activity(org, "a-5"), headers=_admin(org, "p-1"))
    assert again.json()["replayed"] is True and _count(org, activities) == 1
