"""A small organisation behind the web app and the API: three reps in two teams, one user per role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dynbooks.app import create_app
from dynbooks.services.auth import add_user, create_token
from dynbooks.services.cycle import run_cycle
from dynbooks.settings import Settings
from tests.integration.helpers import SDR_ONLY, World

PASSWORD = "correct horse battery"
DAY = "2026-03-02"
USERS = {
    "admin": ("admin@example.com", "admin", None, None),
    "manager": ("east@example.com", "manager", None, "east"),
    "rep": ("s1@example.com", "rep", "S1", None),
    "other_rep": ("s3@example.com", "rep", "S3", None),
}


@dataclass
class Org:
    world: World
    settings: Settings
    tokens: dict[str, str]

    def app(self):  # type: ignore[no-untyped-def]
        return create_app(self.settings)


def build_org(db_url: str, folder: Path, *, webhook_secret: str | None = None) -> Org:
    """S1 and S2 in team east, S3 in west; accounts C00…C11 (best first); a cycle deals 3 to each rep."""
    world = World(db_url, folder)
    world.load("reps", "rep_id,name,book_rule,team,manager",
               ["S1,Sam,sdr,east,Erin", "S2,Sue,sdr,east,Erin", "S3,Sid,sdr,west,Walt"])
    world.load("accounts", "account_id,name,employees,fit_score,industry,country",
               [f"C{i:02d},Company {i},{100 + i},{90 - i},Software,US" for i in range(12)])
    run_cycle(world.ctx())
    tokens = {}
    for name, (email, role, rep_id, team) in USERS.items():
        add_user(world.ctx(), email, PASSWORD, role, rep_id=rep_id, team=team)
        tokens[name] = create_token(world.ctx(), email)["token"]
    config = folder / "dynbooks.toml"
    config.write_text(SDR_ONLY, encoding="utf-8")
    settings = Settings(db=db_url, config=str(config), as_of=DAY, secret_key="k" * 40, webhook_secret=webhook_secret,
                        wait=5.0)
    return Org(world, settings, tokens)
