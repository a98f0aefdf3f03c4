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
    # Each owned row's facts from two indexes alone, read in account order (SQLite: 1.7 s of random
    # table probes per 500k owned rows at 5M accounts became 0.25 s).
    op.create_index('ix_accounts_report_facts', 'accounts',
                    ['account_id', 'open_opportunity_at', 'last_meaningful_at', 'fit_score'], unique=False)
    op.create_index('ix_account_roles_report_owned', 'account_roles',
                    ['state', 'account_id', 'role', 'rep_id', 'rule', 'assigned_at', 'last_activity_at'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
        # A database with statistics gets them for the new indexes too (else the planner ignores them).
        op.execute('ANALYZE ix_accounts_report_facts')
        op.execute('ANALYZE ix_account_roles_report_owned')
    elif bind.dialect.name == 'postgresql':
        op.execute('ANALYZE accounts')
        op.execute('ANALYZE account_roles')


def downgrade() -> None:
    op.drop_index('ix_account_roles_report_owned', table_name='account_roles')
    op.drop_index('ix_accounts_report_facts', table_name='accounts')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('open_opportunity_at')
        batch.drop_column('last_meaningful_at')
