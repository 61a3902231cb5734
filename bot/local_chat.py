"""The terminal chat of `tradebot demo`: a person talks to the bot through the Telegram stand-in.

Bot messages are printed as they arrive ("bot> …", continuation lines indented), with the
inline keyboard as numbered choices; typing a number presses that button of the most recent
message that has buttons, anything else is sent as a chat message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable
from typing import Final, TextIO

from bot.telegram_standin import ChatEvent, ChatEventKind, ChatUser, SentMessage, TelegramStandIn

PROMPT: Final = "you> "
BOT_PREFIX: Final = "bot> "
ADMIN_PREFIX: Final = "[admin channel] "
_CLEAR_LINE: Final = "\r\x1b[2K"


class LocalChat:
    """Renders what the bot sends to one person (and an admin chat) and sends what they type."""

    def __init__(
        self,
        standin: TelegramStandIn,
        user: ChatUser,
        output: TextIO,
        admin_chat_id: int | None = None,
    ) -> None:
        self._standin = standin
        self._user = user
        self._output = output
        self._admin_chat_id = admin_chat_id
        self._prompt_visible = False
        self._interactive = False
        self.transcript: list[str] = []
        self._unsubscribe: Callable[[], None] | None = standin.subscribe(self._on_event)

    def close(self) -> None:
        """Stop rendering the bot's messages."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def say(self, line: str) -> None:
        """Send one typed line: a number picks a button of the latest message with buttons."""
        text = line.strip()
        if not text:
            return
        message = self._latest_with_buttons() if text.isdigit() else None
        if message is None:
            self._standin.send_text(self._user, text)
            return
        buttons = [button for row in message.keyboard for button in row]
        choice = int(text)
        if not 1 <= choice <= len(buttons):
            self._note(f"(no choice {choice}: pick 1 to {len(buttons)})")
            return
        label, value = buttons[choice - 1]
        if value is not None and value in message.callback_data:
            self._standin.press_button(self._user, message, value)
            self._note(f'(pressed "{label}")')
        else:
            self._note(f"(link: {value})")

    async def run_interactive(self, input_lines: AsyncIterator[str], stop: asyncio.Event) -> None:
        """Read lines until `stop` is set or the input ends, showing a "you> " prompt."""
        self._interactive = True
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                self._show_prompt()
                line = await _next_line(input_lines, stopped)
                if line is None:
                    break
                self._prompt_visible = False
                self.transcript.append(PROMPT + line)
                if not _is_terminal(self._output):  # a terminal already echoed what was typed
                    self._output.write(line + "\n")
                self.say(line)
        finally:
            stopped.cancel()
            self._interactive = False
            if self._prompt_visible:
                self._prompt_visible = False
                self._output.write("\n")
                self._output.flush()

    async def run_scripted(self, lines: list[str], duration: float) -> None:
        """Send line k of n at k * duration / (n + 1) seconds, then return when `duration` is over."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        spacing = duration / (len(lines) + 1)
        for index, line in enumerate(lines, start=1):
            await asyncio.sleep(max(0.0, started + index * spacing - loop.time()))
            self._print([PROMPT + line])
            self.say(line)
        await asyncio.sleep(max(0.0, started + duration - loop.time()))

    # --- rendering ---------------------------------------------------------------------------

    def _on_event(self, event: ChatEvent) -> None:
        if event.chat_id == self._user.id:
            prefix = BOT_PREFIX
        elif event.chat_id == self._admin_chat_id:
            prefix = ADMIN_PREFIX + BOT_PREFIX
        else:
            return
        lines = _render(event)
        if lines:
            indent = " " * len(prefix)
            self._print([prefix + lines[0], *((indent + line).rstrip() for line in lines[1:])])

    def _note(self, text: str) -> None:
        self._print([" " * len(PROMPT) + text])

    def _print(self, lines: list[str]) -> None:
        self.transcript.extend(lines)
        if self._prompt_visible:
            self._output.write(_CLEAR_LINE if _is_terminal(self._output) else "\n")
        self._output.write("\n".join(lines) + "\n")
        if self._prompt_visible:
            self._output.write(PROMPT)
        self._output.flush()

    def _show_prompt(self) -> None:
        if not self._prompt_visible:
            self._prompt_visible = True
            self._output.write(PROMPT)
            self._output.flush()

    def _latest_with_buttons(self) -> SentMessage | None:
        candidates = [m for m in self._standin.messages(self._user.id) if m.keyboard and not m.deleted]
        return candidates[-1] if candidates else None


def _render(event: ChatEvent) -> list[str]:
    message = event.message
    if event.kind is ChatEventKind.CALLBACK_ANSWERED:
        return [f"(notice) {event.text}"] if event.text else []
    if message is None:
        return []
    if event.kind is ChatEventKind.DELETED:
        return ["(deleted a message)"]
    lines = render_message(message)
    if event.kind is ChatEventKind.EDITED:
        lines[0] = f"(edited) {lines[0]}"
    return lines


def render_message(message: SentMessage) -> list[str]:
    """Terminal lines for a bot message: attachment, text as Telegram shows it, numbered buttons."""
    lines: list[str] = []
    if message.photo is not None:
        lines.append(f"[picture: {message.filename}, {_size(len(message.photo))}]")
    elif message.document is not None:
        lines.append(f"[file: {message.filename}, {_size(len(message.document))}]")
    lines.extend(message.displayed_text.splitlines())
    buttons = [button for row in message.keyboard for button in row]
    for number, (label, value) in enumerate(buttons, start=1):
        is_link = value is not None and value not in message.callback_data
        lines.append(f"  [{number}] {label}" + (f" -> {value}" if is_link else ""))
    return lines or ["(empty message)"]


def _size(byte_count: int) -> str:
    return f"{byte_count} bytes" if byte_count < 1024 else f"{round(byte_count / 1024)} KB"


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


async def _next_line(lines: AsyncIterator[str], stopped: asyncio.Future[object]) -> str | None:
    async def read() -> str:
        return await anext(lines)

    reading = asyncio.ensure_future(read())
    await asyncio.wait({reading, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not reading.done():
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await reading
        return None
    try:
        return reading.result()
    except StopAsyncIteration:
        return None


async def stdin_lines(stream: TextIO | None = None) -> AsyncIterator[str]:
    """Yield lines typed on standard input (or `stream`) without blocking the event loop.

    Terminals and pipes are read through the event loop (`connect_read_pipe`); a regular file
    cannot block, so it is read directly.
    """
    source = stream if stream is not None else sys.stdin
    fd = source.fileno()
    if stat.S_ISREG(os.fstat(fd).st_mode):
        for line in source:
            yield line.rstrip("\r\n")
            await asyncio.sleep(0)
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    was_blocking = os.get_blocking(fd)
    pipe = os.fdopen(os.dup(fd), "rb", buffering=0)  # the transport closes its own copy
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        while line := await reader.readline():
            yield line.decode(errors="replace").rstrip("\r\n")
    finally:
        transport.close()
        pipe.close()
        os.set_blocking(fd, was_blocking)  # the flag is shared with the terminal: restore it
