"""sessions_valid_after: a user's web sessions signed in before this instant are over (logout everywhere)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One stamp per user instead of a sessions table: ending sessions is one write at logout, and a page
    # view only reads it with the user (no write per request, which would wait for a cycle on SQLite).
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('sessions_valid_after', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('sessions_valid_after')
