"""Initial schema: every table of ARCHITECTURE.md, money as exact decimals on SQLite and PostgreSQL.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 03:25:51.569776
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_ts'), ['ts'], unique=False)

    op.create_table('invites',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('uses_left', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_invites'))
    )
    op.create_table('llm_usage',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('cache_read_tokens', sa.Integer(), nullable=False),
    sa.Column('cache_write_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('cached', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_llm_usage'))
    )
    with op.batch_alter_table('llm_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_llm_usage_ts'), ['ts'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_pending', ['sent_at', 'id'], unique=False)

    op.create_table('paper_balances',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('asset', sa.String(length=16), nullable=False),
    sa.Column('free', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('locked', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'asset', name=op.f('pk_paper_balances'))
    )
    op.create_table('paper_orders',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('client_order_id', sa.String(length=40), nullable=False),
    sa.Column('venue_order_id', sa.String(length=64), nullable=True),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('type', sa.String(length=8), nullable=False),
    sa.Column('limit_price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('stop_price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('qty', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('filled_qty', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('avg_price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('trades', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'client_order_id', name=op.f('pk_paper_orders'))
    )
    with op.batch_alter_table('paper_orders', schema=None) as batch_op:
        batch_op.create_index('ix_paper_orders_status', ['status'], unique=False)

    op.create_table('processing_errors',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('context', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processing_errors'))
    )
    with op.batch_alter_table('processing_errors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processing_errors_ts'), ['ts'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('period_start', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('period_end', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_ts'), ['ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_user_id'), ['user_id'], unique=False)

    op.create_table('risk_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('until', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_events'))
    )
    with op.batch_alter_table('risk_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_events_ts'), ['ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_events_user_id'), ['user_id'], unique=False)

    op.create_table('signals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('strength', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('stop_price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('take_profit', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('timeframe', sa.String(length=8), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_signals_idempotency_key'))
    )
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signals_strategy'), ['strategy'], unique=False)
        batch_op.create_index(batch_op.f('ix_signals_ts'), ['ts'], unique=False)

    op.create_table('strategies',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('updated_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strategies'))
    )
    op.create_table('system_state',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('updated_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_system_state'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('profile', sa.String(length=16), nullable=True),
    sa.Column('capital', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('is_paused', sa.Boolean(), nullable=False),
    sa.Column('trading_state', sa.String(length=16), nullable=False),
    sa.Column('state_reason', sa.Text(), nullable=False),
    sa.Column('state_until', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('peak_equity', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('consecutive_losses', sa.Integer(), nullable=False),
    sa.Column('cooldown_until', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('notifications_muted', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('telegram_id', name=op.f('uq_users_telegram_id'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_status'), ['status'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('signal_id', sa.Integer(), nullable=True),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('refusals', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('qty', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('client_order_id', sa.String(length=40), nullable=True),
    sa.Column('signal_key', sa.String(length=160), nullable=True),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_decisions_signal_id_signals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_decisions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_user_ts', ['user_id', 'ts'], unique=False)

    op.create_table('equity_snapshots',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('equity', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_equity_snapshots_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equity_snapshots'))
    )
    with op.batch_alter_table('equity_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_equity_user_ts', ['user_id', 'ts'], unique=False)

    op.create_table('exchange_accounts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('venue', sa.String(length=32), nullable=False),
    sa.Column('api_key_encrypted', sa.Text(), nullable=True),
    sa.Column('secret_encrypted', sa.Text(), nullable=True),
    sa.Column('key_hint', sa.String(length=8), nullable=False),
    sa.Column('is_reduce_only', sa.Boolean(), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('managed_cash', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('day_start_equity', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('day_started_on', sa.Date(), nullable=True),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exchange_accounts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_accounts')),
    sa.UniqueConstraint('user_id', name=op.f('uq_exchange_accounts_user_id'))
    )
    op.create_table('orders',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('client_order_id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('type', sa.String(length=8), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('qty', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('limit_price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('stop_price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('filled_qty', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('avg_fill_price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('fee', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('fee_currency', sa.String(length=16), nullable=False),
    sa.Column('venue_order_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('protective_stop', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('take_profit', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('signal_id', sa.Integer(), nullable=True),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('trade_ids', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_orders_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('client_order_id', name=op.f('uq_orders_client_order_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_user_id'), ['user_id'], unique=False)

    op.create_table('positions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('qty', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('avg_entry', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('realized_pnl', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('fees', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('cost_basis_total', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('stop_price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('take_profit', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('trailing_distance', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=True),
    sa.Column('highest_price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('stop_order_id', sa.String(length=40), nullable=True),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('opened_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_positions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_positions'))
    )
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_positions_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_positions_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_positions_open_account_symbol', ['account_id', 'symbol'], unique=True, sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))

    op.create_table('subscriptions',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('strategy_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['strategy_id'], ['strategies.id'], name=op.f('fk_subscriptions_strategy_id_strategies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'strategy_id', name=op.f('pk_subscriptions'))
    )
    op.create_table('fills',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('client_order_id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('trade_id', sa.String(length=64), nullable=False),
    sa.Column('qty', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('price', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('fee', storage.types.DecimalText(length=64).with_variant(sa.Numeric(precision=38, scale=18), 'postgresql'), nullable=False),
    sa.Column('fee_currency', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('ts', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_order_id'], ['orders.client_order_id'], name=op.f('fk_fills_client_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fills')),
    sa.UniqueConstraint('client_order_id', 'trade_id', name='uq_fills_order_trade')
    )
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fills_ts'), ['ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_fills_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fills_user_id'))
        batch_op.drop_index(batch_op.f('ix_fills_ts'))

    op.drop_table('fills')
    op.drop_table('subscriptions')
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_index('uq_positions_open_account_symbol', sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_positions_user_id'))
        batch_op.drop_index(batch_op.f('ix_positions_closed_at'))

    op.drop_table('positions')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_user_id'))
        batch_op.drop_index(batch_op.f('ix_orders_status'))
        batch_op.drop_index(batch_op.f('ix_orders_created_at'))
        batch_op.drop_index(batch_op.f('ix_orders_account_id'))

    op.drop_table('orders')
    op.drop_table('exchange_accounts')
    with op.batch_alter_table('equity_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_equity_user_ts')

    op.drop_table('equity_snapshots')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_user_ts')

    op.drop_table('decisions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_status'))

    op.drop_table('users')
    op.drop_table('system_state')
    op.drop_table('strategies')
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signals_ts'))
        batch_op.drop_index(batch_op.f('ix_signals_strategy'))

    op.drop_table('signals')
    with op.batch_alter_table('risk_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_risk_events_ts'))

    op.drop_table('risk_events')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_user_id'))
        batch_op.drop_index(batch_op.f('ix_reports_ts'))

    op.drop_table('reports')
    with op.batch_alter_table('processing_errors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processing_errors_ts'))

    op.drop_table('processing_errors')
    with op.batch_alter_table('paper_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_paper_orders_status')

    op.drop_table('paper_orders')
    op.drop_table('paper_balances')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_pending')

    op.drop_table('notifications')
    with op.batch_alter_table('llm_usage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_llm_usage_ts'))

    op.drop_table('llm_usage')
    op.drop_table('invites')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_ts'))

    op.drop_table('audit_log')
