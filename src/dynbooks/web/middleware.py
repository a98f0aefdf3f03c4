"""Two pure ASGI middlewares: the security headers of every answer and the sliding session cookie.

Pure ASGI rather than ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs the rest of
the app in a task of its own and streams the body through a memory channel, which cost more per request
than a cached page itself. These only touch the ``http.response.start`` message.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "SlidingSession"]


class SecurityHeaders:
    """Adds ``headers`` to every HTTP answer that does not set them itself, and ``hsts`` outside ``loopback``
    hosts (where the app is served over HTTPS)."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str], hsts: str, loopback: set[str]) -> None:
        self.app, self.headers, self.hsts, self.loopback = app, dict(headers), hsts, loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        remote = _hostname(scope) not in self.loopback

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if remote:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, with_headers)


def _hostname(scope: Scope) -> str:
    """The host the client addressed, as ``URL(scope=scope).hostname`` has it, without building the URL."""
    for name, value in scope["headers"]:
        if name == b"host":
            return urlsplit("//" + value.decode("latin-1")).hostname or ""
    server = scope.get("server")
    return str(server[0]) if server else ""


class SlidingSession:
    """Re-signs the session cookie of authenticated answers (:func:`dynbooks.web.session.refreshed_cookie`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(name == b"cookie" for name, _ in scope["headers"]):
            # No cookie, no session to re-sign (API clients and webhooks send a token): nothing to wrap.
            await self.app(scope, receive, send)
            return
        from dynbooks.web.session import refreshed_cookie

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookie = refreshed_cookie(Request(scope), headers.getlist("set-cookie"))
                if cookie is not None:
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, with_cookie)
