"""Web sessions that really end (ASVS 7.3.1, 7.3.2, 7.4.1, 7.4.5/7.5.2), on SQLite and PostgreSQL.

The app's clock (``AppState.clock``) is moved by hand: itsdangerous' signature age is read on it too
(web/session.py), so "an hour idle" takes no time. It ticks a millisecond per reading, as a wall clock
would move between a sign-in and a logout.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from dynbooks.app import create_app
from dynbooks.services.auth import end_sessions
from dynbooks.settings import Settings
from dynbooks.web.session import COOKIE
from tests.api.test_cli_users import TOML, run
from tests.api.test_web import sign_in
from tests.api.world import USERS, Org


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.at += timedelta(milliseconds=1)
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(org: Org, clock: Clock) -> Iterator[TestClient]:
    with TestClient(org.app(), base_url="http://localhost", follow_redirects=False) as c:
        c.app.state.dynbooks.clock = clock  # type: ignore[attr-defined]
        yield c


def signed_in(client: TestClient, who: str) -> str:
    """The session cookie of a fresh sign-in of ``who`` (one browser each: the client's jar is emptied)."""
    client.cookies.clear()
    sign_in(client, who)
    return client.cookies[COOKIE]


def visit(client: TestClient, cookie: str, path: str = "/book", **kwargs: object) -> Response:
    """``path`` with ``cookie`` sent as a copy of it would be, from anywhere."""
    client.cookies.clear()
    return client.request(kwargs.pop("method", "GET"), path, headers={"cookie": f"{COOKIE}={cookie}"},  # type: ignore[arg-type]
                          **kwargs)  # type: ignore[arg-type]


def opens(client: TestClient, cookie: str, path: str = "/book") -> bool:
    answer = visit(client, cookie, path)
    assert answer.status_code in (200, 303), answer.text
    return answer.status_code == 200


def resigned(client: TestClient, cookie: str) -> str:
    """The cookie an authenticated page answers with (re-signed: sliding)."""
    answer = visit(client, cookie)
    assert answer.status_code == 200
    return answer.cookies[COOKIE]


def logout(client: TestClient, cookie: str) -> None:
    page = visit(client, cookie)
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = visit(client, cookie, "/logout", method="POST", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert 'dynbooks_session=""' in answer.headers["set-cookie"]  # this browser forgets it


def test_logout_ends_every_session_of_the_user_copies_included_and_a_fresh_sign_in_works(app: TestClient) -> None:
    laptop = signed_in(app, "rep")
    phone = signed_in(app, "rep")  # a second browser of the same user
    someone_else = signed_in(app, "other_rep")
    assert opens(app, laptop) and opens(app, phone) and opens(app, someone_else)
    logout(app, phone)
    assert not opens(app, phone)  # the copied cookie of the session that signed out
    assert not opens(app, laptop)  # sign out everywhere
    assert opens(app, someone_else)  # another user's session goes on
    assert opens(app, signed_in(app, "rep"))


def test_an_admin_ends_a_users_sessions_and_their_api_token_still_works(app: TestClient, org: Org,
                                                                         clock: Clock) -> None:
    admin = signed_in(app, "admin")
    rep = signed_in(app, "rep")
    assert opens(app, rep)
    end_sessions(org.world.ctx(), USERS["rep"][0], at=clock())
    assert not opens(app, rep)
    assert opens(app, admin, "/admin/cycle")
    app.cookies.clear()
    me = app.get("/api/me", headers={"Authorization": f"Bearer {org.tokens['rep']}"})
    assert me.status_code == 200 and me.json()["email"] == USERS["rep"][0]


def test_a_session_idle_past_the_timeout_ends_while_an_active_one_slides(app: TestClient, org: Org,
                                                                        clock: Clock) -> None:
    idle = org.settings.session_idle_minutes
    first = signed_in(app, "rep")
    clock.advance(minutes=idle - 10)
    slid = resigned(app, first)
    assert slid != first
    clock.advance(minutes=idle - 10)  # 2 * idle - 20 minutes since sign-in, idle - 10 since the last answer
    assert not opens(app, first)
    last = resigned(app, slid)
    clock.advance(minutes=idle + 1)
    assert not opens(app, last)


def test_a_session_ends_session_hours_after_sign_in_however_active(app: TestClient, org: Org,
                                                                   clock: Clock) -> None:
    cookie = signed_in(app, "rep")
    step = org.settings.session_idle_minutes - 1
    elapsed = 0
    while elapsed + step < org.settings.session_hours * 60:
        clock.advance(minutes=step)
        elapsed += step
        cookie = resigned(app, cookie)  # refused (assertion) if the session ended early
    clock.advance(minutes=step)
    assert not opens(app, cookie)


@pytest.mark.backend("sqlite")  # the write lock of the whole database is SQLite's
def test_a_page_view_writes_nothing_it_answers_while_the_sqlite_write_lock_is_held(app: TestClient, clock: Clock,
                                                                                   db_url: str) -> None:
    cookie = signed_in(app, "rep")
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # as a cycle holds it
        clock.advance(minutes=1)
        assert resigned(app, cookie) != cookie
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_user_logout_from_the_cli_ends_the_users_web_sessions(tmp_path: Path) -> None:
    (tmp_path / "dynbooks.toml").write_text(TOML)
    (tmp_path / "reps.csv").write_text("rep_id,name,book_rule\nA,Ann,team\n")
    assert run(tmp_path, "init").returncode == 0
    assert run(tmp_path, "import", "reps", str(tmp_path / "reps.csv")).returncode == 0
    assert run(tmp_path, "user", "add", "ann@example.com", "--role", "rep", "--rep", "A",
               stdin="long enough pw\n").returncode == 0
    settings = Settings(db=f"sqlite:///{tmp_path / 'c.db'}", config=str(tmp_path / "dynbooks.toml"),
                        as_of="2026-03-02", secret_key="k" * 40)
    with TestClient(create_app(settings), base_url="http://localhost", follow_redirects=False) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = client.post("/login", data={"email": "ann@example.com", "password": "long enough pw",
                                             "csrf_token": token})
        assert signed.status_code == 303
        assert client.get("/book").status_code == 200
        done = run(tmp_path, "user", "logout", "ann@example.com")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["email"] == "ann@example.com"
        assert client.get("/book").status_code == 303
    assert run(tmp_path, "user", "logout", "nobody@example.com").returncode == 4
