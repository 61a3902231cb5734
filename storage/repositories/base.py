"""Shared helpers for the repositories."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from engine.domain.money import normalize


class SqlRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


def dec(value: Decimal) -> Decimal:
    """A stored decimal as the domain wants it (PostgreSQL pads to the column scale)."""
    return normalize(value)


def dec_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else normalize(value)


def upsert(session: AsyncSession, table: Table) -> Any:
    """INSERT ... ON CONFLICT for the session's database (SQLite and PostgreSQL spell it alike)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
