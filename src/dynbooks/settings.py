"""How the web app and the API run: the database, the configuration, the secrets (``dynbooks serve``).

Settings refuse placeholder secrets outside development: in development (the server bound to a loopback
address) a missing ``secret_key`` is replaced by a random one per process, so sessions end at a restart.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from typing import Literal

from dynbooks.domain.errors import InvalidInput
from dynbooks.store.db import DEFAULT_URL

__all__ = ["PLACEHOLDERS", "Settings"]

PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "dev", "development", "password", "xxx"})
MIN_SECRET = 32


@dataclass(frozen=True)
class Settings:
    """``as_of`` fixes "now" (an ISO date, as ``--as-of``) for demos and tests; ``None`` is the wall clock.
    ``webhook_secret`` turns on HMAC-SHA256 signatures for webhooks, checked within ``webhook_window`` s."""

    db: str = DEFAULT_URL
    config: str | None = None
    as_of: str | None = None
    secret_key: str | None = None
    webhook_secret: str | None = None
    webhook_window: int = 300
    environment: Literal["development", "production"] = "development"
    wait: float = 30.0
    session_hours: int = 12  # a session's absolute lifetime from sign-in
    session_idle_minutes: int = 60  # a session unused this long is over (ASVS 7.3.1)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """``DYNBOOKS_DB``, ``DYNBOOKS_CONFIG``, ``DYNBOOKS_AS_OF``, ``DYNBOOKS_SECRET_KEY``,
        ``DYNBOOKS_WEBHOOK_SECRET``, ``DYNBOOKS_ENV``; keyword overrides win when not ``None``."""
        env = os.environ
        base = cls(
            db=env.get("DYNBOOKS_DB", DEFAULT_URL), config=env.get("DYNBOOKS_CONFIG"), as_of=env.get("DYNBOOKS_AS_OF"),
            secret_key=env.get("DYNBOOKS_SECRET_KEY"), webhook_secret=env.get("DYNBOOKS_WEBHOOK_SECRET"),
            environment="production" if env.get("DYNBOOKS_ENV") == "production" else "development",
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]

    def checked(self) -> Settings:
        """These settings with a usable secret key, or :class:`InvalidInput` naming what is wrong."""
        key = self.secret_key
        if key is None or key.strip().lower() in PLACEHOLDERS or len(key) < MIN_SECRET:
            if self.environment == "production":
                raise InvalidInput(f"DYNBOOKS_SECRET_KEY must be set to a random value of at least {MIN_SECRET} "
                                   "characters outside development (e.g. `python -c 'import secrets; "
                                   "print(secrets.token_urlsafe(32))'`)")
            key = secrets.token_urlsafe(32)
        webhook = self.webhook_secret
        if webhook is not None and self.environment == "production" and webhook.strip().lower() in PLACEHOLDERS:
            raise InvalidInput("DYNBOOKS_WEBHOOK_SECRET is a placeholder; set a random value or leave it unset")
        return replace(self, secret_key=key)
