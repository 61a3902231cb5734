"""Decisions looked up by signal key (the duplicate-signal check reads only the keys it is asked about).

Revision ID: 0003_decision_signal_key
Revises: 0002_issue6
"""

from __future__ import annotations

from alembic import op

revision = "0003_decision_signal_key"
down_revision = "0002_issue6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_decisions_user_signal_key", "decisions", ["user_id", "signal_key", "ts"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_decisions_user_signal_key", table_name="decisions")
