"""account facts for the reports: accounts.last_meaningful_at and accounts.open_opportunity_at

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The default activity.meaningful_types when this migration was written; a deployment that configures
# others recomputes the facts once with dynbooks.services.facts.refresh_all (see that module).
MEANINGFUL = ('call', 'email', 'meeting')


def upgrade() -> None:
    # Kept by every writer through services/facts.py, so that the reports read one row per account
    # instead of probing its activities and opportunities (3-4 index descents per account at 5M).
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('last_meaningful_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('open_opportunity_at', sa.DateTime(), nullable=True))
    types = ', '.join(f"'{t}'" for t in MEANINGFUL)
    # UPDATE ... FROM one aggregate per table (PostgreSQL; SQLite >= 3.33).
    op.execute(
        "UPDATE accounts SET last_meaningful_at = f.v FROM (SELECT account_id AS a, max(occurred_at) AS v "
        f"FROM activities WHERE type IN ({types}) GROUP BY account_id) AS f WHERE accounts.account_id = f.a"
    )
    op.execute(
        "UPDATE accounts SET open_opportunity_at = f.v FROM (SELECT account_id AS a, min(created_at) AS v "
        "FROM opportunities WHERE is_closed = false GROUP BY account_id) AS f WHERE accounts.account_id = f.a"
    )


def downgrade() -> None:
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('open_opportunity_at')
        batch.drop_column('last_meaningful_at')
