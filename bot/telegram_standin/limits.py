"""Telegram's rules for message text: HTML entity parsing, length limits, inline keyboards.

The error descriptions are the ones the real Bot API answers with, so the bot under test sees
the same `BadRequest` messages it would see in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64

PARSE_MODES: Final = frozenset({"html", "markdown", "markdownv2"})

NOT_MODIFIED: Final = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
BLOCKED_DESCRIPTIONS: Final = {
    "private": "Forbidden: bot was blocked by the user",
    "group": "Forbidden: bot was kicked from the group chat",
    "supergroup": "Forbidden: bot was kicked from the supergroup chat",
    "channel": "Forbidden: bot is not a member of the channel chat",
}
CHAT_ACTIONS: Final = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)

_TAG_ENTITY: Final[dict[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE: Final = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]+);")
_START_TAG_RE: Final = re.compile(r"([a-zA-Z][a-zA-Z0-9-]*)(.*)", re.DOTALL)
_ATTRIBUTE_RE: Final = re.compile(r"""([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_SPECIAL: Final = re.compile(r"[<&]")
_BUTTON_ACTIONS: Final = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "web_app",
    "callback_game",
    "pay",
)

InlineKeyboard = list[list[tuple[str, str | None]]]


class ApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram's description, optional parameters."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """Build a 400 answer whose description starts with "Bad Request: " as Telegram's do."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True, slots=True)
class FormattedText:
    """Text as the recipient sees it, with Telegram entities (offsets in UTF-16 code units)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_length(text: str) -> int:
    """Count UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def check_message_text(raw: str, parse_mode: str | None, entities: Any = None) -> FormattedText:
    """Parse message text and enforce the emptiness and 4096-character rules."""
    formatted = parse_formatted(raw, parse_mode, entities)
    if not formatted.text:
        raise bad_request("message text is empty")
    if len(formatted.text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return formatted


def check_caption(raw: str, parse_mode: str | None, entities: Any = None) -> FormattedText:
    """Parse a media caption (which may be empty) and enforce the 1024-character rule."""
    formatted = parse_formatted(raw, parse_mode, entities)
    if len(formatted.text) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return formatted


def parse_formatted(raw: str, parse_mode: str | None, entities: Any = None) -> FormattedText:
    """Turn text plus parse_mode into the displayed text and its entities.

    HTML is parsed as Telegram does; Markdown modes are passed through unparsed (the stand-in
    does not interpret them). Leading and trailing whitespace is trimmed, as Telegram trims it.
    """
    mode = (parse_mode or "").lower()
    if mode and mode not in PARSE_MODES:
        raise bad_request("unsupported parse_mode")
    if mode == "html":
        return _trim(_HtmlParser(raw).parse())
    explicit = list(entities) if isinstance(entities, list) and not mode else []
    return _trim(FormattedText(raw, explicit))


def html_to_text(raw: str) -> str:
    """Return what a Telegram client displays for an HTML-formatted text."""
    return parse_formatted(raw, "HTML").text


def read_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup; return it when it is an inline keyboard (the only kind echoed)."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('can\'t parse inline keyboard: field "inline_keyboard" must be an Array of Arrays')
    for row in rows:
        for button in row:
            _check_button(button)
    return markup


def keyboard_rows(markup: dict[str, Any] | None) -> InlineKeyboard:
    """Rows of (text, callback_data or url) of an inline keyboard markup."""
    if markup is None:
        return []
    return [
        [(button["text"], button.get("callback_data", button.get("url"))) for button in row]
        for row in markup["inline_keyboard"]
    ]


def callback_data_of(markup: dict[str, Any] | None) -> list[str]:
    """The callback_data of every callback button, row by row."""
    if markup is None:
        return []
    rows = markup["inline_keyboard"]
    return [button["callback_data"] for row in rows for button in row if "callback_data" in button]


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not any(action in button for action in _BUTTON_ACTIONS):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    data = button.get("callback_data")
    if data is None:
        return
    if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")


def _trim(formatted: FormattedText) -> FormattedText:
    text = formatted.text
    stripped = text.strip()
    if stripped == text:
        return formatted
    lead = utf16_length(text[: len(text) - len(text.lstrip())])
    limit = utf16_length(stripped)
    entities = []
    for entity in formatted.entities:
        start = max(0, entity["offset"] - lead)
        end = min(limit, entity["offset"] - lead + entity["length"])
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(stripped, entities)


def _cant_parse(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


@dataclass(slots=True)
class _OpenTag:
    name: str
    attributes: dict[str, str]
    start: int
    language: str | None = None


class _HtmlParser:
    """A scanner for Telegram's HTML subset, reporting errors the way Telegram words them."""

    def __init__(self, raw: str) -> None:
        self._raw = raw
        self._pos = 0
        self._out: list[str] = []
        self._length = 0
        self._stack: list[_OpenTag] = []
        self._entities: list[dict[str, Any]] = []

    def parse(self) -> FormattedText:
        while (match := _SPECIAL.search(self._raw, self._pos)) is not None:
            self._emit(self._raw[self._pos : match.start()])
            self._pos = match.start()
            if match.group() == "<":
                self._read_tag()
            else:
                self._read_entity()
        self._emit(self._raw[self._pos :])
        if self._stack:
            raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{self._stack[-1].name}"')
        self._entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return FormattedText("".join(self._out), self._entities)

    def _emit(self, text: str) -> None:
        self._out.append(text)
        self._length += utf16_length(text)

    def _byte_offset(self, position: int) -> int:
        return len(self._raw[:position].encode())

    def _read_entity(self) -> None:
        match = _ENTITY_RE.match(self._raw, self._pos)
        decoded = _decode_entity(match.group(1)) if match else None
        if match is None or decoded is None:
            self._emit("&")  # Telegram keeps an unrecognised "&" as text
            self._pos += 1
            return
        self._emit(decoded)
        self._pos = match.end()

    def _read_tag(self) -> None:
        start = self._pos
        end = self._raw.find(">", start)
        if end == -1:
            raise _cant_parse(f"Unclosed start tag at byte offset {self._byte_offset(start)}")
        body = self._raw[start + 1 : end]
        self._pos = end + 1
        if body.startswith("/"):
            self._close(body[1:].strip().lower(), start)
        else:
            self._open(body, start)

    def _open(self, body: str, start: int) -> None:
        match = _START_TAG_RE.fullmatch(body)
        name = match.group(1).lower() if match else body.strip()
        if match is None or name not in _TAG_ENTITY:
            raise _cant_parse(f'Unsupported start tag "{name}" at byte offset {self._byte_offset(start)}')
        attributes = _parse_attributes(match.group(2))
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise _cant_parse(f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_offset(start)}')
        self._stack.append(_OpenTag(name, attributes, self._length))

    def _close(self, name: str, start: int) -> None:
        if not self._stack:
            raise _cant_parse(f"Unexpected end tag at byte offset {self._byte_offset(start)}")
        tag = self._stack.pop()
        if tag.name != name:
            raise _cant_parse(
                f"Unmatched end tag at byte offset {self._byte_offset(start)}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self._add_entity(tag)

    def _add_entity(self, tag: _OpenTag) -> None:
        language = tag.attributes.get("class", "").removeprefix("language-")
        if tag.name == "code" and language and self._stack and self._stack[-1].name == "pre":
            self._stack[-1].language = language  # <pre><code class="language-x"> is one pre entity
            return
        length = self._length - tag.start
        if length == 0:
            return
        entity: dict[str, Any] = {"type": _TAG_ENTITY[tag.name], "offset": tag.start, "length": length}
        if tag.name == "a":
            entity["url"] = tag.attributes.get("href", "")
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attributes:
            entity["type"] = "expandable_blockquote"
        self._entities.append(entity)


def _decode_entity(name: str) -> str | None:
    if not name.startswith("#"):
        return _NAMED_ENTITIES.get(name)
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def _parse_attributes(text: str) -> dict[str, str]:
    attributes = {}
    for match in _ATTRIBUTE_RE.finditer(text):
        value = next((group for group in match.groups()[1:] if group is not None), "")
        attributes[match.group(1).lower()] = _unescape(value)
    return attributes


def _unescape(text: str) -> str:
    return _ENTITY_RE.sub(lambda match: _decode_entity(match.group(1)) or match.group(), text)
