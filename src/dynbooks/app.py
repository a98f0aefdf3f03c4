"""The web app and the HTTP API in one ASGI app: ``create_app(settings)`` (``dynbooks serve`` runs it).

Both edges call the same services as the CLI. Errors a user can cause answer with their class's HTTP
status: JSON ``{"error": {"message", "details"}}`` under ``/api``, an HTML page elsewhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dynbooks import __version__
from dynbooks.api.deps import AppState
from dynbooks.api.more_routes import router as more_router
from dynbooks.api.routes import hooks, public, router
from dynbooks.config import find_config, load_config
from dynbooks.domain.errors import DynbooksError
from dynbooks.settings import Settings
from dynbooks.store.checkpoints import WalCheckpointer
from dynbooks.store.db import connect
from dynbooks.web.middleware import SecurityHeaders
from dynbooks.web.session import LOOPBACK

__all__ = ["create_app"]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
}
HSTS = "max-age=31536000; includeSubDomains"
"""Sent outside loopback hosts only (where the session cookie is Secure too): the app is served over HTTPS there."""


def create_app(settings: Settings | None = None, *, schedule: bool = False) -> FastAPI:
    """The app for ``settings`` (default: from the environment). The database must exist (``dynbooks init``).
    With ``schedule``, cycles run on the config's ``[schedule] cycle_cron`` while the app runs."""
    settings = (settings or Settings.from_env()).checked()
    config = load_config(find_config(settings.config))
    engine = connect(settings.db, wait=settings.wait, must_exist=True, pooled=True)
    if schedule:
        from dynbooks.schedule import trigger_for

        for cron in (config.schedule.cycle_cron, config.schedule.digest_cron, config.schedule.summary_cron):
            if cron is not None:
                trigger_for(cron, config.schedule.timezone)  # refuse a bad cron before serving

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if schedule:
            from dynbooks.schedule import start_scheduler

            scheduler = start_scheduler(app.state.dynbooks)
        path = engine.url.database or ""
        checkpoints = WalCheckpointer(path) if engine.dialect.name == "sqlite" and path != ":memory:" else None
        if checkpoints is not None:
            checkpoints.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=True)
            if checkpoints is not None:
                checkpoints.stop()
            engine.dispose()

    app = FastAPI(lifespan=lifespan, title="dynbooks", version=__version__,
                  description="Dynamic book management: the same operations as the `dynbooks` CLI. "
                              "Send `Authorization: Bearer TOKEN` (`dynbooks token create EMAIL`).",
                  docs_url=None, redoc_url=None)  # Swagger UI would load from a CDN: not here
    app.state.dynbooks = AppState(settings=settings, engine=engine, config=config)
    app.include_router(hooks)
    app.include_router(public)
    app.include_router(router)
    app.include_router(more_router)
    from dynbooks.web import mount

    mount(app)

    @app.exception_handler(DynbooksError)
    async def _domain_error(request: Request, exc: DynbooksError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": {"message": exc.message, "details": exc.details}},
                                status_code=exc.http_status)
        from dynbooks.web.pages import error_page

        return error_page(request, exc.http_status, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        details = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": {"message": "invalid request", "details": details}}, status_code=422)
        from dynbooks.web.pages import error_page

        return error_page(request, 422, "invalid request", details)

    def openapi() -> dict[str, Any]:
        """FastAPI's schema, with every 422 answer in dynbooks' one error shape."""
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            for path in doc.get("paths", {}).values():
                for operation in path.values():
                    answer = operation.get("responses", {}).get("422")
                    if answer is not None:
                        answer["content"] = {"application/json": {"schema": {
                            "$ref": "#/components/schemas/ErrorPublic"}}}
            schemas = doc.get("components", {}).get("schemas", {})
            reason = schemas.get("ReturnRequest", {}).get("properties", {}).get("reason")
            if reason is not None:  # the reason codes of this configuration
                reason["enum"] = sorted(config.reasons)
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
            body: dict[str, Any] = {"error": {"message": str(exc.detail), "details": []}}
            return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
        from dynbooks.web.pages import error_page

        return error_page(request, exc.status_code, str(exc.detail), [], headers=exc.headers)

    app.add_middleware(SecurityHeaders, headers=SECURITY_HEADERS, hsts=HSTS, loopback=LOOPBACK)

    return app
