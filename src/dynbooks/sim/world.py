"""The simulated world: a market read from a real dynbooks database, plus what no CRM records.

Everything the CRM knows comes from the database through the engine's own read side
(:func:`dynbooks.services.market.load_market` for enrollment, rule matches and priority;
:func:`dynbooks.services.books.load_reps` for the reps). What no CRM records is drawn from the seed:

- a latent **quality** in [0, 1] per account, correlated with its fit score (the score is a noisy
  view of it: the engine ranks by the score, conversions follow the quality);
- an **in-market window** per account (about a third of accounts are in market for 3–8 weeks some time
  in the quarter; a live signal at the start means the window is open on day 0);
- per-touch **uniform draws** (common random numbers): the k-th touch of an account converts when
  ``draw[a, k] < p``, whichever model made it, so the four models face the same luck.

No wall clock: the first day is given; the only randomness is the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, select

from dynbooks.domain.capacity import ramp_factor
from dynbooks.domain.clock import Now
from dynbooks.domain.errors import InvalidInput
from dynbooks.domain.rules import BookRule, Config
from dynbooks.services.books import load_reps, rules_of_role
from dynbooks.services.market import load_market
from dynbooks.store.db import read
from dynbooks.store.schema import account_roles

__all__ = ["Behaviour", "SimRep", "World", "load_world"]

MAX_TOUCHES = 40
"""Touches per account with a draw; a touch beyond this never converts."""


@dataclass(frozen=True)
class Behaviour:
    """How reps work and how prospects answer (the same for every model)."""

    touches_per_day: float = 40.0
    """Activities a fully ramped rep makes on a working day (weekends are off)."""
    touches_per_account: int = 12
    """A cadence (e.g. 4 touches on each of 3 contacts): this many touches, ``touch_gap_days`` apart; then
    the rep returns the account."""
    touch_gap_days: int = 2
    p_max: float = 0.05
    """Chance that one touch of a perfect (quality 1), in-market account creates an opportunity."""
    off_market: float = 0.25
    """The chance's factor while the account is not in market."""
    fatigue_days: int = 60
    fatigue: float = 0.1
    """For ``fatigue_days`` after a cadence ends without an opportunity, the chance is multiplied by this:
    a prospect who just said no rarely says yes to the next rep (what a rest protects against)."""
    quality_noise: float = 0.12
    """How far the fit score strays from the latent quality (std. dev., on the 0–1 scale)."""


@dataclass(frozen=True)
class SimRep:
    rep_id: str
    name: str
    team: str
    manager: str
    rule: BookRule
    start_date: date | None

    def ramp(self, day: date) -> float:
        return ramp_factor(self.rule, self.start_date, day)

    def tenure_days(self, day: date) -> int:
        return 3650 if self.start_date is None else max(0, (day - self.start_date).days)


@dataclass
class World:
    """One market, one role, one quarter: what every model is run on."""

    config: Config
    role: str
    day0: date
    days: int
    behaviour: Behaviour
    ids: npt.NDArray[np.object_]
    fit: npt.NDArray[np.float64]
    """The fit score (missing = 0); reps rank their own books by it plus the in-market signal."""
    quality: npt.NDArray[np.float64]
    market_from: npt.NDArray[np.int64]
    market_to: npt.NDArray[np.int64]
    """In market on days ``market_from <= d < market_to`` (day offsets from ``day0``)."""
    region: npt.NDArray[np.object_]
    industry: npt.NDArray[np.object_]
    eligible: npt.NDArray[np.bool_]
    """(accounts, reps): the account matches the rep's book rule (and is enrolled and active): the TAM."""
    reps: list[SimRep]
    owner0: npt.NDArray[np.int64]
    """Today's owner in the CRM for this role (a rep index, −1 for none)."""
    draws: npt.NDArray[np.float64]
    quits: npt.NDArray[np.bool_]
    """A finished cadence is returned ``no_relevant_contact`` when True, else ``not_interested``."""
    source: Engine

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def tam(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.eligible.any(axis=1), dtype=np.bool_)

    def date(self, d: int) -> date:
        return self.day0 + timedelta(days=d)

    def workday(self, d: int) -> bool:
        return self.date(d).weekday() < 5

    def chance(self, a: int, d: int, said_no: int | None = None) -> float:
        """The chance that a touch of account ``a`` on day ``d`` creates an opportunity (``said_no``: the
        day its last cadence ended without one)."""
        b = self.behaviour
        timing = 1.0 if self.market_from[a] <= d < self.market_to[a] else b.off_market
        tired = b.fatigue if said_no is not None and d - said_no < b.fatigue_days else 1.0
        return b.p_max * float(self.quality[a]) ** 2 * timing * tired

    def capacity(self, r: int, d: int) -> int:
        """Touches rep ``r`` makes on day ``d``: 0 on weekends, ramped while new (the rule's ramp)."""
        if not self.workday(d):
            return 0
        return round(self.behaviour.touches_per_day * self.reps[r].ramp(self.date(d)))


