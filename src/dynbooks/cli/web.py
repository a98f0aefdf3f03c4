"""The commands of the web app and the API: ``user add``, ``user list``, ``user logout``, ``token create``,
``serve``."""

from __future__ import annotations

import getpass
import sys

import typer

from dynbooks.cli import app
from dynbooks.cli.output import emit, err, table
from dynbooks.cli.state import globals_of
from dynbooks.domain.errors import InvalidInput
from dynbooks.services import auth

user_app = typer.Typer(help="People who sign in to the web app and the API.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for scripts and webhooks.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


def _password() -> str:
    """From the terminal (asked twice), else the first line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise InvalidInput("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The login."),
    role: str = typer.Option(..., "--role", help="admin, manager or rep."),
    rep: str | None = typer.Option(None, "--rep", help="rep: the rep id this user is."),
    team: str | None = typer.Option(None, "--team", help="manager: the team they manage."),
) -> None:
    """Add a user (or change an existing user's password, role and link); the password comes from stdin."""
    g = globals_of(ctx)
    c = g.context(actor="cli")
    result = auth.add_user(c, email, _password(), role, rep_id=rep, team=team)
    link = f" (rep {result['rep_id']})" if result["rep_id"] else f" (team {result['team']})" if result["team"] else ""
    emit(result, g.json, f"{'added' if result['created'] else 'updated'} {result['email']}: {role}{link}")


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """Every user with their role and link."""
    g = globals_of(ctx)
    rows = auth.list_users(g.context())
    if g.json:
        emit(rows, True)
        return
    table(f"users ({len(rows)})", ["email", "role", "rep", "team", "active"],
          [[r["email"], r["role"], r["rep_id"], r["team"], r["active"]] for r in rows])


@user_app.command("logout")
def user_logout(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The user whose web sessions end."),
) -> None:
    """End every web session of a user, in every browser (e.g. a lost laptop). API tokens stay: revoke them."""
    g = globals_of(ctx)
    result = auth.end_sessions(g.context(actor="cli"), email)
    emit(result, g.json, f"ended every web session of {result['email']}")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The user the token acts as."),
    scope: list[str] = typer.Option([], "--scope", help="Repeatable: read, write, webhooks (default: all)."),
    name: str | None = typer.Option(None, "--name", help="A label, e.g. 'crm-webhooks'."),
) -> None:
    """Create an API token and print it once (only its hash is kept). Send it as `Authorization: Bearer TOKEN`."""
    g = globals_of(ctx)
    result = auth.create_token(g.context(), email, scopes=scope or None, name=name)
    if not g.json:
        err.print(f"token for {result['email']} (scopes: {', '.join(result['scopes'])}); it is shown only once:")
    emit(result, g.json, result["token"])


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, "--port"),
    schedule: bool = typer.Option(True, "--schedule/--no-schedule", help="Run cycles on [schedule] cycle_cron."),
) -> None:
    """Run the web app, the HTTP API and the scheduled cycles (one worker; SQLite by default).

    Outside a loopback host the server runs in production mode: DYNBOOKS_SECRET_KEY must be set.
    """
    import gc
    import logging

    import uvicorn

    from dynbooks.app import create_app
    from dynbooks.settings import Settings

    g = globals_of(ctx)
    if g.as_of is not None:
        g.now()  # refuse a bad --as-of now
    production = host not in LOOPBACK_HOSTS
    settings = Settings.from_env(db=g.db, config=g.config, as_of=g.as_of, wait=g.wait,
                                 environment="production" if production else None)
    application = create_app(settings, schedule=schedule)
    shown = "localhost" if host in LOOPBACK_HOSTS else host
    err.print(f"dynbooks serving {g.db} on http://{shown}:{port}/ (API: /api, schema: /openapi.json)"
              + (f", as of {g.as_of}" if g.as_of else ""))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # What start-up made (modules, the ORM's metadata, the schemas: most of the heap) lives as long as the
    # process: frozen, out of the collector's sight, a full collection no longer walks it. It did every few
    # seconds under load, stopping every request for ~100 ms (1M accounts, book page p99: 60 -> 6 ms).
    gc.collect()
    gc.freeze()
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=production)


notify_app = typer.Typer(help="Reps' digests and managers' weekly summaries (e-mail, Slack).", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


def _notify(ctx: typer.Context, which: str, dry_run: bool) -> None:
    from dynbooks.notify import senders_for
    from dynbooks.services import notify

    g = globals_of(ctx)
    c = g.context(actor="notify")
    messages = notify.rep_digests(c) if which == "digests" else notify.manager_summaries(c)
    if dry_run:
        emit({"messages": [m.__dict__ for m in messages]}, g.json,
             "\n\n".join(f"To: {m.to or m.name}\nSubject: {m.subject}\n\n{m.text}" for m in messages)
             or "nothing to send")
        return
    senders = senders_for(c.config.notifications)
    if not senders:
        raise InvalidInput("no channel configured: set [notifications] smtp_host and/or slack_webhook_url")
    result = notify.deliver(messages, senders)
    emit(result, g.json, f"{result['messages']} messages; sent {result['sent']}"
                         + (f"; failed: {'; '.join(result['failed'])}" if result["failed"] else ""))
    if result["failed"]:
        raise typer.Exit(1)


@notify_app.command("digests")
def notify_digests(ctx: typer.Context, dry_run: bool = typer.Option(False, "--dry-run", help="Print, send nothing.")
                   ) -> None:
    """Each rep with new accounts or accounts about to be retrieved gets a digest."""
    _notify(ctx, "digests", dry_run)


@notify_app.command("summaries")
def notify_summaries(ctx: typer.Context, dry_run: bool = typer.Option(False, "--dry-run", help="Print, send nothing.")
                     ) -> None:
    """Each manager gets the week's summary of their team: balance, returns, coaching flags."""
    _notify(ctx, "summaries", dry_run)
