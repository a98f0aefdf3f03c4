"""Access control as a generated matrix: every route of the app × every role × whose data it is.

``ROUTES`` has one entry per route of ``create_app`` (API, web pages, static files, the schema); the first
test enumerates the app's routes and fails naming any route without an entry (a new route must say who
may use it before it ships) or any entry without a route. From the entries the matrix is generated:

- roles: nobody signed in, a rep (S1, team east), a manager (team east), an admin;
- ownership, for routes that name a rep or an account: the rep's own (S1), a teammate's (S2, same team),
  another team's (S3, team west);
- expected: nobody → 401 (API) or a redirect to the login page (web), except the public routes; a role
  the route is not for → the entry's ``denied`` status; a rep → 404 for anything not their own, a
  manager → 404 for another team's; otherwise access is granted: any answer but 401/403/404, a redirect
  to the login page, or a server error.

Every refused request must have changed nothing (the state and the history are compared before and after
all of them). Every answer carries the security headers. Every web form refuses a missing or wrong CSRF
token. Cookies: HttpOnly, SameSite=Lax, Secure outside loopback hosts.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from dynbooks.services.auth import add_user
from dynbooks.services.cycle import run_cycle
from dynbooks.services.undo import undo_cycle
from dynbooks.store.schema import account_roles, accounts, events, users
from tests.api.world import PASSWORD, USERS, Org, build_org

ROLES = ("anonymous", "rep", "manager", "admin")
OWNERSHIP = {"own": "S1", "team": "S2", "other": "S3"}  # the rep is S1; the manager's team is east (S1, S2)
DENIALS = {401, 403, 404}


@dataclass(frozen=True)
class Entry:
    """Who may use a route. ``access``: ``public`` (no login), ``user`` (every signed-in role, narrowed to
    what the role may see), ``staff`` (managers and admins), ``admin``. ``owner``: the path parameter that
    names whose data it is (``rep_id`` or ``account_id``). ``denied``: the status for a role the route is
    not for. ``params``: the other path parameters; ``body``: the JSON (API) or form (web) to send;
    ``public_status``: what a public route answers."""

    access: str
    owner: str | None = None
    denied: int = 404
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    public_status: int = 200
    url: str | None = None


# Bodies that pass authorization and then stop at a check that writes nothing where possible
# (``get_back_to_me`` without its date answers 422 after the access check).
RETURN = {"reason": "get_back_to_me"}
UNDONE = "<a cycle already undone>"  # the org fixture runs and undoes one: undoing it again is refused, 409
ROUTES: dict[tuple[str, str], Entry] = {
    ("GET", "/openapi.json"): Entry("public"),
    ("GET", "/api/health"): Entry("public"),
    ("MOUNT", "/static"): Entry("public", url="/static/app.css"),
    ("GET", "/login"): Entry("public"),
    ("POST", "/login"): Entry("public", body={"email": USERS["rep"][0], "password": PASSWORD}, public_status=403),
    # the API: 401 without a token, 403 for a role or scope the operation is not for, 404 for others' data
    ("GET", "/api/me"): Entry("user"),
    ("GET", "/api/books/{rep_id}"): Entry("user", "rep_id"),
    ("GET", "/api/accounts/{account_id}"): Entry("user", "account_id"),
    ("GET", "/api/accounts/{account_id}/explain"): Entry("user", "account_id"),
    ("GET", "/api/accounts/{account_id}/history"): Entry("user", "account_id"),
    ("POST", "/api/accounts/{account_id}/return"): Entry("user", "account_id", body=RETURN),
    ("GET", "/api/reports/{name}"): Entry("staff", denied=403, params={"name": "balance"}),
    ("POST", "/api/cycles"): Entry("admin", denied=403, body={"dry_run": True}),
    ("POST", "/api/webhooks/activities"): Entry("admin", denied=403, body=[]),
    ("POST", "/api/webhooks/signals"): Entry("admin", denied=403, body=[]),
    ("GET", "/api/pool"): Entry("admin", denied=403),
    ("GET", "/api/review"): Entry("admin", denied=403),
    ("POST", "/api/review/{account_id}/reintroduce"): Entry("admin", "account_id", denied=403, body={}),
    ("POST", "/api/review/{account_id}/retire"): Entry("admin", "account_id", denied=403),
    ("POST", "/api/review/{account_id}/fix"): Entry("admin", "account_id", denied=403,
                                                    body={"set": {"industry": "Software"}}),
    ("POST", "/api/accounts/{account_id}/hold"): Entry("admin", "account_id", denied=403),
    ("POST", "/api/accounts/{account_id}/release"): Entry("admin", "account_id", denied=403),
    ("POST", "/api/accounts/{account_id}/reactivate"): Entry("admin", "account_id", denied=403),
    # the web app: a redirect to the login page without a session, 404 for pages and data not for the role
    ("POST", "/logout"): Entry("user", body={}),
    ("GET", "/"): Entry("user"),
    ("GET", "/book"): Entry("user"),
    ("GET", "/reps/{rep_id}"): Entry("user", "rep_id"),
    ("GET", "/accounts/{account_id}"): Entry("user", "account_id"),
    ("POST", "/accounts/{account_id}/return"): Entry("user", "account_id", body=RETURN),
    ("GET", "/team"): Entry("staff"),
    ("GET", "/market-map"): Entry("staff"),
    ("GET", "/admin/review"): Entry("admin"),
    ("POST", "/admin/review/{account_id}/{action}"): Entry("admin", "account_id", params={"action": "fix"},
                                                          body={"field": "industry", "value": "Software"}),
    ("POST", "/api/cycles/{cycle_id}/undo"): Entry("admin", denied=403, params={"cycle_id": "last"},
                                                    body={"dry_run": True}),
    ("POST", "/admin/cycles/{cycle_id}/undo"): Entry("admin", params={"cycle_id": UNDONE}, body={}),  # 409
    ("GET", "/admin/cycle"): Entry("admin"),
    ("POST", "/admin/cycle/{step}"): Entry("admin", params={"step": "preview"}, body={}),
    ("GET", "/admin/pool"): Entry("admin"),
    ("GET", "/admin/cycles"): Entry("admin"),
    ("GET", "/admin/import"): Entry("admin"),
    ("POST", "/admin/import"): Entry("admin", body={"kind": "nothing"}),
    ("GET", "/admin/reps"): Entry("admin"),
    ("POST", "/admin/reps"): Entry("admin", body={"rep_id": "S9"}),
    ("GET", "/admin/rules"): Entry("admin"),
    ("POST", "/admin/rules"): Entry("admin", body={"toml": "[enrollment\n"}),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers; mounted apps (static files) as ``("MOUNT", path)``."""
    found = set()
    for route in iter_route_contexts(app.routes):
        methods = route.methods or {"MOUNT"}
        for method in methods - {"HEAD"}:
            found.add((method, str(route.path)))
    return found


