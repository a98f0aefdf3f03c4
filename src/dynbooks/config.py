"""Finding and reading ``dynbooks.toml`` (SPEC §9).

The file is ``--config``, else ``$DYNBOOKS_CONFIG``, else ``./dynbooks.toml``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import ValidationError

from dynbooks.domain.errors import InvalidInput, NotFound
from dynbooks.domain.rules import Config

__all__ = ["DEFAULT_TOML", "find_config", "load_config"]


def find_config(given: str | None) -> Path:
    return Path(given or os.environ.get("DYNBOOKS_CONFIG") or "dynbooks.toml")


def load_config(path: Path, *, required: bool = True) -> Config:
    """The validated configuration; a bad file is refused naming the key and the reason (exit 3)."""
    if not path.is_file():
        if required:
            raise NotFound(f"{path}: no configuration file (run `dynbooks init` to write a default one)")
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        details = [f"{_key(err['loc'], data)}: {_reason(err)}" for err in exc.errors()]
        raise InvalidInput(f"{path}: {details[0]}", details) from None


def _key(loc: tuple[int | str, ...], data: object) -> str:
    """The dotted key of a pydantic error, e.g. ``book_rule[0].rest_days (mm-sdr)``."""
    out, label = "", ""
    node = data
    for item in loc:
        if isinstance(item, int):
            node = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(node, dict) and (node.get("name") or node.get("code")):
                label = f" ({node.get('name') or node.get('code')})"
            out += f"[{item}]"
        else:
            out += ("." if out else "") + str(item)
            node = node.get(item) if isinstance(node, dict) else None
    return (out or "(top level)") + label


def _reason(err: object) -> str:
    assert isinstance(err, dict)
    if err.get("type") == "extra_forbidden":
        return "unknown key"
    return str(err.get("msg", "invalid")).removeprefix("Value error, ")


DEFAULT_TOML = '''\
# dynbooks configuration (SPEC §9). Every key is explained; unknown keys are refused.

[enrollment]                    # the accounts dynbooks manages at all (others are ignored)
filter = { is_customer = false }

[scoring]
timing_half_life_days = 30      # a signal's strength halves every N days after it occurred
sort_keys = []                  # when accounts tie on priority, e.g. ["-employees", "-annual_revenue"]

[activity]
meaningful_types = ["call", "email", "meeting"]   # activities that count as working an account

[routing]
hand_raise_types = ["demo_request"]   # such a signal routes the account at once, not at the next cycle
when_full = "swap"              # swap: bump the owner's lowest-priority unworked account
                                # allow: record an over-capacity instead

[[book_rule]]
name = "sdr"
role = "sdr"                    # one owner per account per role
target_size = 100               # accounts a fully ramped rep holds
retrieve_after_days = 30        # not worked for this long -> retrieved
rest_days = 60                  # rest after a retrieval
cooldown_days = 90              # never dealt back to a rep who returned/lost it within this window
min_priority = 0.0              # below this an account is not ready (hand-raises excepted)
ramp = [0.5, 0.75, 1.0]         # capacity factor by month since the rep's start_date
warn_days = 7                   # accounts this close to retrieval are flagged in the rep's book
filter = {}                     # which accounts this rule's reps may hold (see SPEC §9 for operators)

# `dynbooks serve` runs these on a cron expression (minute hour day month weekday):
# [schedule]
# cycle_cron = "0 6 * * 1-5"    # a cycle every weekday at 06:00; the database lock keeps one at a time
# digest_cron = "30 6 * * 1-5"  # reps: new accounts and accounts about to be retrieved
# summary_cron = "0 7 * * 1"    # managers: the team's week
# timezone = "UTC"

# [notifications]               # digests and summaries; the SMTP password is $DYNBOOKS_SMTP_PASSWORD
# smtp_host = "smtp.example.com"
# smtp_port = 587
# smtp_starttls = true
# smtp_from = "dynbooks@example.com"
# slack_webhook_url = "https://hooks.slack.com/services/..."   # any Slack-compatible incoming webhook
# app_url = "http://localhost:8000"
'''
