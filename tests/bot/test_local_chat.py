"""The terminal chat of `tradebot demo`, talking to a real PTB Application through the stand-in."""

from __future__ import annotations

import asyncio
import io
import os
import struct
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.local_chat import LocalChat, stdin_lines
from bot.telegram_standin import ChatUser, TelegramStandIn

ADA = ChatUser(id=1001, first_name="Ada", username="ada")
BOB = ChatUser(id=1002, first_name="Bob")
ADMIN_CHANNEL = -1009876543210


def png_bytes(padding: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    extra = chunk(b"tEXt", b"Comment\x00" + b"x" * padding) if padding else b""
    pixels = chunk(b"IDAT", zlib.compress(b"\x00" + b"\x00" * 6 + b"\x00" + b"\x00" * 6))
    return b"\x89PNG\r\n\x1a\n" + header + extra + pixels + chunk(b"IEND", b"")


@pytest.fixture
def standin() -> TelegramStandIn:
    return TelegramStandIn()


@pytest.fixture
def pressed() -> list[str]:
    return []


@pytest.fixture
def app(standin: TelegramStandIn, pressed: list[str]) -> Application[Any, Any, Any, Any, Any, Any]:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Pause trading", callback_data="pause")],
                [InlineKeyboardButton("Docs", url="https://example.org/docs")],
            ]
        )
        await update.message.reply_html(
            "Welcome, <b>Ada</b>!\nTrading is <i>running</i> &amp; healthy.", reply_markup=keyboard
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"echo {update.message.text}")

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        pressed.append(update.callback_query.data)
        await update.callback_query.answer("Paused")
        await update.callback_query.edit_message_text("Trading paused.")

    application = standin.configure(ApplicationBuilder()).build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("echo", echo))
    application.add_handler(CallbackQueryHandler(on_button))
    return application


