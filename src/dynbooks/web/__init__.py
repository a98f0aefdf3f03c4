"""The web app: Jinja2 pages and htmx over the same services as the CLI and the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    """Add the pages, the static files and the redirect to the login page to ``app``."""
    from dynbooks.web.pages import router
    from dynbooks.web.session import LoginRequired, LoginThrottle, login_url, refresh_session

    app.state.login_throttle = LoginThrottle()
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.include_router(router)

    @app.middleware("http")
    async def _sliding_session(request: Request, call_next: Any) -> Response:
        # Re-sign the session cookie of every authenticated answer: no write to the database, and the
        # idle timeout then counts from the last answer (web/session.py).
        response: Response = await call_next(request)
        refresh_session(request, response)
        return response

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = login_url(exc.next_url)
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
