"""A hypothesis state machine over the services: imports of every kind, cycles (and their dry runs),
returns with every reason, retrievals as time passes, holds, retirements, review, deactivations and
hand-raises. After every step the SPEC §2 invariants must hold:

- one owner per (account, role), and the state equals the state rebuilt from the event history;
- no book over capacity (recorded over-capacity rows and CRM-imported owners aside);
- eligibility at distribution time: enrolled, active, the rule's filter, its segment, ``min_priority``
  (hand-raises excepted), to an available rep; a hand-off bypasses the filter;
- rest and cooldown respected; a retrieval only when the owner has not worked the account for long enough;
- a dry run writes nothing, and the committed cycle does exactly what its preview said.

Profiles (tests/conftest.py): ``fast`` (the default, in ``make test``) and ``nightly`` (``make reliability``:
HYPOTHESIS_PROFILE=nightly, at least 1,000 examples). Both machines run on SQLite, and on PostgreSQL too when
``DYNBOOKS_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import atexit
import csv
import math
import os
import shutil
import tempfile
import tomllib
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import Engine, func, select, text

from dynbooks.domain.clock import Now
from dynbooks.domain.errors import Refused
from dynbooks.domain.rules import Config
from dynbooks.services import admin
from dynbooks.services.context import Context
from dynbooks.services.cycle import run_cycle
from dynbooks.services.imports import import_file
from dynbooks.services.returns import return_account
from dynbooks.services.undo import undo_cycle
from dynbooks.store.db import connect, normalise_url
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import account_roles, accounts, activities, events, metadata, reps, signals
from tests.reliability.invariants import violations

TOML = """
[enrollment]
filter = {{ is_customer = false }}

[scoring]
timing_half_life_days = 10

[routing]
hand_raise_types = ["demo_request"]
when_full = "{when_full}"

[[book_rule]]
name = "sdr"
role = "sdr"
target_size = 3
retrieve_after_days = 10
rest_days = 5
cooldown_days = 20
min_priority = 20
ramp = [0.5, 1.0]
handoff_to = "ae"
return_limits = {{ not_interested = {{ per = "week", max = 2 }} }}
filter = {{}}

[[book_rule]]
name = "ent"
role = "sdr"
target_size = 4
retrieve_after_days = 15
rest_days = 3
cooldown_days = 10
handoff_to = "ae"
segments = [{{ name = "hot", size = 2, filter = {{ industry = "tech" }} }}]
filter = {{ employees = {{ gte = 500 }} }}