@pytest.fixture
def org(db_url: str, tmp_path: Path) -> Org:
    org = build_org(db_url, tmp_path)
    run_cycle(org.world.ctx())  # nothing left to deal: a cycle that moves nothing, undone at once
    _undone["id"] = undo_cycle(org.world.ctx()).cycle_id
    return org


_undone: dict[str, str] = {}


def test_every_route_of_the_app_has_an_entry_in_the_matrix(org: Org) -> None:
    routes = app_routes(org.app())
    missing = sorted(routes - set(ROUTES))
    stale = sorted(set(ROUTES) - routes)
    assert not missing, ("routes without an entry in tests/reliability/test_access_matrix.py ROUTES (say who may "
                         "use each: public, user, staff or admin, and which path parameter names the owner): "
                         + ", ".join(f"{m} {p}" for m, p in missing))
    assert not stale, "entries for routes the app no longer has: " + ", ".join(f"{m} {p}" for m, p in stale)


# --- the matrix -------------------------------------------------------------------------------------------

def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@dataclass
class Session:
    """One role's way in: a token for the API, a signed-in client (and its CSRF token) for the web."""

    role: str
    client: TestClient
    token: str | None = None
    csrf: str = ""

    def sign_in(self) -> None:
        if self.role == "anonymous":
            return
        page = self.client.get("/login")
        answer = self.client.post("/login", data={"email": USERS[self.role][0], "password": PASSWORD,
                                                  "csrf_token": csrf_of(page.text), "next": "/"})
        assert answer.status_code == 303, answer.text
        # every signed-in page carries the logout form, with the session's CSRF token
        page = self.client.get("/reps/S1")
        assert page.status_code == 200, page.text
        self.csrf = csrf_of(page.text)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    entry: Entry
    role: str
    ownership: str | None

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    def expected(self) -> int | None:
        """The status a refusal must have, or None when access is granted."""
        e = self.entry
        if e.access == "public":
            return None
        if self.role == "anonymous":
            return 401 if self.api else 303
        if (e.access == "admin" and self.role != "admin") or (e.access == "staff" and self.role == "rep"):
            return e.denied
        if e.owner is not None and ((self.role == "rep" and self.ownership != "own")
                                    or (self.role == "manager" and self.ownership == "other")):
            return 404
        return None

    def __str__(self) -> str:
        return f"{self.role} {self.method} {self.path} ({self.ownership or '-'})"


def cases() -> Iterator[Case]:
    for (method, path), entry in ROUTES.items():
        for role in ROLES:
            for ownership in (OWNERSHIP if entry.owner else [None]):
                yield Case(method, path, entry, role, ownership)


