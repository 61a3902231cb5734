"""The Telegram stand-in, driven by the real python-telegram-bot Application over real httpx."""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.telegram_standin import ChatUser, SentMessage, TelegramStandIn
from bot.telegram_standin.limits import ApiError, parse_formatted

ADA = ChatUser(id=1001, first_name="Ada", username="ada")
BOB = ChatUser(id=1002, first_name="Bob")
GROUP_ID = -1001234567890


def png_bytes(width: int = 3, height: int = 2, padding: int = 0) -> bytes:
    """A valid PNG of the given size, optionally padded with a text chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height)))
    extra = chunk(b"tEXt", b"Comment\x00" + b"x" * padding) if padding else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.fixture
def standin() -> TelegramStandIn:
    return TelegramStandIn()


def build_app(
    standin: TelegramStandIn, *, arbitrary_callback_data: bool = False
) -> Application[Any, Any, Any, Any, Any, Any]:
    builder = standin.configure(ApplicationBuilder())
    if arbitrary_callback_data:
        builder = builder.arbitrary_callback_data(True)
    return builder.build()


@asynccontextmanager
async def polling(app: Application[Any, Any, Any, Any, Any, Any], **options: Any) -> AsyncIterator[None]:
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=1, poll_interval=0, **options)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_html(f"Hello, <b>{update.effective_user.first_name}</b> &amp; welcome!")


# --- long polling and commands ------------------------------------------------------------------


async def test_start_command_is_answered_over_long_polling(standin: TelegramStandIn) -> None:
    # Arrange
    app = build_app(standin)
    app.add_handler(CommandHandler("start", greet))
    # Act
    async with polling(app):
        standin.send_text(ADA, "/start")
        [reply] = await standin.wait_for_messages(ADA.id)
    # Assert
    assert reply.text == "Hello, <b>Ada</b> &amp; welcome!"
    assert reply.displayed_text == "Hello, Ada & welcome!"
    assert reply.parse_mode == "HTML"
    methods = [call.method for call in standin.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert "sendMessage" in methods
    assert standin.pending_updates == []  # the bot acknowledged the update with its next offset


async def test_updates_below_the_offset_are_acknowledged(standin: TelegramStandIn) -> None:
    # Arrange
    first = standin.send_text(ADA, "one")
    second = standin.send_text(ADA, "two")
    bot = Bot(
        standin.token,
        base_url=standin.base_url,
        request=standin.request(),
        get_updates_request=standin.request(),
    )
    async with bot:
        # Act
        everything = await bot.get_updates(timeout=0)
        rest = await bot.get_updates(offset=second["update_id"], timeout=0)
        after = await bot.get_updates(offset=second["update_id"] + 1, timeout=0)
    # Assert
    assert [update.update_id for update in everything] == [first["update_id"], second["update_id"]]
    assert [update.message.text for update in rest] == ["two"]
    assert after == ()


async def test_long_poll_returns_as_soon_as_an_update_arrives(standin: TelegramStandIn) -> None:
    bot = Bot(
        standin.token,
        base_url=standin.base_url,
        request=standin.request(),
        get_updates_request=standin.request(),
    )
    async with bot:
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        standin.send_text(ADA, "/portfolio")
        updates = await poll
    assert time.monotonic() - started < 2
    assert updates[0].message.text == "/portfolio"
    assert updates[0].message.entities[0].type == "bot_command"
    assert updates[0].message.chat.type == "private"


# --- inline keyboards and callback queries ------------------------------------------------------


async def offer_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Pause", callback_data="pause"),
                InlineKeyboardButton("Resume", callback_data="resume"),
            ],
            [InlineKeyboardButton("Docs", url="https://example.org/docs")],
        ]
    )
    await update.message.reply_text("Trading is running.", reply_markup=keyboard)


async def confirm_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer("Done")
    await query.edit_message_text(f"You chose {query.data}.")


async def test_button_press_reaches_callback_handler_which_edits_the_message(
    standin: TelegramStandIn,
) -> None:
    # Arrange
    app = build_app(standin)
    app.add_handler(CommandHandler("start", offer_choice))
    app.add_handler(CallbackQueryHandler(confirm_choice))
    async with polling(app):
        standin.send_text(ADA, "/start")
        [message] = await standin.wait_for_messages(ADA.id)
        # Act
        standin.press_button(ADA, message, "resume")
        await standin.wait_idle()
    # Assert
    assert [[text for text, _ in row] for row in message.history[0].keyboard] == [
        ["Pause", "Resume"],
        ["Docs"],
    ]
    assert message.history[0].keyboard[1] == [("Docs", "https://example.org/docs")]
    assert message.text == "You chose resume."
    assert message.edited
    assert message.keyboard == []  # editing without reply_markup removes the keyboard, as in Telegram
    answer = standin.calls_to("answerCallbackQuery")[0]
    assert answer.params["text"] == "Done"
    assert answer.status == 200


async def test_arbitrary_callback_data_is_echoed_back_and_resolved_by_ptb(standin: TelegramStandIn) -> None:
    pytest.importorskip("cachetools", reason="PTB's arbitrary callback data needs python-telegram-bot[callback-data]")
    # Arrange
    chosen: list[object] = []

    async def offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        button = InlineKeyboardButton("Close BTC", callback_data=("close", "BTC/USDT", 42))
        await update.message.reply_text("Open positions", reply_markup=InlineKeyboardMarkup([[button]]))

    async def close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chosen.append(update.callback_query.data)
        await update.callback_query.answer()

    app = build_app(standin, arbitrary_callback_data=True)
    app.add_handler(CommandHandler("positions", offer))
    app.add_handler(CallbackQueryHandler(close))
    async with polling(app):
        standin.send_text(ADA, "/positions")
        [message] = await standin.wait_for_messages(ADA.id)
        [opaque] = message.callback_data
        # Act
        standin.press_button(ADA, message, opaque)
        await standin.wait_idle()
    # Assert
    assert isinstance(opaque, str)
    assert len(opaque.encode()) <= 64
    assert chosen == [("close", "BTC/USDT", 42)]


async def test_pressing_a_button_the_message_does_not_have_is_refused(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        await app.bot.send_message(ADA.id, "No buttons here")
    [message] = standin.messages(ADA.id)
    with pytest.raises(ValueError, match="no button"):
        standin.press_button(ADA, message, "pause")


async def test_answering_an_unknown_callback_query_is_a_bad_request(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query("12345")


async def test_callback_data_longer_than_64_bytes_is_rejected(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Too long", callback_data="x" * 65)]])
    async with app:
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await app.bot.send_message(ADA.id, "Pick", reply_markup=markup)
    assert standin.messages(ADA.id) == []


# --- editing and deleting -----------------------------------------------------------------------


async def test_edit_message_text_keeps_the_history(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        sent = await app.bot.send_message(ADA.id, "Order <i>pending</i>", parse_mode=ParseMode.HTML)
        edited = await app.bot.edit_message_text("Order <b>filled</b>", ADA.id, sent.message_id, parse_mode="HTML")
    [message] = standin.messages(ADA.id)
    assert edited.text == "Order filled"
    assert edited.edit_date is not None
    assert message.text == "Order <b>filled</b>"
    assert [version.text for version in message.history] == ["Order <i>pending</i>"]


async def test_editing_with_identical_content_is_not_modified(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        sent = await app.bot.send_message(ADA.id, "<b>Same</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await app.bot.edit_message_text("<b>Same</b>", ADA.id, sent.message_id, parse_mode="HTML")
        await app.bot.edit_message_text("<i>Same</i>", ADA.id, sent.message_id, parse_mode="HTML")
    assert len(standin.messages(ADA.id)[0].history) == 1


async def test_editing_a_missing_message_is_a_bad_request(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await app.bot.edit_message_text("new", ADA.id, 999)


async def test_edit_reply_markup_replaces_the_keyboard(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    first = InlineKeyboardMarkup([[InlineKeyboardButton("Pause", callback_data="pause")]])
    second = InlineKeyboardMarkup([[InlineKeyboardButton("Resume", callback_data="resume")]])
    async with app:
        sent = await app.bot.send_message(ADA.id, "Trading", reply_markup=first)
        await app.bot.edit_message_reply_markup(ADA.id, sent.message_id, reply_markup=second)
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await app.bot.edit_message_reply_markup(ADA.id, sent.message_id, reply_markup=second)
    [message] = standin.messages(ADA.id)
    assert message.keyboard == [[("Resume", "resume")]]
    assert message.text == "Trading"
    assert message.history[0].keyboard == [[("Pause", "pause")]]


async def test_delete_message_marks_it_and_a_second_delete_fails(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        sent = await app.bot.send_message(ADA.id, "temporary")
        assert await app.bot.delete_message(ADA.id, sent.message_id) is True
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await app.bot.delete_message(ADA.id, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await app.bot.edit_message_text("again", ADA.id, sent.message_id)
    assert standin.messages(ADA.id)[0].deleted


async def test_reply_to_a_user_message_carries_the_original(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        original = standin.send_text(ADA, "how much BTC?")["message"]
        reply = await app.bot.send_message(ADA.id, "0.5 BTC", reply_to_message_id=original["message_id"])
        with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
            await app.bot.send_message(ADA.id, "lost", reply_to_message_id=777)
    assert reply.reply_to_message.text == "how much BTC?"
    assert standin.messages(ADA.id)[0].reply_to_message_id == original["message_id"]


# --- Telegram's limits --------------------------------------------------------------------------


async def test_a_5000_character_message_is_too_long(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await app.bot.send_message(ADA.id, "x" * 5000)
    assert standin.messages(ADA.id) == []
    assert standin.calls_to("sendMessage")[0].status == 400


async def test_the_limit_counts_text_after_html_parsing(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        await app.bot.send_message(ADA.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
        await app.bot.send_message(ADA.id, "&amp;" * 4096, parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)too long"):
            await app.bot.send_message(ADA.id, "<b>" + "x" * 4097 + "</b>", parse_mode="HTML")
    assert [len(message.displayed_text) for message in standin.messages(ADA.id)] == [4096, 4096]


async def test_empty_text_and_broken_html_are_bad_requests(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await app.bot.send_message(ADA.id, "<b>  </b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await app.bot.send_message(ADA.id, "<b>unclosed", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
            await app.bot.send_message(ADA.id, "<br>line", parse_mode="HTML")
        # Without a parse mode the same text is fine
        await app.bot.send_message(ADA.id, "<b>unclosed")
    assert [message.displayed_text for message in standin.messages(ADA.id)] == ["<b>unclosed"]


async def test_html_entities_come_back_with_utf16_offsets(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        message = await app.bot.send_message(
            ADA.id,
            "<b>Gain</b> 📈 &amp; <i>loss</i> <a href='https://x.org/?a=1&amp;b=2'>chart</a>",
            parse_mode="HTML",
        )
    assert message.text == "Gain 📈 & loss chart"
    assert message.text_html == '<b>Gain</b> 📈 &amp; <i>loss</i> <a href="https://x.org/?a=1&b=2">chart</a>'


@pytest.mark.parametrize(
    ("raw", "description"),
    [
        ("<b>bold", "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""),
        (
            "<b><i>x</b></i>",
            'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
        ),
        ("é<foo>x</foo>", 'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 2'),
        ("x</b>", "Bad Request: can't parse entities: Unexpected end tag at byte offset 1"),
        (
            "<span>x</span>",
            'Bad Request: can\'t parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0',
        ),
    ],
)
def test_html_errors_are_worded_like_telegram(raw: str, description: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_formatted(raw, "HTML")
    assert caught.value.status == 400
    assert caught.value.description == description


def test_html_parsing_supports_telegram_tags() -> None:
    formatted = parse_formatted(
        '<pre><code class="language-python">x = 1</code></pre> <tg-spoiler>s</tg-spoiler> &lt;&#65;&#x42;&nbsp;',
        "HTML",
    )
    assert formatted.text == "x = 1 s <AB&nbsp;"
    assert formatted.entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 6, "length": 1},
    ]


async def test_caption_over_1024_characters_is_too_long(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
            await app.bot.send_photo(ADA.id, png_bytes(), caption="c" * 1025)


# --- media --------------------------------------------------------------------------------------


async def test_send_photo_keeps_the_uploaded_bytes(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    picture = png_bytes(640, 480, padding=2000)
    async with app:
        message = await app.bot.send_photo(
            ADA.id, picture, caption="<b>Equity</b> today", parse_mode="HTML", filename="equity.png"
        )
    [sent] = standin.messages(ADA.id)
    assert sent.photo == picture
    assert sent.filename == "equity.png"
    assert sent.caption == "<b>Equity</b> today"
    assert sent.displayed_text == "Equity today"
    assert (message.photo[-1].width, message.photo[-1].height) == (640, 480)
    assert message.photo[-1].file_size == len(picture)
    assert message.caption_html == "<b>Equity</b> today"


async def test_a_photo_that_is_not_an_image_is_rejected(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
            await app.bot.send_photo(ADA.id, b"not a picture", filename="equity.png")


async def test_send_document_and_download_it_again(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    report = b"symbol,qty\nBTC/USDT,0.5\n"
    async with app:
        message = await app.bot.send_document(ADA.id, report, filename="trades.csv", caption="Trades")
        telegram_file = await message.document.get_file()
        downloaded = await telegram_file.download_as_bytearray()
        resent = await app.bot.send_document(BOB.id, message.document.file_id)
    [sent] = standin.messages(ADA.id)
    assert sent.document == report
    assert sent.filename == "trades.csv"
    assert message.document.file_name == "trades.csv"
    assert message.document.mime_type == "text/csv"
    assert bytes(downloaded) == report
    assert standin.messages(BOB.id)[0].document == report
    assert resent.document.file_size == len(report)


# --- faults -------------------------------------------------------------------------------------


async def test_429_raises_retry_after_with_the_value(standin: TelegramStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after warns (→ error here) without it
    app = build_app(standin)
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    async with app:
        with pytest.raises(RetryAfter) as caught:
            await app.bot.send_message(ADA.id, "first")
        await app.bot.send_message(ADA.id, "second")
    assert caught.value.retry_after == dt.timedelta(seconds=7)
    assert [message.text for message in standin.messages(ADA.id)] == ["second"]


async def test_fail_next_can_fail_several_times(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    standin.fail_next("sendmessage", 502, "Bad Gateway", times=2)
    async with app:
        for _ in range(2):
            with pytest.raises(Exception, match="Bad Gateway"):
                await app.bot.send_message(ADA.id, "hello")
        await app.bot.send_message(ADA.id, "hello")
    assert [call.status for call in standin.calls_to("sendMessage")] == [502, 502, 200]


async def test_blocked_chat_is_forbidden(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    standin.block_chat(ADA.id)
    async with app:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(ADA.id, "are you there?")
        with pytest.raises(Forbidden):
            await app.bot.send_chat_action(ADA.id, "typing")
        await app.bot.send_message(BOB.id, "still fine")
        standin.block_chat(ADA.id, blocked=False)
        await app.bot.send_message(ADA.id, "welcome back")
    assert [message.text for message in standin.messages(ADA.id)] == ["welcome back"]


async def test_conflict_raises_ptb_conflict_from_get_updates(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    standin.set_conflict(True)
    async with app:
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await app.bot.get_updates(timeout=0)


async def test_conflict_reaches_the_polling_error_callback(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    errors: list[Exception] = []
    standin.set_conflict(True)
    async with polling(app, error_callback=errors.append):
        for _ in range(100):
            if errors:
                break
            await asyncio.sleep(0.02)
    assert errors
    assert isinstance(errors[0], Conflict)


async def test_a_second_poller_terminates_the_first(standin: TelegramStandIn) -> None:
    first = Bot(
        standin.token,
        base_url=standin.base_url,
        request=standin.request(),
        get_updates_request=standin.request(),
    )
    second = Bot(
        standin.token,
        base_url=standin.base_url,
        request=standin.request(),
        get_updates_request=standin.request(),
    )
    async with first, second:
        waiting = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.05)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict):
            await waiting


async def test_unknown_method_and_wrong_token_answer_like_telegram(standin: TelegramStandIn) -> None:
    transport = httpx.ASGITransport(app=standin.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://telegram.standin") as client:
        unknown = await client.post(f"/bot{standin.token}/sendTelepathy", data={"chat_id": "1"})
        wrong_token = await client.post("/bot42:nope/getMe")
        lower_case = await client.get(f"/bot{standin.token}/getme")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert wrong_token.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert lower_case.json()["result"]["username"] == "tradebot_standin_bot"
    bot = Bot("42:nope", base_url=standin.base_url, request=standin.request())
    with pytest.raises(InvalidToken):
        await bot.initialize()
    app = build_app(standin)
    async with app:
        with pytest.raises(EndPointNotFound):
            await app.bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": ADA.id})


# --- chats, commands ----------------------------------------------------------------------------


async def test_groups_with_negative_ids_receive_messages(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        message = await app.bot.send_message(GROUP_ID, "Daily report")
        chat = await app.bot.get_chat(GROUP_ID)
    assert message.chat.type == "supergroup"
    assert chat.id == GROUP_ID
    assert standin.messages(GROUP_ID)[0].text == "Daily report"
    assert standin.messages(ADA.id) == []


async def test_group_commands_come_from_the_group_chat(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    app.add_handler(CommandHandler("start", greet))
    async with polling(app):
        standin.send_text(BOB, "/start", chat=GROUP_ID)
        [reply] = await standin.wait_for_messages(GROUP_ID)
    assert reply.displayed_text == "Hello, Bob & welcome!"
    assert standin.messages(BOB.id) == []


async def test_get_chat_describes_a_private_chat(standin: TelegramStandIn) -> None:
    standin.send_text(ADA, "hi")
    app = build_app(standin)
    async with app:
        chat = await app.bot.get_chat(ADA.id)
    assert (chat.type, chat.first_name, chat.username) == ("private", "Ada", "ada")


async def test_bot_commands_round_trip(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        await app.bot.set_my_commands([("start", "Start"), ("portfolio", "Show the portfolio")])
        commands = await app.bot.get_my_commands()
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await app.bot.set_my_commands([("Portfolio", "capital letters are not allowed")])
    assert [(command.command, command.description) for command in commands] == [
        ("start", "Start"),
        ("portfolio", "Show the portfolio"),
    ]


# --- waiting helpers ----------------------------------------------------------------------------


async def test_wait_for_messages_counts_only_new_messages(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    async with app:
        await app.bot.send_message(ADA.id, "old")
        standin.mark(ADA.id)
        sender = asyncio.create_task(_send_later(app.bot, ["one", "two", "three"]))
        arrived = await standin.wait_for_messages(ADA.id, count=2, predicate=lambda m: m.text != "one")
        await sender
        with pytest.raises(TimeoutError, match="expected 1 new message"):
            await standin.wait_for_messages(ADA.id, timeout=0.2)
    assert [message.text for message in arrived] == ["two", "three"]


async def _send_later(bot: Bot, texts: list[str]) -> None:
    for text in texts:
        await asyncio.sleep(0.02)
        await bot.send_message(ADA.id, text)


async def test_wait_idle_waits_for_the_bot_to_go_quiet(standin: TelegramStandIn) -> None:
    app = build_app(standin)
    sent: list[SentMessage] = []

    async def chatty(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        for index in range(3):
            await asyncio.sleep(0.1)
            await update.message.reply_text(f"step {index}")

    app.add_handler(CommandHandler("start", chatty))
    async with polling(app):
        standin.send_text(ADA, "/start")
        await standin.wait_idle(quiet=0.25)
        sent = standin.messages(ADA.id)
    assert [message.text for message in sent] == ["step 0", "step 1", "step 2"]


# --- served on a loopback socket ----------------------------------------------------------------


async def test_served_over_uvicorn_only_base_url_changes(standin: TelegramStandIn) -> None:
    async with standin.serve(host="127.0.0.1", port=0) as url:
        app = ApplicationBuilder().token(standin.token).base_url(url).build()
        app.add_handler(CommandHandler("start", greet))
        async with polling(app):
            standin.send_text(ADA, "/start")
            [reply] = await standin.wait_for_messages(ADA.id)
            photo = await app.bot.send_photo(ADA.id, png_bytes(8, 4), filename="equity.png")
        stopping = time.monotonic()
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/bot")
    assert reply.displayed_text == "Hello, Ada & welcome!"
    assert photo.photo[-1].width == 8
    assert standin.messages(ADA.id)[-1].photo == png_bytes(8, 4)
    assert time.monotonic() - stopping < 1.5  # a pending long poll does not hold the shutdown


async def test_leaving_serve_answers_a_pending_long_poll_and_stops_quickly(standin: TelegramStandIn) -> None:
    async with httpx.AsyncClient() as client:
        async with standin.serve() as url:
            poll = asyncio.create_task(client.post(f"{url}{standin.token}/getUpdates", data={"timeout": "30"}))
            await asyncio.sleep(0.2)
            assert not poll.done()
            stopping = time.monotonic()
        response = await poll
    assert time.monotonic() - stopping < 1.5
    assert response.json() == {"ok": True, "result": []}