[[book_rule]]
name = "ae"
role = "ae"
target_size = 2
retrieve_after_days = 20
rest_days = 5
cooldown_days = 30
hoarding_days = 12
filter = {{ employees = {{ gte = 1000 }} }}
"""
ACCOUNTS = [f"A{i:02d}" for i in range(14)]
REPS = {"S0": "sdr", "S1": "sdr", "S2": "sdr", "E0": "ent", "E1": "ent", "AE0": "ae", "AE1": "ae"}
REASONS = ["duplicate", "bad_data", "no_icp_fit", "no_relevant_contact", "get_back_to_me", "not_interested",
           "out_of_business", "converted"]
START = date(2026, 3, 2)
MEANINGFUL = ("call", "email", "meeting")

_TEMPLATE: dict[str, Path] = {}
PG = os.environ.get("DYNBOOKS_TEST_POSTGRES_URL")
_PG_SCHEMA: dict[str, str] = {}


def _postgres_url() -> str:
    """A PostgreSQL schema of this process, migrated once and emptied for every example (TRUNCATE is
    much faster than migrating each time); dropped when the process ends."""
    assert PG is not None
    if "url" not in _PG_SCHEMA:
        schema = f"machine_{uuid.uuid4().hex[:12]}"
        admin_engine = connect(PG)
        with admin_engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG else "?"
        _PG_SCHEMA["url"] = f"{normalise_url(PG)}{sep}options=-csearch_path%3D{schema}"
        engine = connect(_PG_SCHEMA["url"])
        upgrade(engine)
        engine.dispose()

        def drop() -> None:
            with admin_engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin_engine.dispose()

        atexit.register(drop)
    return _PG_SCHEMA["url"]


def _empty(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _template() -> Path:
    """One migrated SQLite file, copied for every example (migrating each time would dominate)."""
    if "db" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="dynbooks-machine-"))
        engine = connect(f"sqlite:///{folder / 'template.db'}")
        upgrade(engine)
        engine.dispose()
        _TEMPLATE["db"] = folder / "template.db"
    return _TEMPLATE["db"]


def _profile() -> settings:
    return settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE") or "fast")


class Lifecycle(RuleBasedStateMachine):
    when_full = "swap"
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="dynbooks-example-"))
        if self.backend == "postgres":
            self.engine = connect(_postgres_url())
            _empty(self.engine)
        else:
            shutil.copy(_template(), self.folder / "db.sqlite")
            self.engine = connect(f"sqlite:///{self.folder / 'db.sqlite'}")
        self.config = Config.model_validate(tomllib.loads(TOML.format(when_full=self.when_full)))
        self.day = START
        self.files = 0
        self.seen = 0  # events checked so far

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ---- helpers ----------------------------------------------------------------------------------------

    def ctx(self) -> Context:
        return Context(engine=self.engine, config=self.config, now=Now.of_date(self.day), wait=5.0)

    def load(self, kind: str, header: list[str], rows: list[list[Any]]) -> dict[str, Any]:
        self.files += 1
        path = self.folder / f"{kind}-{self.files}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        return import_file(self.ctx(), kind, path)

    def query(self, statement: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(statement).all())

    def owned(self) -> list[Any]:
        return self.query(select(account_roles.c.account_id, account_roles.c.role, account_roles.c.rep_id)
                          .where(account_roles.c.state == "owned").order_by(account_roles.c.account_id,
                                                                             account_roles.c.role))

    def known_accounts(self) -> list[str]:
        return [r[0] for r in self.query(select(accounts.c.account_id).order_by(accounts.c.account_id))]

    def known_reps(self) -> list[str]:
        return [r[0] for r in self.query(select(reps.c.rep_id).order_by(reps.c.rep_id))]

    def snapshot(self) -> tuple[Any, ...]:
        return (sorted(map(tuple, self.query(select(account_roles)))),
                self.query(select(func.count()).select_from(events))[0][0],
                sorted(map(tuple, self.query(select(accounts.c.account_id, accounts.c.status)))))

    # ---- rules ------------------------------------------------------------------------------------------

    @rule(picked=st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.integers(0, 100) | st.none(),
                                    st.sampled_from([50, 600, 1500, 5000]), st.booleans(),
                                    st.sampled_from(["tech", "retail"]), st.booleans()),
                          min_size=1, max_size=8, unique_by=lambda t: t[0]))
    def import_accounts(self, picked: list[tuple[Any, ...]]) -> None:
        rows = [[a, f"Co {a}", "" if fit is None else fit, emp, "true" if cust and i % 3 == 0 else "false",
                 industry, f"{a.lower()}.example" if not dup else "shared.example"]
                for i, (a, fit, emp, cust, industry, dup) in enumerate(picked)]
        self.load("accounts", ["account_id", "name", "fit_score", "employees", "is_customer", "industry", "domain"],
                  rows)

    @rule(picked=st.lists(st.tuples(st.sampled_from(sorted(REPS)), st.booleans(), st.integers(-90, 10),
                                    st.integers(-3, 6)),
                          min_size=1, max_size=4, unique_by=lambda t: t[0]))
    def import_reps(self, picked: list[tuple[str, bool, int, int]]) -> None:
        rows = [[rep, f"Rep {rep}", REPS[rep], "true" if active or i == 0 else "false",
                 (self.day + timedelta(days=start)).isoformat(),
                 (self.day + timedelta(days=away)).isoformat() if away > 0 else ""]
                for i, (rep, active, start, away) in enumerate(picked)]
        self.load("reps", ["rep_id", "name", "book_rule", "active", "start_date", "unavailable_until"], rows)

    @rule(data=st.data(), worked=st.booleans(), kind=st.sampled_from(["call", "note", "meeting"]))
    def import_activity(self, data: st.DataObject, worked: bool, kind: str) -> None:
        owned = self.owned()
        reps_known = self.known_reps()
        if not owned or not reps_known:
            return
        account, _role, owner = data.draw(st.sampled_from(owned))
        rep = owner if worked else data.draw(st.sampled_from(reps_known))
        self.load("activities", ["activity_id", "account_id", "rep_id", "type", "occurred_at"],
                  [[f"act-{self.files}", account, rep, kind, self.day.isoformat()]])

    @rule(data=st.data(), demo=st.booleans(), strength=st.integers(1, 60), expires=st.integers(0, 10))
    def import_signal(self, data: st.DataObject, demo: bool, strength: int, expires: int) -> None:
        known = self.known_accounts()
        if not known:
            return
        account = data.draw(st.sampled_from(known))
        until = (self.day + timedelta(days=expires)).isoformat() if expires else ""
        self.load("signals", ["signal_id", "account_id", "type", "strength", "occurred_at", "expires_at"],
                  [[f"sig-{self.files}", account, "demo_request" if demo else "intent_surge", strength,
                    self.day.isoformat(), until]])

    @rule(data=st.data(), closed=st.booleans())
    def import_opportunity(self, data: st.DataObject, closed: bool) -> None:
        aes = [r for r in self.known_reps() if REPS[r] == "ae"]
        known = self.known_accounts()
        if not aes or not known:
            return
        self.load("opportunities", ["opportunity_id", "account_id", "rep_id", "created_at", "is_closed"],
                  [[f"opp-{self.files}", data.draw(st.sampled_from(known)), data.draw(st.sampled_from(aes)),
                    self.day.isoformat(), "true" if closed else "false"]])

    @rule(days=st.integers(1, 16))
    def time_passes(self, days: int) -> None:
        self.day += timedelta(days=days)

    @rule(data=st.data(), early=st.booleans())
    def time_goes_to_a_retrieval_boundary(self, data: st.DataObject, early: bool) -> None:
        """The day an owned account falls due for retrieval, or the day before (day-exact rules), and a cycle."""
        rows = self.query(select(account_roles.c.rule, account_roles.c.worked_at)
                          .where(account_roles.c.state == "owned").order_by(account_roles.c.account_id))
        if not rows:
            return
        rule_name, worked = data.draw(st.sampled_from(rows))
        due = worked.date() + timedelta(days=self.config.rules[rule_name].retrieve_after_days - int(early))
        if due > self.day:
            self.day = due
        retrieved = run_cycle(self.ctx()).retrieved
        event(f"boundary cycle retrieved {'some' if retrieved else 'none'} ({'day before' if early else 'due day'})")

    @rule(preview=st.booleans())
    def cycle(self, preview: bool) -> None:
        if preview:
            before = self.snapshot()
            planned = run_cycle(self.ctx(), dry_run=True)
            assert self.snapshot() == before, "a dry run wrote something"
            done = run_cycle(self.ctx())
            assert _plain(done.changes()) == _plain(planned.changes()), "the cycle differs from its preview"
        else:
            run_cycle(self.ctx())

    @rule()
    def undo_the_last_cycle(self) -> None:
        """Undo reverses the latest cycle by events; refused when its accounts changed since."""
        try:
            undone = undo_cycle(self.ctx())
        except Refused as exc:
            assert "changed since" in exc.message or "no cycle to undo" in exc.message, exc.message
            event("undo refused")
            return
        event(f"undo reversed {'some' if undone.changes() else 'no'} moves")

    @rule(data=st.data(), reason=st.sampled_from(REASONS), until=st.integers(1, 30))
    def give_back(self, data: st.DataObject, reason: str, until: int) -> None:
        owned = self.owned()
        if not owned:
            return
        account, role, owner = data.draw(st.sampled_from(owned))
        if reason == "converted" and role == "ae":
            reason = "no_relevant_contact"  # the AE rule hands off to nobody
        try:
            answer = return_account(self.ctx(), account, reason, rep_id=owner,
                                    until=self.day + timedelta(days=until) if reason == "get_back_to_me" else None)
        except Refused as exc:
            assert reason == "not_interested" and "return limit" in exc.message, exc.message
            return
        assert answer["rep_id"] == owner and answer["account_id"] == account
        event(f"returned: {reason}")

    @rule(data=st.data())
    def return_for_review_and_reintroduce_at_once(self, data: st.DataObject) -> None:
        """The shortest way back to the pool: the cooldown alone keeps the account from its last owner."""
        owned = self.owned()
        if not owned:
            return
        account, role, owner = data.draw(st.sampled_from(owned))
        return_account(self.ctx(), account, "bad_data", rep_id=owner)
        admin.reintroduce(self.ctx(), account, role)
        run_cycle(self.ctx())
        event("returned: bad_data, reintroduced, cycle")

    @rule(data=st.data())
    def hold_or_release(self, data: st.DataObject) -> None:
        rows = self.query(select(accounts.c.account_id, accounts.c.status).order_by(accounts.c.account_id))
        if not rows:
            return
        account, status = data.draw(st.sampled_from(rows))
        if status == "active":
            admin.hold(self.ctx(), account)
        elif status == "held":
            admin.release_hold(self.ctx(), account)
        else:
            admin.reactivate(self.ctx(), account)

    @rule(data=st.data(), retire=st.booleans())
    def work_review_queue(self, data: st.DataObject, retire: bool) -> None:
        queue = admin.review_list(self.ctx())
        if not queue:
            return
        item = data.draw(st.sampled_from(queue))
        if retire:
            admin.retire(self.ctx(), item["account_id"])
        else:
            admin.fix(self.ctx(), item["account_id"], ["industry=tech"])
            admin.reintroduce(self.ctx(), item["account_id"], item["role"])

    # ---- invariants -------------------------------------------------------------------------------------

    @invariant()
    def every_invariant_holds_and_every_new_move_was_allowed_when_it_happened(self) -> None:
        new = self.query(select(events).where(events.c.seq > self.seen).order_by(events.c.seq))
        # A rep gains a counted account only unflagged: an account routed to a full book is flagged
        # over_capacity and never counted, and the rest of that book may exceed a capacity that shrank
        # since it was dealt (a later start date imported), which the invariant allows.
        flagged = {(r.account_id, r.role) for r in self.query(
            select(account_roles.c.account_id, account_roles.c.role).where(account_roles.c.over_capacity.is_(True)))}
        gainers = {e.rep_id for e in new
                   if e.type in ("distributed", "handed_off") and (e.account_id, e.role) not in flagged}
        assert violations(self.engine, self.config, self.day, capacity_of=gainers) == []
        if not new:
            return
        self.seen = new[-1].seq
        acc = {r.account_id: r for r in self.query(select(accounts))}
        rep = {r.rep_id: r for r in self.query(select(reps))}
        for e in new:
            event(f"event: {e.type} ({e.reason})" if e.type in ("distributed", "retrieved", "released", "bumped")
                  else f"event: {e.type}")
            if e.type in ("distributed", "handed_off") and e.reason != "imported":
                self._check_gain(e, acc[e.account_id], rep[e.rep_id])
            if e.type == "retrieved":
                self._check_retrieval(e, rep[e.rep_id])

    def _check_gain(self, e: Any, account: Any, rep: Any) -> None:
        rule = self.config.rules[e.rule]
        where = f"event {e.seq} ({e.type} {e.account_id} to {e.rep_id}, {e.reason})"
        assert account.status == "active", where
        assert rep.active and (rep.unavailable_until is None or rep.unavailable_until <= self.day), where
        assert rep.book_rule == e.rule, where
        if e.type == "handed_off":
            return  # a meeting was set: the hand-off bypasses the AE rule's filter (SPEC §10 Returns)
        assert not account.is_customer, where
        assert _matches(rule.name, account), where
        if e.rule == "ent":
            assert (e.data or {}).get("segment") == ("hot" if account.industry == "tech" else None), where
        if e.reason != "hand_raise":
            assert self._priority(e.account_id, account) >= rule.min_priority - 1e-6, where

    def _priority(self, account_id: str, account: Any) -> float:
        total = account.fit_score or 0.0
        for strength, occurred, expires in self.query(
            select(signals.c.strength, signals.c.occurred_at, signals.c.expires_at)
            .where(signals.c.account_id == account_id)
        ):
            if occurred.date() > self.day or (expires is not None and expires.date() <= self.day):
                continue
            total += strength * math.pow(0.5, (self.day - occurred.date()).days / 10)
        return float(total)

    def _check_retrieval(self, e: Any, rep: Any) -> None:
        rule = self.config.rules[e.rule]
        after = rule.hoarding_days if e.reason == "hoarding" else rule.retrieve_after_days
        assert after is not None
        last = self.query(select(func.max(activities.c.occurred_at)).where(
            activities.c.account_id == e.account_id, activities.c.rep_id == e.rep_id,
            activities.c.type.in_(MEANINGFUL)))[0][0]
        gained = self.query(select(func.max(events.c.at)).where(
            events.c.account_id == e.account_id, events.c.role == e.role, events.c.rep_id == e.rep_id,
            events.c.type.in_(["distributed", "handed_off"]), events.c.seq < e.seq))[0][0]
        clock = max(d for d in (gained.date(), last.date() if last else None, rep.unavailable_until) if d)
        where = f"event {e.seq}: {e.account_id} retrieved from {e.rep_id} ({e.reason})"
        assert (self.day - clock).days >= after, where


def _matches(rule: str, account: Any) -> bool:
    employees = account.employees or 0
    return {"sdr": True, "ent": employees >= 500, "ae": employees >= 1000}[rule]


def _plain(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(c["step"], c["account_id"], c["role"], c["rep_id"]) for c in changes]


class LifecycleWhenFullAllows(Lifecycle):
    when_full = "allow"


Lifecycle.TestCase.settings = _profile()
LifecycleWhenFullAllows.TestCase.settings = _profile()
TestLifecycle = Lifecycle.TestCase
TestLifecycleWhenFullAllows = LifecycleWhenFullAllows.TestCase

if PG:  # the same machines on PostgreSQL (make test sets the URL when a server answers)

    class LifecyclePostgres(Lifecycle):
        backend = "postgres"

    class LifecycleWhenFullAllowsPostgres(LifecycleWhenFullAllows):
        backend = "postgres"

    # a round trip to the server per query makes an example several times slower than on SQLite: make test
    # runs 5 examples per machine here; the nightly profile (make reliability) runs all of them
    _pg = _profile() if _profile().max_examples >= 1000 else settings(_profile(), max_examples=5)
    LifecyclePostgres.TestCase.settings = _pg
    LifecycleWhenFullAllowsPostgres.TestCase.settings = _pg
    TestLifecyclePostgres = pytest.mark.postgres(LifecyclePostgres.TestCase)
    TestLifecycleWhenFullAllowsPostgres = pytest.mark.postgres(LifecycleWhenFullAllowsPostgres.TestCase)
