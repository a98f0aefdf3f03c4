"""The HTTP API (SPEC §9): parse, authorize, call the same service the CLI calls, answer JSON.

No or bad token: 401. A rep or an account the user may not see: 404, worded like a missing id. A token
without the scope an operation needs, or a role that may not run it (cycles and webhooks are for admins):
403. Errors a user can cause answer ``{"error": {"message", "details"}}`` with the status of their class
(:mod:`dynbooks.domain.errors`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from dynbooks import __version__
from dynbooks.api.deps import ApiUser, Ctx, State, bearer, check_scope, require_scope, token_user
from dynbooks.api.schemas import (
    AccountPublic,
    ActivityRow,
    BookPublic,
    CyclePublic,
    CycleRequest,
    ErrorPublic,
    HealthPublic,
    MePublic,
    ReturnPublic,
    ReturnRequest,
    SignalRow,
    WebhookPublic,
)
from dynbooks.domain.errors import InvalidInput
from dynbooks.domain.rules import Route
from dynbooks.services.access import check_account, check_rep
from dynbooks.services.accounts import account_detail
from dynbooks.services.auth import User
from dynbooks.services.context import Context
from dynbooks.services.cycle import run_cycle
from dynbooks.services.idempotency import Idempotency, answered
from dynbooks.services.reads import book
from dynbooks.services.returns import return_account
from dynbooks.services.webhooks import deliver

__all__ = ["hooks", "public", "router"]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorPublic, "description": "The body is not JSON"},
    401: {"description": "No token, or a bad one"},
    404: {"model": ErrorPublic, "description": "Not found, or not visible to this user"},
}

router = APIRouter(prefix="/api", responses=ERRORS)
public = APIRouter(prefix="/api")
hooks = APIRouter(prefix="/api/webhooks", responses=ERRORS)
"""The webhooks, on a router of their own that the app includes first: a CRM posts to them many times a
second, and FastAPI matches a request against each included router's routes in turn."""

Reader = Annotated[User, Depends(require_scope("read"))]
Writer = Annotated[User, Depends(require_scope("write"))]


def _admin(user: User, what: str) -> None:
    if not user.is_admin:
        raise HTTPException(403, f"{what} is for admins")


@public.get("/health", response_model=HealthPublic, tags=["meta"])
def health(state: State) -> dict[str, Any]:
    """No login needed: answers when the app runs and its database answers."""
    with state.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    return {"status": "ok", "version": __version__}


@router.get("/me", response_model=MePublic, tags=["meta"])
def me(user: ApiUser) -> dict[str, Any]:
    return {"email": user.email, "role": user.role, "rep_id": user.rep_id, "team": user.team,
            "scopes": sorted(user.scopes)}


@router.get("/books/{rep_id}", response_model=BookPublic, tags=["books"])
def get_book(rep_id: str, ctx: Ctx, user: Reader) -> dict[str, Any]:
    """A rep's book, best first; new accounts and accounts near retrieval are marked (as ``dynbooks book``)."""
    check_rep(ctx, user, rep_id)
    return book(ctx, rep_id)


@router.get("/accounts/{account_id}", response_model=AccountPublic, tags=["accounts"])
def get_account(account_id: str, ctx: Ctx, user: Reader) -> dict[str, Any]:
    """An account: firmographics, where it is per role and why, signals, activities, history."""
    check_account(ctx, user, account_id)
    return account_detail(ctx, account_id)


@router.post("/accounts/{account_id}/return", response_model=ReturnPublic, tags=["accounts"],
             responses={409: {"model": ErrorPublic, "description": "Refused by a rule"},
                        422: {"model": ErrorPublic, "description": "Invalid input"}})
def post_return(account_id: str, body: ReturnRequest, ctx: Ctx, user: Writer,
                idempotency_key: Annotated[str | None, Header(max_length=150)] = None) -> dict[str, Any]:
    """Return an account with a reason; it is routed by the reason and replaced at once (as ``dynbooks return``).

    A rep returns from their own book (``rep_id``, if given, must be theirs); a manager for a rep of their team.
    A repeated ``Idempotency-Key`` (per user) answers the first answer and takes no second replacement; the
    same key with another body is refused (422).
    """
    key = Idempotency.of(f"return/{user.email}", idempotency_key,
                         {"account_id": account_id} | body.model_dump(mode="json"))
    # Before the visibility check: once returned, the account is no longer in the rep's book.
    if (stored := answered(ctx, key)) is not None:
        return stored
    owner = check_account(ctx, user, account_id)
    rep_id = body.rep_id
    if user.role == "rep":
        if rep_id is not None and rep_id != user.rep_id:
            raise HTTPException(404, f"account {account_id!r} does not exist")
        rep_id = user.rep_id
    elif user.role == "manager" and rep_id is None:
        rep_id = owner
    elif user.role == "manager" and rep_id is not None:
        check_rep(ctx, user, rep_id)
    reason = ctx.config.reasons.get(body.reason)
    if reason is not None and reason.route is Route.REST_UNTIL and body.until is None:
        raise InvalidInput(f"reason {body.reason!r} needs \"until\": the date the prospect gave")
    return return_account(ctx, account_id, body.reason, rep_id=rep_id, until=body.until, note=body.note,
                          idempotency=key)


