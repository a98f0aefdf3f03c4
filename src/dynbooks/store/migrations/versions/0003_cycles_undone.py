"""cycles: number, undone_at, undone_by (undo of the last cycle)

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
        batch_op.add_column(sa.Column('number', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('undone_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('undone_by', sa.Text(), nullable=True))
    # Number the cycles run so far in the order they were shown (started_at, then id).
    cycles = sa.table('cycles', sa.column('cycle_id', sa.String), sa.column('started_at', sa.DateTime),
                      sa.column('number', sa.Integer))
    conn = op.get_bind()
    ordered = conn.execute(sa.select(cycles.c.cycle_id).order_by(cycles.c.started_at, cycles.c.cycle_id)).scalars()
    for i, cycle_id in enumerate(list(ordered), start=1):
        conn.execute(cycles.update().where(cycles.c.cycle_id == cycle_id).values(number=i))


def downgrade() -> None:
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_column('undone_by')
        batch_op.drop_column('undone_at')
        batch_op.drop_column('number')
