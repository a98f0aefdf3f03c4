"""The web app: Jinja2 pages and htmx over the same services as the CLI and the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    """Add the pages, the static files and the redirect to the login page to ``app``."""
    from dynbooks.web.middleware import SlidingSession
    from dynbooks.web.pages import router
    from dynbooks.web.session import LoginRequired, LoginThrottle, login_url

    app.state.login_throttle = LoginThrottle()
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.include_router(router)

    # Every authenticated answer re-signs the session cookie (sliding; no write to the database).
    app.add_middleware(SlidingSession)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = login_url(exc.next_url)
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
