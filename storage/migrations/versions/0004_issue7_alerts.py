"""Admin alerts (grouped episodes) and pictures in the outbox (report charts).

Revision ID: 0004_issue7
Revises: 0003_decision_signal_key
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0004_issue7'
down_revision = '0003_decision_signal_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('severity', sa.String(length=4), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('first_seen', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('unsent', sa.Integer(), nullable=False),
    sa.Column('last_sent_at', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_key_resolved', ['key', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_first_seen'), ['first_seen'], unique=False)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('photo')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_first_seen'))
        batch_op.drop_index('ix_alerts_key_resolved')
    op.drop_table('alerts')
