"""Answers to identical market contexts, kept for a while: the same question is not paid for twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.llm.decision import LlmDecision


class AnswerCache:
    def __init__(self, ttl: timedelta) -> None:
        self._ttl = ttl
        self._entries: dict[str, tuple[datetime, LlmDecision]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str, now: datetime) -> LlmDecision | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    def put(self, key: str, decision: LlmDecision, now: datetime) -> None:
        if self._ttl <= timedelta(0):
            return
        self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        self._entries[key] = (now + self._ttl, decision)
