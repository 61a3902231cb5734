"""Scripted candles served by GET /api/v3/klines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Final, TypeAlias

from . import errors
from .symbols import DecimalLike, fmt8, to_decimal

_UNIT_MS: Final = {
    "s": 1_000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "M": 2_592_000_000,
}
_Row: TypeAlias = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]
INTERVALS: Final = frozenset(
    {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"}
)


def interval_ms(interval: str) -> int:
    if interval not in INTERVALS:
        raise errors.invalid_interval()
    return int(interval[:-1]) * _UNIT_MS[interval[-1]]


class CandleStore:
    """Candles per (market id, interval), as a test scripted them; nothing is synthesised."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], list[_Row]] = {}

    def set(self, market_id: str, rows: Iterable[Sequence[DecimalLike]], interval: str = "1m") -> None:
        """Replace the candles: each row is ccxt-shaped [open_time_ms, open, high, low, close, volume]."""
        interval_ms(interval)
        parsed = [_parse_row(row) for row in rows]
        self._rows[(market_id, interval)] = sorted(parsed, key=lambda row: row[0])

    def klines(
        self, market_id: str, interval: str, *, start: int | None, end: int | None, limit: int
    ) -> list[list[object]]:
        """Binance's kline rows; with startTime the oldest `limit` candles, else the newest."""
        span = interval_ms(interval)
        rows = [
            row
            for row in self._rows.get((market_id, interval), [])
            if (start is None or row[0] >= start) and (end is None or row[0] <= end)
        ]
        rows = rows[:limit] if start is not None else rows[-limit:]
        return [_kline(row, span) for row in rows]


def _parse_row(row: Sequence[DecimalLike]) -> _Row:
    open_time, open_, high, low, close, volume = row[:6]
    return (int(open_time), *map(to_decimal, (open_, high, low, close, volume)))  # type: ignore[return-value]


def _kline(row: _Row, span: int) -> list[object]:
    open_time, open_, high, low, close, volume = row
    return [
        open_time,
        fmt8(open_),
        fmt8(high),
        fmt8(low),
        fmt8(close),
        fmt8(volume),
        open_time + span - 1,
        fmt8(volume * close),
        1,
        "0.00000000",
        "0.00000000",
        "0",
    ]
