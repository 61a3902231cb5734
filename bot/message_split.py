"""Long HTML messages cut into parts Telegram accepts, losing nothing.

Telegram refuses a text over 4,096 characters (counted in UTF-16 code units after the HTML is parsed) and
refuses HTML whose tags do not balance. So a long text is cut at a line break where possible, else at a
space, else inside a word, never inside a tag or an `&entity;`; the tags open at a cut are closed at the
end of the part and opened again at the start of the next. The raw HTML of each part is kept within the
limit, which bounds what Telegram counts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

TELEGRAM_LIMIT: Final = 4096

_TAG_OR_ENTITY: Final = r"<[^<>]*>|&#?[a-zA-Z0-9]{1,10};|\n| +"
_TAG_NAME: Final = re.compile(r"</?\s*([a-zA-Z][a-zA-Z0-9-]*)")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(slots=True)
class _Token:
    text: str
    size: int
    open_tags: tuple[str, ...]  # the opening tags in force after this token


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Parts of `text`, each within `limit`, with balanced tags; together they hold all of it."""
    if utf16_length(text) <= limit:
        return [text]
    parts: list[str] = []
    tokens = _tokens(text, max(1, limit // 8))
    reopened: tuple[str, ...] = ()
    while tokens:
        count = _fitting(tokens, reopened, limit)
        cut = _best_cut(tokens, count)
        body, tokens = tokens[:cut], tokens[cut:]
        closing = body[-1].open_tags if body else reopened
        part = "".join(reopened) + "".join(t.text for t in body) + _closers(closing)
        if part.strip():
            parts.append(part.strip("\n"))
        while tokens and tokens[0].text.isspace():
            tokens = tokens[1:]
        reopened = closing
    return parts or [text[:limit]]


@functools.lru_cache(maxsize=8)
def _token_pattern(longest_word: int) -> re.Pattern[str]:
    return re.compile(rf"{_TAG_OR_ENTITY}|[^<&\n ]{{1,{longest_word}}}|[<&]")


def _tokens(text: str, longest_word: int) -> list[_Token]:
    """Tags, entities, line breaks, spaces and words (long words in pieces), with the tags open after each."""
    tokens: list[_Token] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag)
    for match in _token_pattern(longest_word).finditer(text):
        piece = match.group()
        if piece.startswith("<") and len(piece) > 1:
            _track(stack, piece)
        tokens.append(_Token(piece, utf16_length(piece), tuple(tag for _, tag in stack)))
    return tokens


def _track(stack: list[tuple[str, str]], tag: str) -> None:
    name_match = _TAG_NAME.match(tag)
    if name_match is None:
        return
    name = name_match.group(1).lower()
    if tag.startswith("</"):
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == name:
                del stack[index:]
                return
    elif not tag.endswith("/>"):
        stack.append((name, tag))


def _closers(open_tags: tuple[str, ...]) -> str:
    names = [m.group(1) for m in (_TAG_NAME.match(tag) for tag in reversed(open_tags)) if m]
    return "".join(f"</{name}>" for name in names)


def _fitting(tokens: list[_Token], reopened: tuple[str, ...], limit: int) -> int:
    """How many leading tokens fit in one part (at least one), counting the tags to reopen and close."""
    size = sum(utf16_length(tag) for tag in reopened)
    for index, token in enumerate(tokens):
        closing = utf16_length(_closers(token.open_tags))
        if size + token.size + closing > limit:
            return max(index, 1)
        size += token.size
    return len(tokens)


def _best_cut(tokens: list[_Token], count: int) -> int:
    """Cut after the last line break among the first `count` tokens, else after the last space, else there."""
    if count >= len(tokens):
        return count
    for wanted in ("\n", " "):
        for index in range(count - 1, 0, -1):
            if tokens[index].text.startswith(wanted) and not tokens[index].text.strip():
                return index
    return count
