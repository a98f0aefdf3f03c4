"""While a cycle runs on SQLite (store/cycle_flag.py), a webhook delivery is queued at once instead of
waiting QUEUE_AFTER seconds for a lock the cycle holds to the end; otherwise it still waits for a short
writer (two copies of one delivery then get the same answer)."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from dynbooks.services.webhooks import QUEUE_AFTER
from dynbooks.store.cycle_flag import cycle_running, running_cycle
from dynbooks.store.db import lock_cycle, write
from tests.api.test_webhook_inbox import _activity, _admin
from tests.api.world import Org

pytestmark = pytest.mark.backend("sqlite")  # PostgreSQL's writers do not exclude each other


def test_the_flag_is_up_exactly_while_a_cycle_holds_it(org: Org) -> None:
    engine = org.world.engine
    assert not cycle_running(engine)
    with running_cycle(engine):
        assert cycle_running(engine)
    assert not cycle_running(engine)


def test_a_delivery_during_a_cycle_is_queued_at_once(client: TestClient, org: Org) -> None:
    with running_cycle(org.world.engine), write(org.world.engine) as conn:
        lock_cycle(conn, "a cycle", 5.0)
        started = time.perf_counter()
        answer = client.post("/api/webhooks/activities", json=_activity(org, "flag-1"), headers=_admin(org, "f-1"))
        took = time.perf_counter() - started
    assert answer.status_code == 202 and answer.json()["queued"] is True
    assert took < QUEUE_AFTER / 2, took  # it did not wait for the lock


def test_without_a_cycle_a_delivery_waits_for_a_short_writer(client: TestClient, org: Org) -> None:

    release = threading.Event()

    def short_writer() -> None:
        with write(org.world.engine) as conn:
            lock_cycle(conn, "a return", 5.0)
            release.wait(5)

    writer = threading.Thread(target=short_writer)
    writer.start()
    time.sleep(0.2)
    threading.Timer(0.5, release.set).start()  # the writer ends well within QUEUE_AFTER
    answer = client.post("/api/webhooks/activities", json=_activity(org, "flag-2"), headers=_admin(org, "f-2"))
    writer.join(5)
    assert answer.status_code == 200 and answer.json()["inserted"] == 1
