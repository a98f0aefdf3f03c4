"""The web app's pages (SPEC §8 Web app): parse the form, check who may see it, call a service, render.

- everyone: ``/login``, ``/logout``; ``/`` sends each role to its home;
- rep: ``/book`` (their book), ``/accounts/{id}`` (with the return form; the replacement shows at once);
- manager: ``/team`` (balance, returns with coaching flags, coverage; charts with their data tables),
  ``/reps/{rep_id}`` (drill-down to a rep's book);
- admin: ``/admin/review`` (fix, reintroduce, retire), ``/admin/cycle`` (preview, then commit).

Requests from htmx (``HX-Request``) get the fragment they target; others get the whole page, so every
form also works without JavaScript.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import select

from dynbooks.api.deps import State, app_state
from dynbooks.domain.errors import InvalidInput, UsageError
from dynbooks.domain.rules import Route
from dynbooks.reports import ReportFilters
from dynbooks.services import admin
from dynbooks.services.access import check_account, check_rep
from dynbooks.services.accounts import account_detail
from dynbooks.services.auth import User, authenticate, end_sessions
from dynbooks.services.cache import Timed
from dynbooks.services.context import Context
from dynbooks.services.cycle import run_cycle
from dynbooks.services.reads import book_timed
from dynbooks.services.reporting import run_report
from dynbooks.services.returns import return_account
from dynbooks.store.schema import reps
from dynbooks.web.session import (
    LOGIN_COOKIE,
    CsrfForm,
    LoginThrottle,
    WebCtx,
    WebUser,
    csrf_matches,
    end_session,
    secure,
    start_session,
)

__all__ = ["error_page", "router", "templates"]

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["tojson_attr"] = lambda v: json.dumps(v, default=str)
router = APIRouter(include_in_schema=False)
PREVIEW_ROWS = 200


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("user", getattr(request.state, "user", None))
    values.setdefault("csrf", getattr(request.state, "csrf", ""))
    return templates.TemplateResponse(request, name, values, status_code=status)


def htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(request: Request, status: int, message: str, details: list[str],
               headers: Mapping[str, str] | None = None) -> HTMLResponse:
    name = "_error.html" if htmx(request) else "error.html"
    response = render(request, name, status=status, status_code=status, message=message, details=details)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _safe_next(url: str | None) -> str:
    return url if url and url.startswith("/") and not url.startswith("//") else "/"


# --- signing in ---------------------------------------------------------------------------------------------

@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", login_csrf=token, next=_safe_next(next), error=None, email="")
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="lax", secure=secure(request))
    return response


@router.post("/login")
async def login(request: Request, state: State) -> Response:
    form = await request.form()
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    next_url = _safe_next(str(form.get("next") or "/"))
    if not csrf_matches(str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_COOKIE)):
        raise HTTPException(403, "the login form expired; reload the page and sign in again")
    throttle: LoginThrottle = request.app.state.login_throttle
    key, now = email.strip().lower(), state.clock().timestamp()
    token = str(form.get("csrf_token"))
    wait = throttle.wait_seconds(key, now)
    if wait > 0:
        return render(request, "login.html", status=429, login_csrf=token, next=next_url, email=email,
                      error=f"Too many failed sign-ins for this e-mail: try again in {int(wait // 60) + 1} minutes.")
    user = authenticate(state.context("web"), email, password)
    if user is None:
        throttle.failed(key, now)
        return render(request, "login.html", status=401, login_csrf=token, next=next_url,
                      error="Wrong e-mail or password.", email=email)
    throttle.succeeded(key)
    response = RedirectResponse(next_url, status_code=303)
    start_session(request, response, state, user)
    return response


@router.post("/logout")
def logout(request: Request, state: State, user: WebUser, form: CsrfForm) -> Response:
    # Sign out everywhere: every session of this user ends, copies of this cookie and other browsers too.
    end_sessions(state.context(f"web:{user.email}"), user.email, at=state.clock())
    response = RedirectResponse("/login", status_code=303)
    end_session(request, response)
    return response


@router.get("/")
def home(user: WebUser) -> Response:
    target = {"rep": "/book", "manager": "/team", "admin": "/admin/cycle"}[user.role]
    return RedirectResponse(target, status_code=303)


# --- reps -------------------------------------------------------------------------------------------------

@router.get("/book")
def my_book(request: Request, ctx: WebCtx, user: WebUser) -> Response:
    if user.rep_id is None:
        return RedirectResponse("/", status_code=303)
    return _book_page(request, ctx, user, user.rep_id)


@router.get("/reps/{rep_id}")
def rep_book(request: Request, rep_id: str, ctx: WebCtx, user: WebUser) -> Response:
    return _book_page(request, ctx, user, rep_id)


def _book_page(request: Request, ctx: Context, user: User, rep_id: str) -> Response:
    check_rep(ctx, user, rep_id)
    head, table = app_state(request).cache.get(("book", rep_id), ctx.now, lambda: _book_table(ctx, rep_id))
    return render(request, "book.html", book=head, own=user.rep_id == rep_id, table=table)


def _book_table(ctx: Context, rep_id: str) -> Timed[tuple[dict[str, Any], Markup]]:
    """The book's heading data and its rendered table: the same for every reader of this rep's book, so
    the page cache keeps it until the data or the clock changes it."""
    timed = book_timed(ctx, rep_id)
    data = timed.value
    table = templates.env.get_template("_book_table.html").render(
        book=data, new=sum(a["new"] for a in data["accounts"]), warned=sum(a["warning"] for a in data["accounts"]))
    head = {k: v for k, v in data.items() if k != "accounts"}
    return Timed((head, Markup(table)), timed.valid_until)


@router.get("/accounts/{account_id}")
def account_page(request: Request, account_id: str, ctx: WebCtx, user: WebUser) -> Response:
    owner = check_account(ctx, user, account_id)
    detail = account_detail(ctx, account_id)
    return render(request, "account.html", a=detail, owner=owner, reasons=list(ctx.config.reasons.values()),
                  can_return=_can_return(detail, user), today=ctx.now.day.isoformat(), result=None)


def _can_return(detail: dict[str, Any], user: User) -> bool:
    owned = [r for r in detail["roles"] if r["state"] == "owned"]
    return bool(owned) and (user.role != "rep" or any(f"owned by {user.rep_id} " in r["explanation"] for r in owned))


@router.post("/accounts/{account_id}/return")
def return_page(request: Request, account_id: str, ctx: WebCtx, user: WebUser, form: CsrfForm) -> Response:
    owner = check_account(ctx, user, account_id)
    rep_id = user.rep_id if user.role == "rep" else (form.get("rep_id") or owner)
    if user.role == "manager" and rep_id is not None:
        check_rep(ctx, user, rep_id)
    code = form.get("reason", "")
    until = None
    if form.get("until"):
        try:
            until = date.fromisoformat(form["until"])
        except ValueError:
            raise UsageError(f"{form['until']!r} is not a date") from None
    reason = ctx.config.reasons.get(code)
    if reason is not None and reason.route is Route.REST_UNTIL and until is None:
        raise InvalidInput(f"“{code}” needs the date the prospect gave: pick it in the date field")
    result = return_account(ctx, account_id, code, rep_id=rep_id, until=until, note=form.get("note") or None)
    names = _names(ctx, [a for a in result["replacements"]])
    if htmx(request):
        return render(request, "_return_result.html", result=result, names=names)
    return render(request, "returned.html", result=result, names=names)


def _names(ctx: Context, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    from dynbooks.store.schema import accounts

    with ctx.reading() as conn:
        return dict(conn.execute(select(accounts.c.account_id, accounts.c.name)
                                 .where(accounts.c.account_id.in_(ids))).all())


# --- managers ---------------------------------------------------------------------------------------------

@router.get("/team")
def team_page(request: Request, ctx: WebCtx, user: WebUser, team: str | None = None) -> Response:
    with ctx.reading() as conn:
        teams = sorted(t for t in conn.execute(select(reps.c.team).distinct()).scalars() if t)
    if user.role == "manager":
        team = user.team
    elif user.role == "admin":
        team = team or (teams[0] if teams else None)
    else:
        raise HTTPException(404, "no such page")
    filters = ReportFilters(team=team)
    balance = run_report(ctx, "balance", filters)
    returns = run_report(ctx, "returns", filters)
    coverage = run_report(ctx, "coverage", filters)
    reasons = sorted({r["reason"] for r in returns.rows})
    periods = sorted({r["period"] for r in returns.rows})
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in returns.rows:
        counts[(r["period"], r["reason"])] += int(r["count"])
    balance_chart = {
        "kind": "bar", "title": "Book size and capacity per rep",
        "categories": [r["rep_id"] for r in balance.rows],
        "series": [{"name": "book size", "data": [r["size"] for r in balance.rows]},
                   {"name": "capacity", "data": [r["capacity"] for r in balance.rows]}],
    }
    returns_chart = {
        "kind": "stacked", "title": "Returns by reason per period", "categories": periods,
        "series": [{"name": c, "data": [counts[(p, c)] for p in periods]} for c in reasons],
    }
    return render(request, "team.html", team=team, teams=teams if user.role == "admin" else [],
                  balance=balance.to_json(), returns=returns.to_json(), coverage=coverage.to_json(),
                  reasons=reasons, balance_chart=balance_chart,
                  returns_chart=returns_chart)


# --- RevOps -----------------------------------------------------------------------------------------------

def _admin_only(user: User) -> None:
    if not user.is_admin:
        raise HTTPException(404, "no such page")


@router.get("/admin/review")
def review_page(request: Request, ctx: WebCtx, user: WebUser, done: str | None = None) -> Response:
    _admin_only(user)
    return render(request, "review.html", rows=admin.review_list(ctx), fields=sorted(admin.EDITABLE), done=done)


@router.post("/admin/review/{account_id}/{action}")
def review_action(request: Request, account_id: str, action: str, ctx: WebCtx, user: WebUser,
                  form: CsrfForm) -> Response:
    _admin_only(user)
    if action == "reintroduce":
        admin.reintroduce(ctx, account_id, form.get("role") or None)
        done = f"{account_id} is back in the pool."
    elif action == "retire":
        admin.retire(ctx, account_id)
        done = f"{account_id} is retired."
    elif action == "fix":
        admin.fix(ctx, account_id, [f"{form.get('field', '')}={form.get('value', '')}"])
        done = f"{account_id}: {form.get('field')} set to {form.get('value') or 'empty'}."
    else:
        raise HTTPException(404, "no such action")
    return RedirectResponse(f"/admin/review?done={done}", status_code=303)


@router.get("/admin/cycle")
def cycle_page(request: Request, ctx: WebCtx, user: WebUser) -> Response:
    _admin_only(user)
    return render(request, "cycle.html", result=False, as_of=ctx.now.day.isoformat())


@router.post("/admin/cycle/{step}")
def cycle_action(request: Request, step: str, ctx: WebCtx, user: WebUser, form: CsrfForm) -> Response:
    _admin_only(user)
    if step not in ("preview", "commit"):
        raise HTTPException(404, "no such step")
    result = run_cycle(ctx, dry_run=step == "preview")
    values: dict[str, Any] = {"summary": result.summary(), "changes": result.changes()[:PREVIEW_ROWS],
              "more": max(0, len(result.changes()) - PREVIEW_ROWS)}
    if htmx(request):
        return render(request, "_cycle_result.html", **values)
    return render(request, "cycle.html", as_of=ctx.now.day.isoformat(), result=True, **values)


@router.get("/admin/pool")
def pool_page(request: Request, ctx: WebCtx, user: WebUser) -> Response:
    """The pool explorer: field filters (as ``GET /api/pool``), one page of accounts; htmx swaps the table."""
    _admin_only(user)
    from dynbooks.services.pool_explorer import PARAMS, STATUSES, explore_pool, query_from
    from dynbooks.services.reads import pool

    params = {k: v for k, v in request.query_params.items() if k in PARAMS}
    if params.get("limit") and not params.get("per_page"):
        params["per_page"] = request.query_params["limit"]  # the older ``?limit=`` link
    explored = explore_pool(ctx, query_from(params))

    def query(page: int) -> str:
        return urlencode({k: v for k, v in params.items() if k != "page" and v} | {"page": page})

    values = {"explored": explored, "f": explored["filters"], "query": query}
    if htmx(request) and request.headers.get("HX-Target") == "pool-table":
        return render(request, "_pool_table.html", **values)
    return render(request, "pool.html", pool=pool(ctx, explored["role"], 0), roles=ctx.config.roles,
                  rules=sorted(r.name for r in ctx.config.book_rule if r.role == explored["role"]),
                  statuses=STATUSES, **values)


@router.get("/market-map")
def market_map_page(request: Request, ctx: WebCtx, user: WebUser, page: int = 1, per_page: int = 50) -> Response:
    """Admins and managers: the written-back map scores as a scatter with its table; the list is paged."""
    if user.role not in ("admin", "manager"):
        raise HTTPException(404, "no such page")
    from dynbooks.services.access import team_reps
    from dynbooks.services.market_map_view import market_map_view

    sample = 2_000
    view = market_map_view(ctx, page=page, per_page=per_page, sample=sample,
                           team_reps=None if user.is_admin else team_reps(ctx, user.team or ""))
    return render(request, "market_map.html", view=view, sample=sample)


@router.get("/admin/cycles")
def cycles_page(request: Request, ctx: WebCtx, user: WebUser, done: str | None = None) -> Response:
    _admin_only(user)
    from dynbooks.services.cycle_history import cycle_history

    return render(request, "cycles.html", cycles=cycle_history(ctx), done=done)


@router.post("/admin/cycles/{cycle_id}/undo")
def cycle_undo(request: Request, cycle_id: str, ctx: WebCtx, user: WebUser, form: CsrfForm) -> Response:
    """Undo the latest cycle; a refusal (its accounts changed since) shows the error page with the reasons."""
    _admin_only(user)
    from dynbooks.services.undo import undo_cycle

    s = undo_cycle(ctx, cycle_id).summary()
    done = (f"Cycle {s['cycle_id']} undone: {s['distributed']} distributed back to the pool, {s['retrieved']} "
            f"retrieved back to their owners, {s['released']} released back to rest.")
    return RedirectResponse(f"/admin/cycles?{urlencode({'done': done})}", status_code=303)


@router.get("/admin/import")
def import_form(request: Request, ctx: WebCtx, user: WebUser) -> Response:
    _admin_only(user)
    from dynbooks.ingest import KINDS

    return render(request, "import.html", kinds=KINDS, result=None, errors=None, kind=None)


@router.post("/admin/import")
async def import_upload(request: Request, state: State, user: WebUser) -> Response:
    """Upload a CSV: all or nothing, or with "skip bad rows" the good rows land; bad rows are listed."""
    import tempfile

    from starlette.concurrency import run_in_threadpool

    from dynbooks.domain.errors import DynbooksError
    from dynbooks.ingest import KINDS
    from dynbooks.services.imports import import_file
    from dynbooks.web.session import csrf_matches as matches

    _admin_only(user)
    form = await request.form()
    if not matches(str(form.get("csrf_token") or ""), getattr(request.state, "csrf", "")):
        raise HTTPException(403, "the form expired; reload the page and try again")
    kind = str(form.get("kind") or "")
    upload = form.get("file")
    if kind not in KINDS or upload is None or isinstance(upload, str):
        raise InvalidInput("choose a kind and a CSV file")
    skip = form.get("skip_invalid") == "on"
    folder = Path(tempfile.mkdtemp(prefix="dynbooks-upload-"))
    path = folder / Path(upload.filename or "upload.csv").name
    path.write_bytes(await upload.read())
    ctx = state.context(f"web:{user.email}")
    result, errors = None, None
    try:
        result = await run_in_threadpool(import_file, ctx, kind, path, skip_invalid=skip,
                                         rejects=folder / "rejects.csv")
        if skip and result.get("rejects_file"):
            errors = Path(result["rejects_file"]).read_text(encoding="utf-8").splitlines()[1:][:200]
    except DynbooksError as exc:
        errors = [exc.message, *exc.details[:500]]
    finally:
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    status = 422 if result is None else 200
    return render(request, "import.html", status=status, kinds=KINDS, result=result, errors=errors, kind=kind)


@router.get("/admin/reps")
def reps_page(request: Request, ctx: WebCtx, user: WebUser, done: str | None = None) -> Response:
    _admin_only(user)
    from dynbooks.services.reps_admin import list_reps

    return render(request, "reps.html", reps=list_reps(ctx), rules=list(ctx.config.rules), done=done)


@router.post("/admin/reps")
def reps_save(request: Request, ctx: WebCtx, user: WebUser, form: CsrfForm) -> Response:
    """Add a rep, or change one (deactivate, start date for the ramp, unavailable until)."""
    _admin_only(user)
    from urllib.parse import quote

    from dynbooks.services.reps_admin import EDITABLE_REP_COLUMNS, save_rep

    values = {k: form[k].strip() for k in EDITABLE_REP_COLUMNS if k in form}
    if "active_box" in form or form.get("editing") == "1":
        values["active"] = "true" if form.get("active_box") == "on" else "false"
    result = save_rep(ctx, values)
    moved = f", {result['distributed']} accounts dealt" if result.get("distributed") else ""
    return RedirectResponse(f"/admin/reps?done={quote(values.get('rep_id', ''))} saved{moved}.", status_code=303)


@router.get("/admin/rules")
def rules_page(request: Request, state: State, user: WebUser) -> Response:
    _admin_only(user)
    from dynbooks.config import find_config

    path = find_config(state.settings.config)
    return render(request, "rules.html", toml=path.read_text(encoding="utf-8") if path.is_file() else "",
                  path=str(path), errors=None, saved=False)


@router.post("/admin/rules")
def rules_save(request: Request, state: State, user: WebUser, form: CsrfForm) -> Response:
    """Validate the whole configuration first (every bad key named); only a valid one is saved and used."""
    _admin_only(user)
    import os
    import tempfile

    from dynbooks.config import find_config, load_config
    from dynbooks.domain.errors import DynbooksError

    path = find_config(state.settings.config)
    toml = form.get("toml", "").replace("\r\n", "\n")
    fd, name = tempfile.mkstemp(prefix=".dynbooks-", suffix=".toml", dir=str(path.parent))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(toml)
    try:
        config = load_config(Path(name))
    except DynbooksError as exc:
        Path(name).unlink(missing_ok=True)
        return render(request, "rules.html", status=422, toml=toml, path=str(path),
                      errors=exc.details or [exc.message], saved=False)
    os.replace(name, path)
    state.config = config
    return render(request, "rules.html", toml=toml, path=str(path), errors=None, saved=True)
