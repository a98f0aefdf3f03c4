"""The global options every command shares, and the context they build (SPEC §9 Global options)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import typer

from dynbooks.config import find_config, load_config
from dynbooks.domain.clock import Now
from dynbooks.domain.errors import UsageError
from dynbooks.domain.rules import Config
from dynbooks.services.context import Context
from dynbooks.store.db import DEFAULT_URL, connect

__all__ = ["GLOBAL_FLAGS", "GLOBAL_OPTIONS", "Globals", "globals_of"]

GLOBAL_OPTIONS = ("--db", "--config", "--as-of", "--wait")
GLOBAL_FLAGS = ("--json",)


@dataclass
class Globals:
    db: str = DEFAULT_URL
    config: str | None = None
    as_of: str | None = None
    json: bool = False
    wait: float = 30.0

    def now(self) -> Now:
        if self.as_of is None:
            # The one place dynbooks reads the wall clock: the edge.
            return Now.of_datetime(datetime.now(UTC))
        try:
            return Now.parse(self.as_of)
        except ValueError as exc:
            raise UsageError(f"--as-of: {exc}") from None

    def load(self, *, config_required: bool = True) -> Config:
        return load_config(find_config(self.config), required=config_required)

    def context(self, *, must_exist: bool = True, actor: str = "cli") -> Context:
        config = self.load()
        now = self.now()
        engine = connect(self.db, wait=self.wait, must_exist=must_exist)
        return Context(engine=engine, config=config, now=now, actor=actor, wait=self.wait)


def globals_of(ctx: typer.Context) -> Globals:
    """The global options the ``dynbooks`` callback stored on the Typer context."""
    assert isinstance(ctx.obj, Globals)
    return ctx.obj
