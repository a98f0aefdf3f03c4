"""report indexes: activities by (account, rep, type, time), signals by account with their clock

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from __future__ import annotations

from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The reports (and the retrieval clock) ask for the owner's last meaningful activity on an account:
    # with type and time in the index it is answered from the index alone, without a row lookup each.
    op.create_index('ix_activities_account_id_rep_id_type_occurred_at', 'activities',
                    ['account_id', 'rep_id', 'type', 'occurred_at'], unique=False)
    # Live signals of an account (occurred, expires) and their strength, without a row lookup each.
    op.create_index('ix_signals_account_id_occurred_at_expires_at_strength', 'signals',
                    ['account_id', 'occurred_at', 'expires_at', 'strength'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_signals_account_id_occurred_at_expires_at_strength', table_name='signals')
    op.drop_index('ix_activities_account_id_rep_id_type_occurred_at', table_name='activities')
