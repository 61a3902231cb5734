"""Inbound (webhook) signals: a content hash for the duplicate window, and the wall-clock arrival time.

Revision ID: 0002_issue6
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0002_issue6'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('received_at', storage.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_signals_content_hash'), ['content_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signals_content_hash'))
        batch_op.drop_column('received_at')
        batch_op.drop_column('content_hash')
