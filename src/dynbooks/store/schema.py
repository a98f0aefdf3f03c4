"""The tables (SQLAlchemy Core). The Alembic migrations create exactly these; a test checks they agree.

Times are stored as naive UTC ``DATETIME``s on both databases (SQLite has no time zone type); the store
converts at its edge. Pool membership is the *absence* of an ``account_roles`` row: a row exists only
while an account is owned, resting or in review for a role, so the primary key (account_id, role) is
the unique constraint on current ownership.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

__all__ = [
    "account_roles",
    "accounts",
    "activities",
    "api_tokens",
    "assignments",
    "cycles",
    "events",
    "idempotency",
    "locks",
    "metadata",
    "opportunities",
    "reps",
    "signals",
    "users",
    "webhook_inbox",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("domain", Text),
    Column("industry", Text),
    Column("employees", BigInteger),
    Column("annual_revenue", Float),
    Column("country", Text),
    Column("region", Text),
    Column("timezone", Text),
    Column("fit_score", Float),
    Column("is_customer", Boolean, nullable=False, server_default=text("false")),
    Column("custom", JSON),
    # active | retired | held: retire and hold apply to every role of the account (SPEC §10).
    Column("status", String(16), nullable=False, server_default="active"),
    Column("duplicate_of", ID),
    Column("updated_at", DateTime, nullable=False),
    # Facts the reports read per account, kept by every writer through services/facts.py (migration 0007):
    # the last meaningful activity by anyone, and the creation of the oldest open opportunity.
    Column("last_meaningful_at", DateTime),
    Column("open_opportunity_at", DateTime),
)
Index("ix_accounts_domain", accounts.c.domain)
# The reports' per-account facts (and fit) by account id from the index alone: an owned row's facts in one
# descent, in account order when the owned rows are read in account order (below).
Index("ix_accounts_report_facts", accounts.c.account_id, accounts.c.open_opportunity_at, accounts.c.last_meaningful_at,
      accounts.c.fit_score)

reps = Table(
    "reps",
    metadata,
    Column("rep_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text),
    Column("role", String(32), nullable=False),
    Column("book_rule", String(64), nullable=False),
    Column("team", Text),
    Column("manager", Text),
    Column("start_date", Date),
    Column("timezone", Text),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("unavailable_until", Date),
    Column("updated_at", DateTime, nullable=False),
)

account_roles = Table(
    "account_roles",
    metadata,
    Column("account_id", ID, primary_key=True),
    Column("role", String(32), primary_key=True),
    # owned | resting | review
    Column("state", String(16), nullable=False),
    Column("rep_id", ID),
    Column("rule", String(64)),
    Column("segment", String(64)),
    Column("since", DateTime, nullable=False),
    Column("rest_until", Date),
    Column("reason", String(64)),
    Column("assigned_at", DateTime),
    # The later of the assignment and the owner's last meaningful activity: the retrieval clock.
    Column("worked_at", DateTime),
    Column("last_activity_at", DateTime),
    Column("over_capacity", Boolean, nullable=False, server_default=text("false")),
    Column("cycle_id", String(40)),
)
# The set-based retrieval query reads owned rows of one rule by their retrieval clock.
Index(
    "ix_account_roles_owned_worked",
    account_roles.c.rule,
    account_roles.c.worked_at,
    sqlite_where=account_roles.c.state == "owned",
    postgresql_where=account_roles.c.state == "owned",
)
# A rep's book counted segment by segment from the index alone (routing); also every lookup by rep.
Index("ix_account_roles_rep_id_role_state_segment", account_roles.c.rep_id, account_roles.c.role,
      account_roles.c.state, account_roles.c.segment)
Index("ix_account_roles_state_rest_until", account_roles.c.state, account_roles.c.rest_until)
# The reports' owned rows from the index alone, in account order (so their accounts are read in order).
Index("ix_account_roles_report_owned", account_roles.c.state, account_roles.c.account_id, account_roles.c.role,
      account_roles.c.rep_id, account_roles.c.rule, account_roles.c.assigned_at, account_roles.c.last_activity_at)

activities = Table(
    "activities",
    metadata,
    Column("activity_id", ID, primary_key=True),
    Column("account_id", ID, nullable=False),
    Column("rep_id", ID, nullable=False),
    Column("type", String(64), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
)
Index("ix_activities_account_id_occurred_at", activities.c.account_id, activities.c.occurred_at)

# The owner's last meaningful activity on an account, from the index alone (reports, retrieval clock).
Index("ix_activities_account_id_rep_id_type_occurred_at", activities.c.account_id, activities.c.rep_id,
      activities.c.type, activities.c.occurred_at)
signals = Table(
    "signals",
    metadata,
    Column("signal_id", ID, primary_key=True),
    Column("account_id", ID, nullable=False),
    Column("type", String(64), nullable=False),
    Column("strength", Float, nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("expires_at", DateTime),
)
Index("ix_signals_account_id", signals.c.account_id)

# Live signals of an account and their strength, from the index alone (reports' priority).
Index("ix_signals_account_id_occurred_at_expires_at_strength", signals.c.account_id, signals.c.occurred_at,
      signals.c.expires_at, signals.c.strength)
opportunities = Table(
    "opportunities",
    metadata,
    Column("opportunity_id", ID, primary_key=True),
    Column("account_id", ID, nullable=False),
    Column("rep_id", ID, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("stage", Text),
    Column("amount", Float),
    Column("is_closed", Boolean, nullable=False, server_default=text("false")),
    Column("is_won", Boolean, nullable=False, server_default=text("false")),
    Column("closed_at", DateTime),
)
Index("ix_opportunities_account_id", opportunities.c.account_id)

events = Table(
    "events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("type", String(32), nullable=False),
    Column("account_id", ID, nullable=False),
    Column("role", String(32)),
    Column("rep_id", ID),
    Column("reason", String(64)),
    Column("rule", String(64)),
    Column("cycle_id", String(40)),
    Column("before", String(16)),
    Column("after", String(16)),
    Column("actor", Text),
    Column("data", JSON),
)
Index("ix_events_account_id_seq", events.c.account_id, events.c.seq)
Index("ix_events_type_at", events.c.type, events.c.at)
Index("ix_events_rep_id_type_at", events.c.rep_id, events.c.type, events.c.at)
# The round robin of routing: a rep's last account routed one way (type, reason) by one index probe.
Index("ix_events_type_reason_rep_id_seq", events.c.type, events.c.reason, events.c.rep_id, events.c.seq)

assignments = Table(
    "assignments",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account_id", ID, nullable=False),
    Column("role", String(32), nullable=False),
    Column("rep_id", ID, nullable=False),
    Column("rule", String(64)),
    Column("segment", String(64)),
    Column("assigned_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Column("end_reason", String(64)),
    Column("cycle_id", String(40)),
    Column("priority", Float),
    Column("rank", Integer),
    Column("pick", Integer),
    Column("picks", Integer),
    Column("how", String(32), nullable=False),
)
Index("ix_assignments_account_id_role", assignments.c.account_id, assignments.c.role)

cycles = Table(
    "cycles",
    metadata,
    Column("cycle_id", String(40), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("released", Integer, nullable=False, server_default="0"),
    Column("retrieved", Integer, nullable=False, server_default="0"),
    Column("distributed", Integer, nullable=False, server_default="0"),
    # 1, 2, 3… in the order cycles ran (under the cycle lock): "the latest cycle" even when two share a stamp.
    Column("number", Integer),
    # Set by ``cycle undo``: the cycle's moves were reversed (by events; nothing of its history is deleted).
    Column("undone_at", DateTime),
    Column("undone_by", Text),
)

# One row per lock name; writers that move ownership lock the row "cycle" for their transaction.
locks = Table(
    "locks",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", Text),
)

# Webhook and API idempotency: a repeated key answers the first answer.
idempotency = Table(
    "idempotency",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("response", JSON),
    Column("created_at", DateTime, nullable=False),
)

# People who sign in to the web app and the API (SPEC §8 Roles): admin, manager (of one team), rep (one rep id).
users = Table(
    "users",
    metadata,
    Column("user_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("rep_id", ID),
    Column("team", Text),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime, nullable=False),
    # Web sessions signed in before this instant are over (logout ends them all; see web/session.py).
    Column("sessions_valid_after", DateTime),
)

# API tokens: only a hash of the secret is stored; ``token_id`` is the public part that finds the row.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("user_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("name", Text),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)
Index("ix_api_tokens_user_id", api_tokens.c.user_id)

# Not in the database and not migrated: on SQLite, webhook deliveries that arrive while a cycle holds the
# only write lock wait in a small file of their own next to the database (``<db>-inbox``), created on first
# use (see dynbooks.services.webhooks).
inbox_metadata = MetaData()
webhook_inbox = Table(
    "webhook_inbox",
    inbox_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("rows", Text, nullable=False),
    Column("received_at", DateTime, nullable=False),
    # Set when the delivery could no longer be applied (its rows became invalid): kept, never lost.
    Column("error", Text),
)
