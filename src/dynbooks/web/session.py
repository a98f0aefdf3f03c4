"""Sign-in for the web app: a signed session cookie and CSRF tokens.

The cookie holds ``{"uid", "csrf"}`` signed with the app's secret key (itsdangerous), expires after
``session_hours``, and is HttpOnly, SameSite=Lax, and Secure unless the app is reached on a loopback
host. Every form carries ``csrf_token``, which must equal the session's (the login form's is checked
against a short-lived pre-login cookie, so that a login cannot be forged either). The user is read from
the database on every request: a deactivated user is out at once.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from dynbooks.api.deps import AppState, State
from dynbooks.services.auth import User, get_user
from dynbooks.services.context import Context

__all__ = ["COOKIE", "LOGIN_COOKIE", "CsrfForm", "LoginRequired", "LoginThrottle", "WebCtx", "WebUser", "csrf_matches",
           "end_session", "start_session"]

COOKIE = "dynbooks_session"
LOGIN_COOKIE = "dynbooks_login"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class LoginRequired(Exception):
    """No valid session: the page answers a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def _serializer(state: AppState) -> URLSafeTimedSerializer:
    assert state.settings.secret_key is not None
    return URLSafeTimedSerializer(state.settings.secret_key, salt="dynbooks-session")


def secure(request: Request) -> bool:
    return (request.url.hostname or "") not in LOOPBACK


def start_session(request: Request, response: Response, state: AppState, user: User) -> None:
    value = _serializer(state).dumps({"uid": user.user_id, "csrf": secrets.token_urlsafe(24)})
    response.set_cookie(COOKIE, value, max_age=state.settings.session_hours * 3600, httponly=True, samesite="lax",
                        secure=secure(request), path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def session_of(request: Request, state: AppState) -> dict[str, Any] | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(state).loads(raw, max_age=state.settings.session_hours * 3600)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def _web_user(request: Request, state: State) -> User:
    data = session_of(request, state)
    user = None
    if data is not None:
        with state.engine.connect() as conn:
            user = get_user(conn, int(data.get("uid", -1)))
    if user is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    request.state.csrf = data["csrf"] if data else ""
    request.state.user = user
    return user


WebUser = Annotated[User, Depends(_web_user)]


def _web_context(state: State, user: WebUser) -> Context:
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
