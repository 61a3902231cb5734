"""In-memory tables with an undo log: what lets a unit of work over plain dicts roll back like a database."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

_MISSING: Any = object()


class Journal:
    """Every change one unit of work made, so that a rollback can put each value back as it was."""

    __slots__ = ("_undo",)

    def __init__(self) -> None:
        self._undo: list[tuple[dict[Any, Any], Hashable, Any]] = []

    def put(self, table: dict[Any, Any], key: Hashable, value: Any) -> None:
        self._undo.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def drop(self, table: dict[Any, Any], key: Hashable) -> None:
        if key in table:
            self._undo.append((table, key, table.pop(key)))

    def forget(self) -> None:
        """The changes were committed: keep them."""
        self._undo.clear()

    def undo(self) -> None:
        """Put back every value changed since the last commit, newest change first."""
        while self._undo:
            table, key, old = self._undo.pop()
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old


class IdSequence:
    """An auto-increment id, as a database hands out (ids taken by a rolled-back transaction are not reused)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value
