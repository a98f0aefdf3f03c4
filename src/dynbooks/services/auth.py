"""Use cases: users, passwords and API tokens (SPEC §8 Roles, §9 HTTP API).

Passwords are stored as Argon2id hashes (argon2-cffi's defaults). An API token reads
``dbk_<token_id>_<secret>``: the public ``token_id`` finds the row, and only the SHA-256 of the secret is
stored (a token has 256 bits of entropy, so a fast hash is enough), compared in constant time. A token
carries scopes: ``read`` (GET), ``write`` (returns, cycles) and ``webhooks``; its user's role still
decides what it may see.

Web sessions end for good with :func:`end_sessions`: it stamps the user's ``sessions_valid_after``, and a
session signed in before that stamp is no session (web/session.py reads the stamp with the user, so a page
view never writes). API tokens are not sessions: they are revoked one by one.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from dynbooks.domain.errors import InvalidInput, NotFound, Refused
from dynbooks.services.context import Context
from dynbooks.services.history import naive
from dynbooks.store.schema import api_tokens, reps, users

__all__ = [
    "ROLES",
    "SCOPES",
    "User",
    "add_user",
    "authenticate",
    "create_token",
    "end_sessions",
    "get_user",
    "hash_password",
    "list_users",
    "user_for_token",
]

ROLES = ("admin", "manager", "rep")
SCOPES = ("read", "write", "webhooks")
MIN_PASSWORD = 8

_hasher = PasswordHasher()  # Argon2id
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_TOKEN = re.compile(r"^dbk_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class User:
    """Who signed in. ``rep_id`` is set for reps, ``team`` for managers."""

    user_id: int
    email: str
    role: str
    rep_id: str | None = None
    team: str | None = None
    scopes: frozenset[str] = frozenset(SCOPES)
    sessions_valid_after: datetime | None = None  # aware UTC; web sessions signed in before it are over

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """What an unknown e-mail's password is checked against; made at the first sign-in, not at import (every
    CLI command imports this module)."""
    return _hasher.hash("not a password anyone has")


def _user(row: Any, scopes: frozenset[str] = frozenset(SCOPES)) -> User:
    stamp = row.sessions_valid_after
    return User(user_id=int(row.user_id), email=row.email, role=row.role, rep_id=row.rep_id, team=row.team,
                scopes=scopes, sessions_valid_after=None if stamp is None else stamp.replace(tzinfo=UTC))


def add_user(ctx: Context, email: str, password: str, role: str, *, rep_id: str | None = None,
             team: str | None = None) -> dict[str, Any]:
    """Create a user, or update the password, role and link of an existing one (same e-mail).

    A rep is linked to an existing rep id; a manager to one team (the ``team`` column of reps).
    """
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password is too short: at least {MIN_PASSWORD} characters")
    if role == "rep" and not rep_id:
        raise InvalidInput("a rep user needs --rep REP (the rep id it is linked to)")
    if role == "manager" and not team:
        raise InvalidInput("a manager user needs --team TEAM")
    if role != "rep":
        rep_id = None
    if role != "manager":
        team = None
    values = {"email": email, "password_hash": hash_password(password), "role": role, "rep_id": rep_id,
              "team": team, "active": True}
    with ctx.writing() as conn:
        if rep_id is not None and conn.execute(select(reps.c.rep_id).where(reps.c.rep_id == rep_id)).first() is None:
            raise NotFound(f"rep {rep_id!r} does not exist")
        existing = conn.execute(select(users.c.user_id).where(users.c.email == email)).scalar()
        if existing is None:
            try:
                conn.execute(insert(users).values(**values, created_at=naive(ctx.now.stamp)))
            except IntegrityError:
                raise Refused(f"user {email} was just created by someone else") from None
            created = True
        else:
            conn.execute(update(users).where(users.c.user_id == existing).values(**values))
            created = False
    return {"email": email, "role": role, "rep_id": rep_id, "team": team, "created": created}


def list_users(ctx: Context) -> list[dict[str, Any]]:
    with ctx.reading() as conn:
        rows = conn.execute(select(users).order_by(users.c.email)).all()
    return [{"email": r.email, "role": r.role, "rep_id": r.rep_id, "team": r.team, "active": r.active}
            for r in rows]


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(users).where(users.c.user_id == user_id, users.c.active.is_(True))).first()
    return None if row is None else _user(row)


def end_sessions(ctx: Context, email: str, *, at: datetime | None = None) -> dict[str, Any]:
    """End every web session of ``email`` signed in before ``at`` (default: the wall clock, now).

    The wall clock, not ``ctx.now``: sessions are signed in on the wall clock, while ``ctx.now`` may be a
    fixed business date (``--as-of``). API tokens are left alone.
    """
    email = email.strip().lower()
    when = (at or datetime.now(UTC)).astimezone(UTC)
    with ctx.writing() as conn:
        done = conn.execute(update(users).where(users.c.email == email)
                            .values(sessions_valid_after=naive(when))).rowcount
    if not done:
        raise NotFound(f"user {email!r} does not exist")
    return {"email": email, "sessions_valid_after": when.isoformat()}


def authenticate(ctx: Context, email: str, password: str) -> User | None:
    """The user whose password this is, else ``None`` (the same work either way: no user enumeration)."""
    with ctx.reading() as conn:
        row = conn.execute(select(users).where(users.c.email == email.strip().lower(),
                                               users.c.active.is_(True))).first()
    try:
        _hasher.verify(row.password_hash if row is not None else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return None if row is None else _user(row)


def create_token(ctx: Context, email: str, *, scopes: list[str] | None = None,
                 name: str | None = None) -> dict[str, Any]:
    """A new token for ``email``; the token itself is in the answer once and never stored."""
    wanted = list(dict.fromkeys(scopes or SCOPES))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise InvalidInput(f"unknown scope {unknown[0]!r}; use one of {', '.join(SCOPES)}")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with ctx.writing() as conn:
        user_id = conn.execute(select(users.c.user_id).where(users.c.email == email.strip().lower())).scalar()
        if user_id is None:
            raise NotFound(f"user {email!r} does not exist (dynbooks user add first)")
        conn.execute(insert(api_tokens).values(
            token_id=token_id, user_id=user_id, secret_hash=_digest(secret), scopes=" ".join(sorted(wanted)),
            name=name, created_at=naive(ctx.now.stamp)))
    return {"email": email, "token": f"dbk_{token_id}_{secret}", "token_id": token_id, "scopes": sorted(wanted)}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def user_for_token(conn: Connection, token: str) -> User | None:
    """The active user a valid, unrevoked token belongs to, with the token's scopes; else ``None``."""
    match = _TOKEN.match(token.strip())
    if match is None:
        return None
    token_id, secret = match.groups()
    row = conn.execute(
        select(api_tokens.c.secret_hash, api_tokens.c.scopes, users)
        .join(users, users.c.user_id == api_tokens.c.user_id)
        .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None), users.c.active.is_(True))
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        return None
    return _user(row, frozenset(row.scopes.split()))