def owned_by(org: Org, rep_id: str) -> str:
    mine = sorted(a for a, r in org.world.owners().items() if r == rep_id)
    assert mine, f"{rep_id} owns no account left to try the matrix with"
    return mine[0]


def snapshot(org: Org) -> tuple[Any, ...]:
    with org.world.engine.connect() as conn:
        return (conn.execute(select(account_roles).order_by(account_roles.c.account_id, account_roles.c.role)).all(),
                conn.execute(select(func.count()).select_from(events)).scalar_one(),
                conn.execute(select(accounts.c.account_id, accounts.c.status, accounts.c.industry)
                             .order_by(accounts.c.account_id)).all())


HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def check_headers(answer: httpx.Response, case: object) -> None:
    for name, value in HEADERS.items():
        assert answer.headers.get(name) == value, f"{case}: header {name} is {answer.headers.get(name)!r}"
    csp = answer.headers.get("content-security-policy", "")
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp, f"{case}: CSP {csp!r} lacks {directive}"
    assert answer.headers.get("x-frame-options") == "DENY", case
    assert "access-control-allow-origin" not in answer.headers, f"{case}: CORS is open"
    assert "strict-transport-security" not in answer.headers, f"{case}: HSTS on a loopback host"


def send(org: Org, sessions: dict[str, Session], case: Case, *, csrf: str | None = None,
         origin: str | None = None) -> httpx.Response:
    e = case.entry
    params = dict(e.params)
    if e.owner == "rep_id":
        params["rep_id"] = OWNERSHIP[case.ownership or "own"]
    elif e.owner == "account_id":
        params["account_id"] = owned_by(org, OWNERSHIP[case.ownership or "own"])
    params = {k: _undone["id"] if v == UNDONE else v for k, v in params.items()}
    url = e.url or case.path.format(**params)
    s = sessions[case.role]
    headers = {"Origin": origin} if origin else {}
    if case.api:
        headers |= {"Authorization": f"Bearer {s.token}"} if s.token else {}
        if case.method == "GET":
            return s.client.get(url, headers=headers)
        return s.client.post(url, headers=headers, json=e.body if e.body is not None else None)
    if case.method == "GET" or case.method == "MOUNT":
        return s.client.get(url, headers=headers)
    data = dict(e.body or {})
    token = s.csrf if csrf is None else csrf
    if token:
        data["csrf_token"] = token
    return s.client.post(url, data=data, headers=headers)


@pytest.fixture
def sessions(org: Org) -> Iterator[dict[str, Session]]:
    app = org.app()
    out: dict[str, Session] = {}
    clients = [TestClient(app, base_url="http://localhost", follow_redirects=False) for _ in ROLES]
    for role, client in zip(ROLES, clients, strict=True):
        client.__enter__()
        out[role] = Session(role, client, org.tokens.get(role))
        out[role].sign_in()
    try:
        yield out
    finally:
        for client in clients:
            client.__exit__(None, None, None)


def test_every_route_for_every_role_and_owner_answers_as_the_matrix_says(
        org: Org, sessions: dict[str, Session]) -> None:
    all_cases = list(cases())
    refused = [c for c in all_cases if c.expected() is not None]
    granted = [c for c in all_cases if c.expected() is None]
    # logging out ends the session the other cases use: last, then sign in again
    granted.sort(key=lambda c: c.path == "/logout")
    before = snapshot(org)
    wrong = []
    for case in refused:
        answer = send(org, sessions, case, origin="https://evil.example")
        check_headers(answer, case)
        status = case.expected()
        ok = answer.status_code == status
        if status == 303:
            ok = ok and answer.headers["location"].startswith("/login")
        if not ok:
            wrong.append(f"{case}: {answer.status_code}, expected {status}")
    assert not wrong, "refusals that did not refuse:\n" + "\n".join(wrong)
    assert snapshot(org) == before, "a refused request changed the state or the history"
    for case in granted:
        answer = send(org, sessions, case)
        check_headers(answer, case)
        if case.entry.access == "public":
            ok = answer.status_code == case.entry.public_status
        else:
            to_login = answer.status_code in (302, 303) and answer.headers["location"].startswith("/login")
            ok = answer.status_code not in DENIALS and answer.status_code < 500 and (
                not to_login or case.path == "/logout")
        if not ok:
            wrong.append(f"{case}: {answer.status_code} {answer.text[:200]}")
        if case.path == "/logout":
            sessions[case.role].sign_in()
    assert not wrong, "access that was not granted (or failed):\n" + "\n".join(wrong)
    assert len(refused) > 100 and len(granted) > 40  # the matrix is generated, not a sample


