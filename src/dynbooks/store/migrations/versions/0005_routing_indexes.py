"""routing indexes: a rep's book counted from the index; the round-robin position of routed accounts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from __future__ import annotations

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A hand-raise counts the candidate reps' books one rep at a time (segment by segment): from the index
    # alone, without a row lookup per owned account. It starts with rep_id, so it replaces the rep_id index.
    op.create_index('ix_account_roles_rep_id_role_state_segment', 'account_roles',
                    ['rep_id', 'role', 'state', 'segment'], unique=False)
    op.drop_index('ix_account_roles_rep_id', table_name='account_roles')
    # The round robin of routing: each rep's last account routed this way (type, reason) is one index probe
    # instead of a scan of the rep's distribution events.
    op.create_index('ix_events_type_reason_rep_id_seq', 'events', ['type', 'reason', 'rep_id', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_events_type_reason_rep_id_seq', table_name='events')
    op.create_index('ix_account_roles_rep_id', 'account_roles', ['rep_id'], unique=False)
    op.drop_index('ix_account_roles_rep_id_role_state_segment', table_name='account_roles')
