"""Sign-in for the web app: a signed session cookie and CSRF tokens.

The cookie holds ``{"uid", "csrf", "iat"}`` signed with the app's secret key (itsdangerous) and is
HttpOnly, SameSite=Lax, and Secure unless the app is reached on a loopback host. A session ends:

- ``session_idle_minutes`` after its last authenticated answer: every such answer re-signs the cookie
  (sliding), so the signature's age is the time without activity;
- ``session_hours`` after sign-in (``iat``, the sign-in instant), however active;
- when its user's ``sessions_valid_after`` passes its ``iat``: logout (and ``dynbooks user logout``) ends
  every session of that user, copies of the cookie included ("sign out everywhere").

None of this writes per request (a page view must never wait for a cycle's write lock on SQLite): the
stamp is read with the user, in the one query that loads them. The user is read from the database, or from
the app's read cache while no commit has happened since (services/cache.py): a deactivated user, or a
logout elsewhere, is out at the next request.

Every form carries ``csrf_token``, which must equal the session's (the login form's is checked against a
short-lived pre-login cookie, so that a login cannot be forged either).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from dynbooks.api.deps import AppState, State
from dynbooks.services.auth import User, get_user
from dynbooks.services.cache import Timed
from dynbooks.services.context import Context

__all__ = ["COOKIE", "LOGIN_COOKIE", "CsrfForm", "LoginRequired", "LoginThrottle", "WebCtx", "WebUser", "csrf_matches",
           "end_session", "refreshed_cookie", "start_session"]

COOKIE = "dynbooks_session"
LOGIN_COOKIE = "dynbooks_login"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class LoginRequired(Exception):
    """No valid session: the page answers a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class _ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer on the app's clock (``AppState.clock``) instead of ``time.time()``:
    the idle timeout and the absolute lifetime are then read on one clock, which tests can move."""

    def __init__(self, *args: Any, clock: Callable[[], datetime], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock

    def get_timestamp(self) -> int:
        return int(self.clock().timestamp())


def _serializer(state: AppState) -> URLSafeTimedSerializer:
    assert state.settings.secret_key is not None
    return URLSafeTimedSerializer(state.settings.secret_key, salt="dynbooks-session", signer=_ClockSigner,
                                  signer_kwargs={"clock": state.clock})


def _set_cookie(request: Request, response: Response, state: AppState, data: dict[str, Any]) -> None:
    # The browser may forget the cookie when the server would refuse it anyway: at the idle timeout, or at
    # the end of the absolute lifetime if that comes first.
    left = float(data["iat"]) + state.settings.session_hours * 3600 - state.clock().timestamp()
    max_age = max(0, min(state.settings.session_idle_minutes * 60, int(left)))
    response.set_cookie(COOKIE, _serializer(state).dumps(data), max_age=max_age, httponly=True, samesite="lax",
                        secure=secure(request), path="/")


def secure(request: Request) -> bool:
    return (request.url.hostname or "") not in LOOPBACK


def start_session(request: Request, response: Response, state: AppState, user: User) -> None:
    data = {"uid": user.user_id, "csrf": secrets.token_urlsafe(24), "iat": state.clock().timestamp()}
    _set_cookie(request, response, state, data)
    response.delete_cookie(LOGIN_COOKIE, path="/")


def end_session(request: Request, response: Response) -> None:
    """Forget the cookie in this browser (the caller ends the sessions themselves with ``end_sessions``)."""
    request.state.session = None  # no re-signing of this answer
    response.delete_cookie(COOKIE, path="/")


REFRESH_AFTER = 60
"""Seconds after which an answer re-signs the session cookie. Re-signing every answer cost more than a
cached page; the idle timeout then counts from the last re-signing, at most this long before the last
answer: a session can end up to a minute early, never late."""


def refreshed_cookie(request: Request, set_cookies: list[str]) -> str | None:
    """The ``Set-Cookie`` value that re-signs the session of an authenticated answer (the idle timeout then
    counts from now), or ``None``: no session, one the answer sets or ends itself, or one signed less than
    :data:`REFRESH_AFTER` seconds ago."""
    data, state = getattr(request.state, "session", None), getattr(request.state, "app_state", None)
    if data is None or state is None or any(c.startswith(f"{COOKIE}=") for c in set_cookies):
        return None
    if state.clock().timestamp() - getattr(request.state, "session_signed_at", 0) < REFRESH_AFTER:
        return None
    response = Response()
    _set_cookie(request, response, state, data)
    return response.headers["set-cookie"]


def session_of(request: Request, state: AppState) -> dict[str, Any] | None:
    """The session payload if the cookie is validly signed, not idle too long and not too old, else None."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data, signed_at = _serializer(state).loads(raw, max_age=state.settings.session_idle_minutes * 60,
                                                   return_timestamp=True)
    except BadSignature:  # SignatureExpired (idle too long) is one
        return None
    request.state.session_signed_at = signed_at.timestamp()
    if not isinstance(data, dict) or not isinstance(data.get("iat"), int | float):
        return None  # a cookie from before sign-in instants were recorded: sign in again
    if state.clock().timestamp() - data["iat"] > state.settings.session_hours * 3600:
        return None
    return data


