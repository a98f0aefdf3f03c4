"""Webhooks against real ``dynbooks serve`` processes: 50 concurrent copies of one delivery have exactly one
effect, and tampered signatures and stale or future timestamps are refused with no effect.

Two server processes share the database (SQLite, and PostgreSQL when ``DYNBOOKS_TEST_POSTGRES_URL`` is
set); 50 client threads, released together by a barrier, post the same signed delivery with the same
``Idempotency-Key`` to one or the other. The effect is checked in the database, not from the status code
alone (a delivery may be answered "queued" while a cycle runs): exactly one activity row, one signal row,
one idempotency row per key, one routing of the hand-raised account, and the history still equals the
state. Every answer is the same answer (the first one, replayed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from dynbooks.store.schema import account_roles, activities, events, idempotency, signals
from tests.api.world import DAY, Org, build_org
from tests.reliability.invariants import violations
from tests.reliability.server import serving
from tests.reliability.support import BIG

SECRET = "w" * 40
COPIES = 50
ID = {"activities": "activity_id", "signals": "signal_id"}


def signed(body: bytes, *, at: int | None = None, secret: str = SECRET) -> dict[str, str]:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Dynbooks-Timestamp": str(at), "X-Dynbooks-Signature": f"sha256={mac}",
            "Content-Type": "application/json"}


def at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run ``calls`` in as many threads, released together."""
    barrier = threading.Barrier(len(calls))

    def go(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def count(org: Org, table: Any, *where: Any) -> int:
    with org.world.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def settle(org: Org, what: Callable[[], int], expected: int, seconds: float = 60.0) -> int:
    """A queued delivery lands later: wait (bounded) for ``what()`` to reach ``expected``, then return it."""
    deadline = time.monotonic() + seconds
    value = what()
    while value < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = what()
    return value


def forgeries_are_refused_with_no_effect(org: Org, base: str, client: httpx.Client, worked: str) -> None:
    """Tampered signatures and stale or future timestamps, sent at once: all 401, nothing written."""
    row = {"activity_id": "forged-1", "account_id": worked, "rep_id": "S1", "type": "call",
           "occurred_at": f"{DAY}T10:00:00Z"}
    body = json.dumps([row]).encode()
    other = json.dumps([row | {"activity_id": "forged-2"}]).encode()
    token = {"Authorization": f"Bearer {org.tokens['admin']}", "Content-Type": "application/json"}
    window = org.settings.webhook_window
    url = f"{base}/api/webhooks/activities"
    now = int(time.time())
    good = signed(body, at=now)
    forged: dict[str, tuple[bytes, dict[str, str]]] = {
        "no signature": (body, {}),
        "signature of another body": (other, good),
        "wrong secret": (body, signed(body, at=now, secret="x" * 40)),
        "one hex digit changed": (body, good | {"X-Dynbooks-Signature": good["X-Dynbooks-Signature"][:-1]
                                                + ("0" if good["X-Dynbooks-Signature"][-1] != "0" else "1")}),
        "timestamp changed, signature kept": (body, good | {"X-Dynbooks-Timestamp": str(now + 1)}),
        "stale timestamp": (body, signed(body, at=now - window - 30)),
        "future timestamp": (body, signed(body, at=now + window + 30)),
        "timestamp not a number": (body, good | {"X-Dynbooks-Timestamp": "yesterday"}),
        "empty signature": (body, good | {"X-Dynbooks-Signature": "sha256="}),
    }
    calls = [lambda b=b, h=h: client.post(url, content=b, headers=token | h) for b, h in forged.values()]
    answers = at_once(calls * 3)
    for (name, _), answer in zip(list(forged.items()) * 3, answers, strict=True):
        assert answer.status_code == 401, f"{name}: {answer.status_code} {answer.text}"
    assert count(org, activities) == 0 and count(org, idempotency) == 0


def test_forged_deliveries_are_refused_and_fifty_copies_of_one_have_exactly_one_effect(
        db_url: str, tmp_path: Path) -> None:
    org = build_org(db_url, tmp_path)
    owners = org.world.owners()
    worked = sorted(a for a, r in owners.items() if r == "S1")[0]
    pool_account = sorted({f"C{i:02d}" for i in range(12)} - set(owners))[0]
    deliveries = {
        "activities": [{"activity_id": "race-act-1", "account_id": worked, "rep_id": "S1", "type": "call",
                        "occurred_at": f"{DAY}T10:00:00Z"}],
        "signals": [{"signal_id": "race-sig-1", "account_id": pool_account, "type": "demo_request", "strength": 5,
                     "occurred_at": DAY}],
    }
    token = {"Authorization": f"Bearer {org.tokens['admin']}"}
    rounds = 3 if BIG else 1
    with serving(org.settings.db, Path(org.settings.config), DAY, tmp_path, count=2,
                 webhook_secret=SECRET) as bases, httpx.Client(timeout=600) as client:
        forgeries_are_refused_with_no_effect(org, bases[1], client, worked)
        for n in range(rounds):
            # each round a new delivery: new event ids, a new key
            bodies = {kind: json.dumps([r if n == 0 else r | {ID[kind]: f"{r[ID[kind]]}-{n}"} for r in rows]).encode()
                      for kind, rows in deliveries.items()}
            calls: list[Callable[[], httpx.Response]] = []
            for i in range(COPIES):
                for kind, body in bodies.items():
                    base = bases[i % len(bases)]
                    headers = token | {"Idempotency-Key": f"{kind}-delivery-{n}"}
                    # signed when sent, as a CRM does: a loaded machine may take minutes to send all 100
                    calls.append(lambda url=f"{base}/api/webhooks/{kind}", body=body, headers=headers:
                                 client.post(url, content=body, headers=headers | signed(body)))
            answers = at_once(calls)
            for kind in deliveries:
                mine = [a for a in answers if a.request.url.path.endswith(kind)]
                assert len(mine) == COPIES
                assert {a.status_code for a in mine} <= {200, 202}, [a.text for a in mine if a.status_code >= 300]
                first = [a.json() for a in mine if not a.json().get("replayed")]
                assert len(first) == 1, f"{kind}: {len(first)} answers were not replays"
                assert all(a.json() | {"replayed": None} == first[0] | {"replayed": None} for a in mine)
        for n in range(rounds):
            sig, act = ("race-sig-1", "race-act-1") if n == 0 else (f"race-sig-1-{n}", f"race-act-1-{n}")
            assert settle(org, lambda a=act: count(org, activities, activities.c.activity_id == a), 1) == 1
            assert settle(org, lambda s=sig: count(org, signals, signals.c.signal_id == s), 1) == 1
    assert count(org, idempotency) == 2 * rounds
    assert count(org, events, events.c.account_id == pool_account, events.c.type == "distributed") == 1
    assert count(org, account_roles, account_roles.c.account_id == pool_account,
                 account_roles.c.state == "owned") == 1
    assert not violations(org.world.engine, org.world.config, date.fromisoformat(DAY))
