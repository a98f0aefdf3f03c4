"""Typed dependencies for the API and the web app: the running state, the request's context, the user.

``Ctx`` is a :class:`Context` with "now" fixed for the request and the signed-in user as the actor;
``ApiUser`` is the user of a valid ``Authorization: Bearer`` token (401 otherwise); the web app's
``WebUser`` comes from the session cookie (see :mod:`dynbooks.web.session`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.services.auth import User, user_for_token
from dynbooks.services.cache import Timed, VersionedCache
from dynbooks.services.context import Context
from dynbooks.settings import Settings
from dynbooks.store.data_version import DataVersion

__all__ = ["ApiUser", "AppState", "Ctx", "State", "app_state", "bearer", "check_scope", "require_scope",
           "state_of", "token_user"]


@dataclass
class AppState:
    """What the app holds for its lifetime. ``clock`` is the wall clock, replaceable in tests."""

    settings: Settings
    engine: Engine
    config: Config
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    cache: VersionedCache[Any] = field(init=False)
    """Read answers (users of sessions and tokens, rendered book tables), valid per data version and clock
    interval (services/cache.py): a commit anywhere, a deactivated user included, shows at the next request."""

    def __post_init__(self) -> None:
        self.cache = VersionedCache(DataVersion(self.engine), size=1024)

    def now(self) -> Now:
        if self.settings.as_of is not None:
            return Now.parse(self.settings.as_of)
        return Now.of_datetime(self.clock())

    def context(self, actor: str) -> Context:
        return Context(engine=self.engine, config=self.config, now=self.now(), actor=actor, wait=self.settings.wait)


def app_state(request: Request) -> AppState:
    state = request.app.state.dynbooks
    assert isinstance(state, AppState)
    return state


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, a
# thread hop per dependency per request that cost more than a cached page.
async def state_of(request: Request) -> AppState:
    return app_state(request)


State = Annotated[AppState, Depends(state_of)]

bearer = HTTPBearer(auto_error=False, description="An API token from `dynbooks token create EMAIL`.")


async def token_user(state: AppState, credentials: HTTPAuthorizationCredentials | None) -> User:
    """The active user of a valid ``Authorization: Bearer`` token, else 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "send Authorization: Bearer TOKEN", headers={"WWW-Authenticate": "Bearer"})
    token = credentials.credentials
    key, now = ("token", hashlib.sha256(token.encode()).hexdigest()), state.now()

    def compute() -> Timed[User | None]:
        return Timed.always(_token_user(state, token))

    # Checked on every call (a webhook's token on every delivery), so no thread unless it pays: on SQLite the
    # version is a local PRAGMA and a miss one indexed read, cheaper than a hop to a thread and back (every
    # delivery's commit makes the next delivery a miss). A server's version or lookup is a round trip: a thread.
    if state.cache.versions.local:
        user = state.cache.get(key, now, compute)
    else:
        user = await run_in_threadpool(state.cache.get, key, now, compute)
    if user is None:
        raise HTTPException(401, "bad or revoked token", headers={"WWW-Authenticate": "Bearer"})
    assert isinstance(user, User)
    return user


def check_scope(user: User, scope: str) -> User:
    """``user`` if their token has ``scope``, else 403."""
    if scope not in user.scopes:
        raise HTTPException(403, f"this token has no {scope!r} scope")
    return user


async def _api_user(state: State,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    return await token_user(state, credentials)


def _token_user(state: AppState, token: str) -> User | None:
    with state.engine.connect() as conn:
        return user_for_token(conn, token)


ApiUser = Annotated[User, Depends(_api_user)]


async def _api_context(state: State, user: ApiUser) -> Context:
    return state.context(f"api:{user.email}")


Ctx = Annotated[Context, Depends(_api_context)]


def require_scope(scope: str) -> Callable[[User], Awaitable[User]]:
    """A dependency that refuses (403) a token without ``scope``."""

    async def check(user: ApiUser) -> User:
        return check_scope(user, scope)

    return check