def load_world(
    source: Engine, config: Config, day0: date, days: int, rng: np.random.Generator, *,
    role: str | None = None, behaviour: Behaviour | None = None,
) -> World:
    """Read the market of ``role`` (default: the config's first role) from ``source`` as of ``day0``
    and draw what the CRM does not know from ``rng``."""
    behaviour = behaviour or Behaviour()
    roles = config.roles
    if not roles:
        raise InvalidInput("the configuration has no book rule: there is nothing to simulate")
    role = role or roles[0]
    if role not in roles:
        raise InvalidInput(f"no book rule has role {role!r}; roles: {', '.join(roles)}")
    if days < 7 or days > 366:
        raise InvalidInput(f"--days must be from 7 to 366, got {days}")
    rules = {r.name: r for r in rules_of_role(config, role)}
    with read(source) as conn:
        market = load_market(conn, config, Now.of_date(day0))
        reps = [r for r in load_reps(conn, role) if r.book_rule in rules and r.active]
        owned = conn.execute(select(account_roles.c.account_id, account_roles.c.rep_id).where(
            account_roles.c.role == role, account_roles.c.state == "owned")).all()
    if not reps:
        raise InvalidInput(f"no active {role} reps to simulate")
    base = market.active() & market.enrolled(config)
    matches = {name: market.rule_match(rule) & base for name, rule in rules.items()}
    eligible = np.stack([matches[r.book_rule] for r in reps], axis=1) if market.n else np.zeros((0, len(reps)), bool)
    sim_reps = [SimRep(r.rep_id, r.name, r.team or "", r.manager or "", rules[r.book_rule], r.start_date)
                for r in reps]
    rep_index = {r.rep_id: i for i, r in enumerate(sim_reps)}
    owner0 = np.full(market.n, -1, dtype=np.int64)
    for account_id, rep_id in owned:
        if rep_id in rep_index and account_id in market.index:
            owner0[market.index[account_id]] = rep_index[rep_id]

    n = market.n
    # The fit score alone (missing = 0): signals already in the CRM at day 0 are the engine's business,
    # they do not make an account better.
    fit = np.nan_to_num(np.asarray(market.columns["fit_score"], dtype=np.float64), nan=0.0)
    scale = max(float(np.nanmax(fit)) if n else 1.0, 1.0)
    # The fit score is a noisy view of the quality: quality = fit (0-1) + noise, clipped.
    quality = np.clip(fit / max(scale, 100.0) + rng.normal(0.0, behaviour.quality_noise, n), 0.0, 1.0)
    in_market = rng.random(n) < 0.35
    start = rng.integers(-21, days, n)
    length = rng.integers(21, 57, n)
    market_from = np.where(in_market, start, days + 1).astype(np.int64)
    market_to = np.where(in_market, start + length, days + 1).astype(np.int64)
    draws = rng.random((n, MAX_TOUCHES))
    quits = rng.random(n) < 0.3
    return World(
        config=config, role=role, day0=day0, days=days, behaviour=behaviour, ids=market.ids, fit=fit,
        quality=quality, market_from=market_from, market_to=market_to,
        region=market.columns["region"], industry=market.columns["industry"], eligible=eligible,
        reps=sim_reps, owner0=owner0, draws=draws, quits=quits, source=source,
    )