def test_every_web_form_refuses_a_missing_or_a_wrong_csrf_token(org: Org, sessions: dict[str, Session]) -> None:
    forms = [Case(m, p, e, "admin", "own" if e.owner else None) for (m, p), e in ROUTES.items()
             if m == "POST" and not p.startswith("/api/") and p != "/login"]
    before = snapshot(org)
    for case in forms:
        for token in ("", "forged-" + sessions["admin"].csrf[7:]):
            answer = send(org, sessions, case, csrf=token)
            assert answer.status_code == 403, f"{case} with CSRF token {token!r}: {answer.status_code}"
    assert snapshot(org) == before
    # the login form is checked against its own short-lived cookie
    anon = sessions["anonymous"].client
    anon.get("/login")
    answer = anon.post("/login", data={"email": USERS["admin"][0], "password": PASSWORD, "csrf_token": "guess"})
    assert answer.status_code == 403 and "dynbooks_session" not in answer.headers.get("set-cookie", "")


@pytest.mark.parametrize("host, secure", [("localhost", False), ("127.0.0.1", False), ("books.example.com", True)])
def test_cookies_are_httponly_samesite_lax_and_secure_outside_loopback(org: Org, host: str, secure: bool) -> None:
    scheme = "https" if secure else "http"  # a client sends a Secure cookie back over HTTPS only
    with TestClient(org.app(), base_url=f"{scheme}://{host}", follow_redirects=False) as client:
        page = client.get("/login")
        login_cookie = page.headers["set-cookie"]
        answer = client.post("/login", data={"email": USERS["rep"][0], "password": PASSWORD,
                                             "csrf_token": csrf_of(page.text)})
        session_cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("dynbooks_session="))
        for cookie in (login_cookie, session_cookie):
            assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower(), cookie
            assert ("Secure" in cookie) is secure, cookie
        # HSTS (a year, subdomains too) where the app is served over HTTPS, that is outside loopback hosts
        hsts = answer.headers.get("strict-transport-security")
        assert (hsts == "max-age=31536000; includeSubDomains") if secure else hsts is None, hsts


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil.example"])
def test_the_login_redirect_stays_on_the_site(org: Org, target: str) -> None:
    with TestClient(org.app(), base_url="http://localhost", follow_redirects=False) as client:
        page = client.get("/login", params={"next": target})
        answer = client.post("/login", data={"email": USERS["rep"][0], "password": PASSWORD, "next": target,
                                             "csrf_token": csrf_of(page.text)})
        where = answer.headers["location"]
        # "/" or a path of this site ("/\\evil" is sent percent-encoded, "/%5Cevil": a path, not a host)
        assert answer.status_code == 303 and where.startswith("/") and not where.startswith("//"), where
        assert "\\" not in where, where


def test_a_tampered_or_foreign_session_cookie_is_no_session(org: Org, sessions: dict[str, Session]) -> None:
    good = sessions["rep"].client.cookies.get("dynbooks_session")
    assert good
    payload, _, signature = good.rpartition(".")
    data, _, stamp = payload.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    admin_claims = base64.urlsafe_b64encode(json.dumps(claims | {"uid": 1}).encode()).decode().rstrip("=")
    for bad in (payload + "." + signature[::-1],  # a wrong signature
                admin_claims + "." + stamp + "." + signature,  # another user id under the old signature
                "x" * len(good)):
        with TestClient(org.app(), base_url="http://localhost", follow_redirects=False,
                        cookies={"dynbooks_session": bad}) as client:
            answer = client.get("/book")
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), bad


def test_a_disabled_or_demoted_user_loses_access_at_once(org: Org, sessions: dict[str, Session]) -> None:
    """The user is read from the database on every request: no session or token outlives a change."""
    admin = sessions["admin"]
    assert admin.client.get("/admin/review").status_code == 200
    add_user(org.world.ctx(), USERS["admin"][0], PASSWORD, "rep", rep_id="S3")  # demoted: same e-mail
    assert admin.client.get("/admin/review").status_code == 404
    assert admin.client.get("/api/pool", headers={"Authorization": f"Bearer {admin.token}"}).status_code == 403
    rep = sessions["rep"]
    assert rep.client.get("/book").status_code == 200
    with org.world.engine.begin() as conn:
        conn.execute(update(users).where(users.c.email == USERS["rep"][0]).values(active=False))
    answer = rep.client.get("/book")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert rep.client.get("/api/me", headers={"Authorization": f"Bearer {rep.token}"}).status_code == 401


def test_every_sign_in_gets_a_new_session_token_and_csrf_token(org: Org) -> None:
    seen = set()
    with TestClient(org.app(), base_url="http://localhost", follow_redirects=False) as client:
        for _ in range(2):
            page = client.get("/login")
            answer = client.post("/login", data={"email": USERS["rep"][0], "password": PASSWORD,
                                                 "csrf_token": csrf_of(page.text)})
            seen.add(answer.cookies["dynbooks_session"])
            seen.add(csrf_of(client.get("/book").text))
    assert len(seen) == 4
