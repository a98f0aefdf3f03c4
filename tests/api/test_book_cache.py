"""The book page's cache (services/cache.py) never shows a stale book, on SQLite and PostgreSQL.

A cached table is reused only for the data version and the clock interval it was computed for: a commit
from anywhere (another connection, as the CLI's cycle would make) or the clock passing a signal's start or
expiry or midnight shows the new book at the next view.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text, update

from dynbooks.api.deps import AppState
from dynbooks.store.data_version import DataVersion
from dynbooks.store.db import connect
from dynbooks.store.schema import accounts, signals
from tests.api.test_web import mine, sign_in
from tests.api.world import Org


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def web(org: Org) -> Iterator[tuple[TestClient, AppState, Clock]]:
    """The web app on the wall clock (a hand-moved one), not on a fixed as-of date."""
    clock = Clock()
    with TestClient(org.app(), base_url="http://localhost", follow_redirects=False) as c:
        state: AppState = c.app.state.dynbooks  # type: ignore[attr-defined]
        state.settings = replace(state.settings, as_of=None)
        state.clock = clock
        sign_in(c, "rep")
        yield c, state, clock


def priorities(page: str) -> dict[str, str]:
    """Each account's shown priority, by account id."""
    rows = re.findall(r'data-account="([^"]+)">.*?<td class="num">([^<]+)</td>', page, flags=re.S)
    return dict(rows)


@pytest.mark.backend("sqlite")  # PostgreSQL's version is the cluster's snapshot: other tests' commits move it
def test_a_second_view_is_served_from_the_cache(web: tuple[TestClient, AppState, Clock]) -> None:
    client, state, _ = web
    first = client.get("/book")
    misses = state.cache.misses
    second = client.get("/book")
    assert second.status_code == first.status_code == 200
    assert state.cache.misses == misses  # the session's user and the book table were both hits
    assert priorities(second.text) == priorities(first.text) and priorities(first.text)


def test_a_commit_from_another_connection_shows_at_the_next_view(web: tuple[TestClient, AppState, Clock],
                                                                 org: Org, db_url: str) -> None:
    client, _, _ = web
    account = mine(org, "S1")[0]
    assert "Renamed Company" not in client.get("/book").text
    other = connect(db_url)  # another engine: the CLI's cycle or an import would commit like this
    try:
        with other.begin() as conn:
            conn.execute(update(accounts).where(accounts.c.account_id == account).values(name="Renamed Company"))
    finally:
        other.dispose()
    assert "Renamed Company" in client.get("/book").text


def test_the_clock_alone_refreshes_the_book_when_a_signal_starts_and_expires(
        web: tuple[TestClient, AppState, Clock], org: Org) -> None:
    client, _, clock = web
    account = mine(org, "S1")[0]
    starts, expires = clock.at + timedelta(minutes=10), clock.at + timedelta(minutes=30)  # within the idle timeout
    with org.world.engine.begin() as conn:
        conn.execute(insert(signals).values(signal_id="cache-test", account_id=account, type="intent", strength=50,
                                            occurred_at=starts.replace(tzinfo=None),
                                            expires_at=expires.replace(tzinfo=None)))
    before = priorities(client.get("/book").text)[account]
    clock.at = starts + timedelta(minutes=1)  # no commit in between: only the clock moved
    during = priorities(client.get("/book").text)[account]
    clock.at = expires + timedelta(minutes=1)
    after = priorities(client.get("/book").text)[account]
    assert float(during) > float(before) and after == before


def test_the_data_version_changes_with_a_commit_elsewhere_and_not_with_a_read(db_url: str, org: Org) -> None:
    engine = connect(db_url, pooled=True)
    versions = DataVersion(engine)
    try:
        first = versions.current()
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM accounts")).scalar_one()
        if engine.dialect.name == "sqlite":  # on PostgreSQL, a commit anywhere in the cluster moves it too
            assert versions.current() == first
        with org.world.engine.begin() as conn:
            conn.execute(update(accounts).where(accounts.c.account_id == "C00").values(name="Changed"))
        second = versions.current()
        assert second != first
        with engine.begin() as conn:  # a commit through the same engine (another pooled connection)
            conn.execute(update(accounts).where(accounts.c.account_id == "C00").values(name="Changed again"))
        assert versions.current() != second
    finally:
        versions.close()
        engine.dispose()
