"""Shared helpers for the repositories."""

from __future__ import annotations

from decimal import Decimal

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
