"""Typed access to a request's parameters, failing with Binance's -1100/-1102 errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final

from . import errors

_NUMBER: Final = re.compile(errors.NUMBER_RANGE)
_INTEGER: Final = re.compile(errors.INTEGER_RANGE)


class Params:
    """The merged query and form parameters of one request (the signature excluded)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)

    def __contains__(self, name: str) -> bool:
        return bool(self.values.get(name))

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if not value:
            if required:
                raise errors.mandatory(name)
            return None
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        if not _NUMBER.match(value):
            raise errors.illegal_chars(name, errors.NUMBER_RANGE)
        return Decimal(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        if not _INTEGER.match(value):
            raise errors.illegal_chars(name, errors.INTEGER_RANGE)
        return int(value)

    def limit(self, default: int = 500, maximum: int = 1000) -> int:
        value = self.integer("limit")
        return default if value is None else max(1, min(value, maximum))

    def symbol_list(self, name: str = "symbols") -> list[str] | None:
        """Decode Binance's JSON array parameter, e.g. symbols=["BTCUSDT","ETHUSDT"]."""
        value = self.text(name)
        if value is None:
            return None
        try:
            decoded = json.loads(value)
        except ValueError:
            raise errors.illegal_chars(name, '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$') from None
        if not isinstance(decoded, list) or not all(isinstance(item, str) for item in decoded):
            raise errors.mandatory(name)
        return decoded

    def reject_present(self, names: Iterable[str]) -> None:
        for name in names:
            if name in self:
                raise errors.not_required(name)
