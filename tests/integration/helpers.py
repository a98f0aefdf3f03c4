"""Building a dynbooks database for a test through the same services the CLI calls."""

from __future__ import annotations

import csv
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.services.context import Context
from dynbooks.services.imports import import_file
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import account_roles, events

SDR_ONLY = """
[enrollment]
filter = { is_customer = false }

[[book_rule]]
name = "sdr"
role = "sdr"
target_size = 3
retrieve_after_days = 30
rest_days = 60
cooldown_days = 90
handoff_to = "ae"
return_limits = { not_interested = { per = "week", max = 2 } }
filter = {}

[[book_rule]]
name = "ae"
role = "ae"
target_size = 2
retrieve_after_days = 60
rest_days = 30
hoarding_days = 30
filter = { employees = { gte = 1000 } }
"""


class World:
    """A database, a config and a movable clock."""

    def __init__(self, url: str, folder: Path, toml: str = SDR_ONLY, day: date = date(2026, 3, 2)) -> None:
        self.engine = connect(url)
        upgrade(self.engine)
        self.config = Config.model_validate(tomllib.loads(toml))
        self.folder = folder
        self.day = day
        self._files = 0

    def ctx(self, day: date | None = None) -> Context:
        return Context(engine=self.engine, config=self.config, now=Now.of_date(day or self.day), wait=5.0)

    def load(self, kind: str, header: str, rows: list[str], **options: Any) -> dict[str, Any]:
        self._files += 1
        path = self.folder / f"{kind}{self._files}.csv"
        path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
        return import_file(self.ctx(), kind, path, **options)

    def owners(self, role: str = "sdr") -> dict[str, str]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(account_roles.c.account_id, account_roles.c.rep_id).where(
                account_roles.c.role == role, account_roles.c.state == "owned")).all())

    def row(self, account_id: str, role: str = "sdr") -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(account_roles).where(
                account_roles.c.account_id == account_id, account_roles.c.role == role)).first()

    def assert_state_equals_events(self) -> None:
        """Current state must equal what the events say: replay the history and compare."""
        replayed: dict[tuple[str, str], tuple[str, str | None]] = {}
        with self.engine.connect() as conn:
            for e in conn.execute(select(events).order_by(events.c.seq)):
                if e.role is None or e.after is None:
                    continue
                replayed[(e.account_id, e.role)] = (e.after, e.rep_id if e.after == "owned" else None)
            stored = {(r.account_id, r.role): (r.state, r.rep_id) for r in conn.execute(select(account_roles))}
        expected = {k: v for k, v in replayed.items() if v[0] in ("owned", "resting", "review")}
        assert stored == expected


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path
