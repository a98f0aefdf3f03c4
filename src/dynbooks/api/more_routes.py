"""The rest of the CLI's operations over HTTP: explain, history, pool, reports, the review queue, holds.

Reads follow the visibility rules of :mod:`dynbooks.services.access` (404 for what a user may not see);
RevOps operations (pool, review, hold/release, reactivate) are for admins (403 for others).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from dynbooks.api.deps import Ctx, require_scope
from dynbooks.api.routes import ERRORS
from dynbooks.api.schemas import CycleUndoPublic, CycleUndoRequest, ErrorPublic
from dynbooks.domain.errors import InvalidInput
from dynbooks.reports import REPORTS, ReportFilters
from dynbooks.services import admin
from dynbooks.services.access import check_account
from dynbooks.services.auth import User
from dynbooks.services.pool_explorer import MAX_PER_PAGE, explore_pool, query_from
from dynbooks.services.reads import explain, history, pool
from dynbooks.services.reporting import run_report
from dynbooks.services.undo import undo_cycle

__all__ = ["router"]

router = APIRouter(prefix="/api", responses=ERRORS | {
    403: {"description": "Not allowed for this role or token"},
    409: {"model": ErrorPublic, "description": "Refused by a rule"},
    422: {"model": ErrorPublic, "description": "Invalid input"},
})


Reader = Annotated[User, Depends(require_scope("read"))]


def _admin_writer(user: Annotated[User, Depends(require_scope("write"))]) -> User:
    if not user.is_admin:
        raise HTTPException(403, "this is for admins")
    return user



AdminWriter = Annotated[User, Depends(_admin_writer)]
Json = dict[str, Any]
IsoDate = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]


class ReintroduceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = Field(None, max_length=32)


class FixRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    set: dict[str, str] = Field(description="FIELD: VALUE, as `review fix --set FIELD=VALUE` (empty clears)",
                                min_length=1)


@router.get("/accounts/{account_id}/explain", tags=["accounts"])
def get_explain(account_id: str, ctx: Ctx, user: Reader) -> Json:
    """Why the account is where it is, per role (as ``dynbooks explain``)."""
    check_account(ctx, user, account_id)
    return explain(ctx, account_id)


@router.get("/accounts/{account_id}/history", tags=["accounts"])
def get_history(account_id: str, ctx: Ctx, user: Reader) -> list[Json]:
    """Every event of the account in order (as ``dynbooks history --json``)."""
    check_account(ctx, user, account_id)
    return history(ctx, account_id)


Text = Annotated[str | None, Query(max_length=200)]


@router.get("/pool", tags=["revops"])
def get_pool(ctx: Ctx, user: Reader, role: str | None = None,
             limit: Annotated[int, Query(ge=1, le=1000)] = 50, rule: Text = None,
             industry: Annotated[str | None, Query(max_length=2000, description="one of, comma-separated")] = None,
             country: Annotated[str | None, Query(max_length=2000, description="one of, comma-separated")] = None,
             region: Annotated[str | None, Query(max_length=2000, description="one of, comma-separated")] = None,
             employees_min: float | None = None, employees_max: float | None = None,
             fit_min: float | None = None, fit_max: float | None = None,
             status: Literal["ready", "pool", "owned", "resting", "review", "held", "retired", "any"] = "ready",
             q: Annotated[str | None, Query(max_length=200, description="text in the name or the id")] = None,
             page: Annotated[int, Query(ge=1)] = 1,
             per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50) -> Json:
    """The pool explorer; admins only. ``roles``: the ready pool per role with its buckets and best ``limit``
    accounts (as ``dynbooks pool``). ``rows``: one page (``page``, ``per_page``; ``total``, ``pages``) of the
    role's accounts that match the field filters, best priority first; the filters are evaluated as a book
    rule's filter (``filter`` shows it), ``rule`` keeps the accounts that book rule may take."""
    if not user.is_admin:
        raise HTTPException(403, "the pool is for admins")
    given = {"role": role, "rule": rule, "industry": industry, "country": country, "region": region,
             "employees_min": employees_min, "employees_max": employees_max, "fit_min": fit_min,
             "fit_max": fit_max, "status": status, "q": q, "page": page, "per_page": per_page}
    explored = explore_pool(ctx, query_from({k: None if v is None else str(v) for k, v in given.items()}))
    return pool(ctx, explored["role"], limit) | explored


@router.get("/reports/{name}", tags=["reports"])
def get_report(name: Literal["balance", "returns", "coverage", "audit", "productivity", "flow"], ctx: Ctx,
               user: Reader, rule: str | None = None, team: str | None = None, rep: str | None = None,
               since: IsoDate = None, until: IsoDate = None, by: Literal["week", "month"] = "week") -> Json:
    """A report (as ``dynbooks report NAME --json``). A manager's reports are narrowed to their team; reps
    have none."""
    if user.role == "rep":
        raise HTTPException(403, "reports are for managers and admins")
    if user.role == "manager":
        team = user.team
    assert name in REPORTS
    try:
        first, last = (None if d is None else date.fromisoformat(d) for d in (since, until))
    except ValueError as exc:
        raise InvalidInput(f"since/until: {exc}") from None
    return run_report(ctx, name, ReportFilters(rule=rule, team=team, rep=rep, since=first, until=last,
                                               by=by)).to_json()


@router.get("/review", tags=["revops"])
def get_review(ctx: Ctx, user: AdminWriter) -> list[Json]:
    """The review queue (as ``dynbooks review list --json``)."""
    return admin.review_list(ctx)


@router.post("/review/{account_id}/reintroduce", tags=["revops"])
def post_reintroduce(account_id: str, body: ReintroduceRequest, ctx: Ctx, user: AdminWriter) -> Json:
    return admin.reintroduce(ctx, account_id, body.role)


@router.post("/review/{account_id}/retire", tags=["revops"])
def post_retire(account_id: str, ctx: Ctx, user: AdminWriter) -> Json:
    return admin.retire(ctx, account_id)


@router.post("/review/{account_id}/fix", tags=["revops"])
def post_fix(account_id: str, body: FixRequest, ctx: Ctx, user: AdminWriter) -> Json:
    return admin.fix(ctx, account_id, [f"{k}={v}" for k, v in body.set.items()])


@router.post("/accounts/{account_id}/hold", tags=["revops"])
def post_hold(account_id: str, ctx: Ctx, user: AdminWriter) -> Json:
    """Park with the holding user: out of every book, never distributed or retrieved."""
    return admin.hold(ctx, account_id)


@router.post("/accounts/{account_id}/release", tags=["revops"])
def post_release(account_id: str, ctx: Ctx, user: AdminWriter) -> Json:
    return admin.release_hold(ctx, account_id)


@router.post("/accounts/{account_id}/reactivate", tags=["revops"])
def post_reactivate(account_id: str, ctx: Ctx, user: AdminWriter) -> Json:
    return admin.reactivate(ctx, account_id)


@router.post("/cycles/{cycle_id}/undo", response_model=CycleUndoPublic, tags=["cycles"])
def post_cycle_undo(cycle_id: str, ctx: Ctx, user: AdminWriter, body: CycleUndoRequest | None = None) -> Json:
    """Undo a cycle (as ``dynbooks cycle undo``): ``last`` or the id of the latest cycle not undone yet. Every
    move is reversed by an event; refused (409) when anything touched its accounts since, when the cycle is
    not the latest or is already undone. ``dry_run`` shows the reversal and writes nothing."""
    result = undo_cycle(ctx, None if cycle_id == "last" else cycle_id, dry_run=body is not None and body.dry_run)
    return result.summary() | {"changes": result.changes()}
