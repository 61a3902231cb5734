"""Accounts (one per API key): balances with free/locked parts and the key's permissions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal

from . import errors
from .symbols import DecimalLike, fmt8, to_decimal


@dataclass(slots=True)
class Balance:
    free: Decimal = Decimal(0)
    locked: Decimal = Decimal(0)


@dataclass(slots=True, kw_only=True)
class ApiRestrictions:
    """What GET /sapi/v1/account/apiRestrictions reports for a key (Binance's field names, snake_cased)."""

    ip_restrict: bool = False
    enable_reading: bool = True
    enable_spot_and_margin_trading: bool = True
    enable_withdrawals: bool = False
    enable_internal_transfer: bool = False
    enable_margin: bool = False
    enable_futures: bool = False
    permits_universal_transfer: bool = False
    enable_vanilla_options: bool = False
    enable_fix_api_trade: bool = False
    enable_fix_read_only: bool = False
    enable_portfolio_margin_trading: bool = False

    def update(self, **flags: bool) -> None:
        for name, value in flags.items():
            if name not in self.__dataclass_fields__:
                raise TypeError(f"unknown API key restriction {name!r}")
            setattr(self, name, bool(value))

    def payload(self, create_time: int) -> dict[str, object]:
        camel = {_camel(name): value for name, value in asdict(self).items()}
        return {"createTime": create_time, **camel}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(slots=True, kw_only=True)
class Account:
    """One Binance account reached through one API key."""

    api_key: str
    secret: str
    created_ms: int = 0
    balances: dict[str, Balance] = field(default_factory=dict)
    restrictions: ApiRestrictions = field(default_factory=ApiRestrictions)

    def balance(self, asset: str) -> Balance:
        return self.balances.setdefault(asset, Balance())

    def set_balance(self, asset: str, free: DecimalLike, locked: DecimalLike = 0) -> None:
        self.balances[asset] = Balance(to_decimal(free), to_decimal(locked))

    def lock(self, asset: str, amount: Decimal) -> None:
        """Move `amount` from free to locked, or refuse like Binance does."""
        balance = self.balance(asset)
        if amount > balance.free:
            raise errors.insufficient_balance()
        balance.free -= amount
        balance.locked += amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        balance = self.balance(asset)
        balance.locked -= amount
        balance.free += amount

    def require_free(self, asset: str, amount: Decimal) -> None:
        if amount > self.balance(asset).free:
            raise errors.insufficient_balance()

    def credit(self, asset: str, amount: Decimal) -> None:
        self.balance(asset).free += amount

    def debit_free(self, asset: str, amount: Decimal) -> None:
        self.balance(asset).free -= amount

    def debit_locked(self, asset: str, amount: Decimal) -> None:
        self.balance(asset).locked -= amount

    def balances_payload(self) -> list[dict[str, str]]:
        return [
            {"asset": asset, "free": fmt8(balance.free), "locked": fmt8(balance.locked)}
            for asset, balance in sorted(self.balances.items())
        ]