@asynccontextmanager
async def polling(application: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    async with application:
        await application.start()
        await application.updater.start_polling(timeout=1, poll_interval=0)
        try:
            yield
        finally:
            await application.updater.stop()
            await application.stop()


async def test_scripted_chat_prints_the_transcript_and_routes_a_button_press(
    standin: TelegramStandIn, app: Application[Any, Any, Any, Any, Any, Any], pressed: list[str]
) -> None:
    # Arrange
    output = io.StringIO()
    chat = LocalChat(standin, ADA, output)
    # Act
    async with polling(app):
        await chat.run_scripted(["/start", "1"], duration=1.2)
        await standin.wait_idle()
    chat.close()
    # Assert
    assert pressed == ["pause"]
    assert chat.transcript == [
        "you> /start",
        "bot> Welcome, Ada!",
        "     Trading is running & healthy.",
        "       [1] Pause trading",
        "       [2] Docs -> https://example.org/docs",
        "you> 1",
        '     (pressed "Pause trading")',
        "bot> (notice) Paused",
        "bot> (edited) Trading paused.",
    ]
    assert output.getvalue().splitlines() == chat.transcript


async def test_scripted_lines_are_spread_over_the_duration(standin: TelegramStandIn) -> None:
    # Arrange
    chat = LocalChat(standin, ADA, io.StringIO())
    arrivals: list[float] = []

    async def watch() -> None:
        while True:
            if len(standin.pending_updates) > len(arrivals):
                arrivals.append(time.monotonic() - started)
            await asyncio.sleep(0.005)

    # Act
    started = time.monotonic()
    watcher = asyncio.create_task(watch())
    await chat.run_scripted(["one", "two", "three"], duration=0.8)
    finished = time.monotonic() - started
    watcher.cancel()
    # Assert
    assert [update["message"]["text"] for update in standin.pending_updates] == ["one", "two", "three"]
    assert arrivals == pytest.approx([0.2, 0.4, 0.6], abs=0.08)
    assert finished == pytest.approx(0.8, abs=0.08)


async def test_pictures_files_deletions_and_the_admin_channel_are_rendered(
    standin: TelegramStandIn, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    output = io.StringIO()
    chat = LocalChat(standin, ADA, output, admin_chat_id=ADMIN_CHANNEL)
    async with app:
        await app.bot.send_photo(
            ADA.id,
            png_bytes(padding=23 * 1024),
            caption="Equity &lt;today&gt;",
            parse_mode="HTML",
            filename="equity.png",
        )
        await app.bot.send_document(ADA.id, b"a,b\n", filename="trades.csv")
        await app.bot.send_message(ADMIN_CHANNEL, "<b>Breaker tripped</b>\nDaily loss limit reached", parse_mode="HTML")
        await app.bot.send_message(BOB.id, "not for Ada")
        temporary = await app.bot.send_message(ADA.id, "temporary")
        await app.bot.delete_message(ADA.id, temporary.message_id)
    chat.close()
    assert chat.transcript == [
        "bot> [picture: equity.png, 23 KB]",
        "     Equity <today>",
        "bot> [file: trades.csv, 4 bytes]",
        "[admin channel] bot> Breaker tripped",
        "                     Daily loss limit reached",
        "bot> temporary",
        "bot> (deleted a message)",
    ]


async def test_interactive_chat_prompts_and_picks_numbered_choices(
    standin: TelegramStandIn, app: Application[Any, Any, Any, Any, Any, Any], pressed: list[str]
) -> None:
    # Arrange
    output = io.StringIO()
    chat = LocalChat(standin, ADA, output)
    typed: asyncio.Queue[str] = asyncio.Queue()
    stop = asyncio.Event()

    async def keyboard_lines() -> AsyncIterator[str]:
        while True:
            yield await typed.get()

    async with polling(app):
        runner = asyncio.create_task(chat.run_interactive(keyboard_lines(), stop))
        # Act
        typed.put_nowait("/start")
        [welcome] = await standin.wait_for_messages(ADA.id)
        for line in ("3", "2", "1"):
            typed.put_nowait(line)
        for _ in range(100):
            if pressed:
                break
            await asyncio.sleep(0.01)
        await standin.wait_idle()
        stop.set()
        await asyncio.wait_for(runner, 1)
    chat.close()
    # Assert
    assert pressed == ["pause"]
    assert welcome.text == "Trading paused."
    assert output.getvalue().startswith("you> /start\n")
    assert "you> /start" in chat.transcript
    assert "     (no choice 3: pick 1 to 2)" in chat.transcript
    assert "     (link: https://example.org/docs)" in chat.transcript
    assert chat.transcript[-1] == "bot> (edited) Trading paused."
    assert output.getvalue().endswith("you> \n")


async def test_a_number_is_text_until_a_message_has_buttons(
    standin: TelegramStandIn, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    chat = LocalChat(standin, ADA, io.StringIO())
    chat.say("42")
    async with app:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Resume", callback_data="resume")]])
        await app.bot.send_message(ADA.id, "Paused", reply_markup=keyboard)
    chat.say("1")
    chat.close()
    [text, press] = standin.pending_updates
    assert text["message"]["text"] == "42"
    assert press["callback_query"]["data"] == "resume"
    assert press["callback_query"]["message"]["text"] == "Paused"


async def test_interactive_chat_returns_when_the_input_ends(standin: TelegramStandIn) -> None:
    chat = LocalChat(standin, ADA, io.StringIO())

    async def two_lines() -> AsyncIterator[str]:
        yield "hello"
        yield "  "

    await asyncio.wait_for(chat.run_interactive(two_lines(), asyncio.Event()), 1)
    assert [update["message"]["text"] for update in standin.pending_updates] == ["hello"]


async def test_stdin_lines_reads_a_pipe_without_blocking_and_restores_the_descriptor() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"/start\n/portfolio\r\n")
    os.close(write_end)
    with os.fdopen(read_end, "r") as stream:
        lines = [line async for line in stdin_lines(stream)]
        assert os.get_blocking(stream.fileno())
    assert lines == ["/start", "/portfolio"]


async def test_stdin_lines_reads_a_regular_file(tmp_path: Path) -> None:
    script = tmp_path / "chat.txt"
    script.write_text("/start\n2\n")
    with script.open() as stream:
        lines = [line async for line in stdin_lines(stream)]
    assert lines == ["/start", "2"]


async def test_stdin_lines_reads_a_terminal() -> None:
    controller, terminal = os.openpty()
    try:
        with os.fdopen(terminal, "r", closefd=False) as stream:
            lines = stdin_lines(stream)
            os.write(controller, b"/portfolio\n")
            first = await asyncio.wait_for(anext(lines), 1)
            os.write(controller, b"2\n")
            second = await asyncio.wait_for(anext(lines), 1)
            await lines.aclose()
            assert os.get_blocking(terminal)
    finally:
        os.close(controller)
        os.close(terminal)
    assert (first, second) == ("/portfolio", "2")


class TerminalOutput(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_on_a_terminal_a_message_replaces_the_prompt_line_and_the_prompt_returns(
    standin: TelegramStandIn, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    output = TerminalOutput()
    chat = LocalChat(standin, ADA, output)
    stop = asyncio.Event()
    never: asyncio.Queue[str] = asyncio.Queue()

    async def silent() -> AsyncIterator[str]:
        yield await never.get()

    runner = asyncio.create_task(chat.run_interactive(silent(), stop))
    await asyncio.sleep(0.05)
    async with app:
        await app.bot.send_message(ADA.id, "Filled 0.5 BTC")
    stop.set()
    await asyncio.wait_for(runner, 1)
    chat.close()
    assert output.getvalue() == "you> \r\x1b[2Kbot> Filled 0.5 BTC\nyou> \n"