def _web_user(request: Request, state: State) -> User:
    data = session_of(request, state)
    user = None
    if data is not None:
        uid = int(data.get("uid", -1))
        user = state.cache.get(("user", uid), state.now(), lambda: Timed.always(_load_user(state, uid)))
    if user is not None and data is not None and user.sessions_valid_after is not None \
            and data["iat"] <= user.sessions_valid_after.timestamp():
        user = None  # signed in before the user's sessions were ended (logout everywhere)
    if not isinstance(user, User) or data is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    request.state.csrf = data["csrf"]
    request.state.user = user
    request.state.session, request.state.app_state = data, state
    return user


def _load_user(state: AppState, user_id: int) -> User | None:
    with state.engine.connect() as conn:
        return get_user(conn, user_id)


WebUser = Annotated[User, Depends(_web_user)]


async def _web_context(state: State, user: WebUser) -> Context:  # no I/O: no thread hop (api/deps.py)
    return state.context(f"web:{user.email}")


WebCtx = Annotated[Context, Depends(_web_context)]


def csrf_matches(sent: str | None, expected: str | None) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), str(expected))


async def _csrf_form(request: Request, user: WebUser) -> dict[str, str]:
    """The posted form, once its ``csrf_token`` matched the session's (else 403)."""
    from fastapi import HTTPException

    form = await request.form()
    if not csrf_matches(str(form.get("csrf_token") or ""), getattr(request.state, "csrf", "")):
        raise HTTPException(403, "the form expired or did not come from this site; reload the page and try again")
    return {k: v for k, v in form.items() if isinstance(v, str)}


CsrfForm = Annotated[dict[str, str], Depends(_csrf_form)]


def login_url(next_url: str) -> str:
    return "/login" + (f"?next={quote(next_url, safe='/')}" if next_url and next_url != "/" else "")


class LoginThrottle:
    """After ``limit`` failed sign-ins for one e-mail within ``window`` seconds, that e-mail is refused
    until the oldest failure is ``window`` seconds old (per process: a brake on password guessing)."""

    def __init__(self, limit: int = 5, window: float = 900.0) -> None:
        self.limit, self.window = limit, window
        self.failures: dict[str, list[float]] = {}

    def _recent(self, email: str, now: float) -> list[float]:
        recent = [t for t in self.failures.get(email, []) if now - t < self.window]
        if recent:
            self.failures[email] = recent
        else:
            self.failures.pop(email, None)
        return recent

    def wait_seconds(self, email: str, now: float) -> float:
        recent = self._recent(email, now)
        return 0.0 if len(recent) < self.limit else self.window - (now - recent[0])

    def failed(self, email: str, now: float) -> None:
        self._recent(email, now)
        self.failures.setdefault(email, []).append(now)

    def succeeded(self, email: str) -> None:
        self.failures.pop(email, None)
