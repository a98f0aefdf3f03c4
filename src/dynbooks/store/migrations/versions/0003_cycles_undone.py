"""cycles: undone_at, undone_by (undo of the last cycle)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('undone_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('undone_by', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_column('undone_by')
        batch_op.drop_column('undone_at')
