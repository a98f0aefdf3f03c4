"""Activity deliveries applied together (services/webhook_batch.py) answer and act exactly as if they had
been applied one after the other: each its own counts, a bad one refused alone naming its own rows, the
retrieval clocks and account facts moved once for all, every key stored with its answer."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from dynbooks.domain.errors import InvalidInput
from dynbooks.services import webhooks
from dynbooks.services.webhook_batch import Delivery, apply_together, together
from dynbooks.services.webhooks import _fingerprint, _parsed, _refusal, ingest_rows
from dynbooks.store.db import write
from dynbooks.store.schema import account_roles, accounts, activities, idempotency
from tests.api.world import Org

pytestmark = pytest.mark.backend("sqlite")  # the set is SQLite's writer path; PostgreSQL writes side by side


def row(account: str, activity_id: str, when: str = "2026-03-02T10:00:00Z") -> dict[str, Any]:
    return {"account_id": account, "rep_id": "S1", "type": "call", "occurred_at": when, "activity_id": activity_id}


def delivery(org: Org, rows: list[dict[str, Any]], key: str | None) -> Delivery:
    cm = _parsed("activities", rows)
    parsed, line_of = cm.__enter__()
    return Delivery(org.world.ctx(), "activities", parsed, line_of,
                    None if key is None else f"webhooks/activities:{key}", _fingerprint("activities", rows))


def mine(org: Org) -> list[str]:
    return sorted(a for a, r in org.world.owners().items() if r == "S1")


def test_a_set_answers_and_acts_as_its_deliveries_one_by_one(org: Org) -> None:
    c0, c1 = mine(org)[:2]
    first = delivery(org, [row(c0, "a1"), row(c1, "a2", "2026-03-02T11:00:00Z")], "k1")
    bad = delivery(org, [row(c0, "a3"), row("NOPE", "a4")], "k2")
    keyless = delivery(org, [row(c1, "a5", "2026-03-02T12:00:00Z")], None)
    batch = together(first, [bad, keyless])
    assert batch == [first, bad, keyless]
    with write(org.world.engine) as conn:
        apply_together(conn, org.world.ctx(), batch, _refusal)
    assert first.outcome == ("answer", {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0,
                                        "replayed": False})
    assert keyless.outcome is not None and keyless.outcome[1]["inserted"] == 1
    how, error = bad.outcome or ("", None)
    assert how == "error" and isinstance(error, InvalidInput)
    assert error.details == ["row 1, column account_id: no account 'NOPE' in the database"] or \
        all(d.startswith("row 1, column account_id") for d in error.details)
    with org.world.engine.connect() as conn:
        stored = set(conn.execute(select(activities.c.activity_id)).scalars())
        keys = set(conn.execute(select(idempotency.c.key)).scalars())
        worked = dict(conn.execute(select(account_roles.c.account_id, account_roles.c.last_activity_at)
                                   .where(account_roles.c.account_id.in_([c0, c1]))).all())
        facts = dict(conn.execute(select(accounts.c.account_id, accounts.c.last_meaningful_at)
                                  .where(accounts.c.account_id.in_([c0, c1]))).all())
    assert {"a1", "a2", "a5"} <= stored and not {"a3", "a4"} & stored  # the bad delivery wrote nothing
    assert "webhooks/activities:k1" in keys and "webhooks/activities:k2" not in keys
    assert worked[c0].hour == 10 and worked[c1].hour == 12  # each owner's clock moved to its last activity
    assert facts[c0].hour == 10 and facts[c1].hour == 12
    # The stored answer is what a repeat gets, as for a delivery applied alone.
    again = ingest_rows(org.world.ctx(), "activities", [row(c0, "a1"), row(c1, "a2", "2026-03-02T11:00:00Z")],
                        idempotency_key="k1")
    assert again == {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0, "replayed": True}


def test_deliveries_that_could_see_each_other_are_never_in_one_set(org: Org) -> None:
    c0, c1 = mine(org)[:2]
    first = delivery(org, [row(c0, "b1")], "k")
    same_key = delivery(org, [row(c1, "b2")], "k")
    same_id = delivery(org, [row(c1, "b1")], "other")
    repeated = delivery(org, [row(c1, "b3"), row(c1, "b3")], None)
    other_columns = delivery(org, [{"account_id": c1, "type": "call", "occurred_at": "2026-03-02T10:00:00Z",
                                    "activity_id": "b4"}], None)
    fine = delivery(org, [row(c1, "b5")], None)
    also_fine = delivery(org, [row(c0, "b6")], "k6")
    assert together(first, [fine, also_fine]) == [first, fine, also_fine]
    for odd in (same_key, same_id, repeated, other_columns):
        # The set ends before it: the one behind it waits too, rather than overtaking it.
        assert together(first, [fine, odd, also_fine]) == [first, fine]
        assert together(first, [odd, fine]) == [first]
    assert together(repeated, [fine]) == [repeated]  # applied alone by the ordinary path


def test_a_stored_key_in_a_set_is_left_to_the_ordinary_path(org: Org) -> None:
    c0, c1 = mine(org)[:2]
    ingest_rows(org.world.ctx(), "activities", [row(c0, "s1")], idempotency_key="seen")
    repeat = delivery(org, [row(c0, "s1")], "seen")
    new = delivery(org, [row(c1, "s2")], "new")
    with write(org.world.engine) as conn:
        apply_together(conn, org.world.ctx(), [repeat, new], _refusal)
    assert repeat.outcome == ("alone", None)
    assert new.outcome is not None and new.outcome[0] == "answer"


def test_concurrent_deliveries_are_each_applied_exactly_once(org: Org) -> None:
    accounts_of_s1 = mine(org)
    answers: dict[str, list[dict[str, Any]]] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def send(k: int) -> None:
        try:
            send_all(k)
        except BaseException as exc:
            failures.append(exc)

    def send_all(k: int) -> None:
        for i in range(20):
            key = f"c-{k // 2}-{i}"  # every delivery sent twice, by two threads at about the same time
            rows = [row(accounts_of_s1[i % len(accounts_of_s1)], f"act-{key}")]
            answer = ingest_rows(org.world.ctx(), "activities", rows, idempotency_key=key)
            with lock:
                answers.setdefault(key, []).append(answer)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    assert len(answers) == 60 and all(len(a) == 2 for a in answers.values())
    for key, (one, two) in answers.items():
        assert sorted([one["replayed"], two["replayed"]]) == [False, True], key
        assert one["inserted"] == two["inserted"] == 1, key
    with org.world.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(activities)
                              .where(activities.c.activity_id.like("act-c-%"))).scalar_one()
    assert stored == 60


def test_deliveries_that_wait_for_the_writer_thread_are_written_as_one_set(
        org: Org, webhook_sets: list[int]) -> None:
    """While the writer thread is busy, deliveries queue; it then takes them all in one transaction, and
    every sender gets its own answer."""
    accounts_of_s1 = mine(org)
    inbox = webhooks.inbox_of(org.world.ctx())
    with inbox.writer:  # the writer thread takes the first delivery, then waits here for the lock
        futures = [webhooks.deliver(org.world.ctx(), "activities",
                                    [row(accounts_of_s1[i % len(accounts_of_s1)], f"set-{i}")],
                                    idempotency_key=f"set-{i}") for i in range(7)]
        time.sleep(0.2)
        assert not any(f.done() for f in futures)
    answers = [f.result(timeout=30) for f in futures]
    assert all(a["inserted"] == 1 and a["replayed"] is False for a in answers)
    # The six behind the first together; the first too, unless the thread took it before they came.
    assert webhook_sets in ([6], [7])
    with org.world.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(idempotency)
                            .where(idempotency.c.key.like("webhooks/activities:set-%"))).scalar_one() == 7


def test_a_sender_that_goes_away_cannot_cancel_a_delivery(org: Org) -> None:
    """A client that hangs up cancels its request's awaiting; the delivery is written all the same and the
    writer thread goes on answering the others."""
    account = mine(org)[0]
    inbox = webhooks.inbox_of(org.world.ctx())
    with inbox.writer:
        gone = webhooks.deliver(org.world.ctx(), "activities", [row(account, "gone-1")], idempotency_key="gone-1")
        kept = webhooks.deliver(org.world.ctx(), "activities", [row(account, "gone-2")], idempotency_key="gone-2")
        assert not gone.cancel()
    assert gone.result(timeout=30)["inserted"] == 1 and kept.result(timeout=30)["inserted"] == 1