@router.post("/cycles", response_model=CyclePublic, tags=["cycles"],
             responses={403: {"description": "Not an admin"}, 409: {"model": ErrorPublic,
                                                                   "description": "Another cycle runs"}})
def post_cycle(body: CycleRequest, ctx: Ctx, user: Writer,
               idempotency_key: Annotated[str | None, Header(max_length=150)] = None) -> dict[str, Any]:
    """Run a cycle (release → retrieve → distribute), or preview it with ``dry_run`` (nothing is written).
    A repeated ``Idempotency-Key`` (per user) answers the first answer and runs no second cycle."""
    _admin(user, "running a cycle")
    key = Idempotency.of(f"cycles/{user.email}", idempotency_key, body.model_dump(mode="json"))
    return run_cycle(ctx, dry_run=body.dry_run, idempotency=key).answer()


async def _webhook_caller(request: Request, state: State,
                          credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                          x_dynbooks_timestamp: Annotated[str | None, Header()] = None,
                          x_dynbooks_signature: Annotated[str | None, Header()] = None) -> Context:
    """Who may post a delivery, checked in this order: with a webhook secret configured, the signature
    (``X-Dynbooks-Signature: sha256=HEX`` of HMAC-SHA256 over ``TIMESTAMP + "." + body``, and
    ``X-Dynbooks-Timestamp`` in Unix seconds within the window; else 401); then the token (401), its
    ``webhooks`` scope and an admin's role (403). One dependency rather than four: FastAPI's resolution of
    each was a tenth of a delivery's server CPU."""
    secret = state.settings.webhook_secret
    if secret:
        if not x_dynbooks_timestamp or not x_dynbooks_signature:
            raise HTTPException(401, "this webhook needs X-Dynbooks-Timestamp and X-Dynbooks-Signature")
        try:
            sent = int(x_dynbooks_timestamp)
        except ValueError:
            raise HTTPException(401, "X-Dynbooks-Timestamp is not Unix seconds") from None
        if abs(state.clock().timestamp() - sent) > state.settings.webhook_window:
            raise HTTPException(401, f"X-Dynbooks-Timestamp is more than {state.settings.webhook_window} s away")
        body = await request.body()
        expected = hmac.new(secret.encode(), x_dynbooks_timestamp.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(x_dynbooks_signature.removeprefix("sha256="), expected):
            raise HTTPException(401, "bad X-Dynbooks-Signature")
    user = check_scope(await token_user(state, credentials), "webhooks")
    _admin(user, "posting webhooks")
    return state.context(f"api:{user.email}")


WebhookCtx = Annotated[Context, Depends(_webhook_caller)]
HOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": WebhookPublic, "description": "Queued durably while a cycle holds the SQLite write lock; "
                                                 "applied exactly once when it commits"},
    403: {"description": "Not an admin"},
    409: {"model": ErrorPublic, "description": "A cycle holds the lock too long"},
    422: {"model": ErrorPublic, "description": "Bad rows; nothing was written"},
}


WEBHOOK_FIELDS = tuple(WebhookPublic.model_fields)


async def _hook(ctx: Context, kind: str, rows: list[Any], key: str | None) -> Response:
    # Awaited, not run in a request thread: on SQLite one writer thread writes the deliveries that arrive
    # together as a set (services/webhooks.py), and a thread per waiting request cost a third of the CPU.
    answer = await asyncio.wrap_future(deliver(ctx, kind, [r.model_dump(exclude_unset=True) for r in rows],
                                               idempotency_key=key))
    # The answer as response_model=WebhookPublic with exclude_none would send it, built directly: FastAPI's
    # validation of a returned dict cost ~8% of a delivery's server CPU.
    body = {k: answer[k] for k in WEBHOOK_FIELDS if answer.get(k) is not None}
    return JSONResponse(body, status_code=202 if answer.get("queued") else 200)


@hooks.post("/activities", response_model=WebhookPublic, response_model_exclude_none=True,
             tags=["webhooks"], responses=HOOK_RESPONSES)
async def post_activities(rows: list[ActivityRow], ctx: WebhookCtx,
                          idempotency_key: Annotated[str | None, Header(max_length=150)] = None) -> Response:
    """Activities as JSON rows with the CSV columns; meaningful ones move their owners' retrieval clocks.
    A repeated ``Idempotency-Key`` has no second effect and answers the first answer."""
    return await _hook(ctx, "activities", rows, idempotency_key)


@hooks.post("/signals", response_model=WebhookPublic, response_model_exclude_none=True,
             tags=["webhooks"], responses=HOOK_RESPONSES)
async def post_signals(rows: list[SignalRow], ctx: WebhookCtx,
                       idempotency_key: Annotated[str | None, Header(max_length=150)] = None) -> Response:
    """Signals as JSON rows with the CSV columns; a hand-raise (e.g. ``demo_request``) routes its account at once.
    A repeated ``Idempotency-Key`` has no second effect and answers the first answer."""
    return await _hook(ctx, "signals", rows, idempotency_key)
