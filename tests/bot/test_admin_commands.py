"""Every admin command through the real Application and the Bot API stand-in: the happy path, wrong
arguments, and proof that anyone else is refused and changes nothing."""

from __future__ import annotations

from decimal import Decimal

from bot.help_text import ADMIN_COMMANDS
from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.domain.enums import TradingState, UserStatus
from risk.config import RiskConfig
from risk.phases import PhaseName
from storage.config import DatabaseConfig
from tests.bot.product import (
    ADMIN,
    ADMIN_CHAT,
    buy,
    now_reads,
    onboard,
    press,
    product_settings,
    running_product,
    say,
)

ANN = ChatUser(id=5151, first_name="Ann")
MALLORY = ChatUser(id=6161, first_name="Mallory")
NEWCOMER = ChatUser(id=7171, first_name="Nia")

EVERY_ADMIN_COMMAND = [
    "/status",
    "/users",
    "/user 1",
    "/approve 2",
    "/pause_all",
    "/resume_all",
    "/close_all",
    "/phase open",
    "/broadcast hello",
    "/errors",
    "/strategies",
    "/strategy ema_cross off",
]


async def test_every_admin_command_is_refused_to_anyone_else_and_changes_nothing(database: DatabaseConfig):
    assert {c.split()[0][1:] for c in EVERY_ADMIN_COMMAND} == {c.name for c in ADMIN_COMMANDS}
    standin = TelegramStandIn()
    async with running_product(product_settings(database, risk=_phase(PhaseName.LIMITED)), standin) as runtime:
        engine = runtime.services.engine
        user = await onboard(runtime, MALLORY, Decimal(600))
        await buy(runtime, user, "ETH/USDT")
        await say(standin, NEWCOMER, "/start")  # waiting for approval
        for command in EVERY_ADMIN_COMMAND:
            assert (await say(standin, MALLORY, command)).displayed_text == "This command is for the operators only."
        assert engine.system.state is TradingState.ACTIVE and engine.system.phase.name is PhaseName.LIMITED
        assert (await engine.users.get(NEWCOMER.id)).status is UserStatus.PENDING  # type: ignore[union-attr]
        assert len(await engine.closer.open_positions(user)) == 1  # type: ignore[union-attr]
        assert "/status" not in (await say(standin, MALLORY, "/help")).displayed_text

        listing = await say(standin, ADMIN, "/close_all")  # a forwarded confirmation is still refused
        standin.press_button(MALLORY, listing, listing.callback_data[0])
        await standin.wait_idle(quiet=0.3, timeout=10)
        alerts = [c.params.get("text") for c in standin.calls_to("answerCallbackQuery")]
        assert "This command is for the operators only." in alerts
        assert len(await engine.closer.open_positions(user)) == 1  # type: ignore[union-attr]


async def test_users_user_approve_broadcast_and_errors(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database, risk=_phase(PhaseName.LIMITED)), standin) as runtime:
        engine = runtime.services.engine
        ann = await onboard(runtime, ANN, Decimal(600))
        await buy(runtime, ann, "ETH/USDT")
        await say(standin, NEWCOMER, "/start")
        newcomer = await engine.users.get(NEWCOMER.id)
        assert newcomer is not None and newcomer.status is UserStatus.PENDING
        request = await standin.wait_for_messages(ADMIN_CHAT, predicate=lambda m: "Access request" in m.displayed_text)
        assert f"/approve {newcomer.id}" in request[0].displayed_text

        listing = (await say(standin, ADMIN, "/users")).displayed_text
        assert f"#{ann.id} Ann · active · moderate · $600.00 · paper" in listing
        assert f"#{newcomer.id} Nia · pending" in listing and "pending 1" in listing
        pending = (await say(standin, ADMIN, "/users pending")).displayed_text
        assert "Nia" in pending and "Ann" not in pending
        assert "Usage: /users" in (await say(standin, ADMIN, "/users everyone")).displayed_text

        detail = (await say(standin, ADMIN, f"/user {ann.id}")).displayed_text
        assert "Telegram id 5151" in detail and "Account paper" in detail and "1 open position(s)" in detail
        assert "There is no user #999" in (await say(standin, ADMIN, "/user 999")).displayed_text
        assert "Usage: /user ID" in (await say(standin, ADMIN, "/user ann")).displayed_text

        assert "Usage: /approve ID" in (await say(standin, ADMIN, "/approve")).displayed_text
        approved = await say(standin, ADMIN, f"/approve #{newcomer.id}")
        assert f"Approved #{newcomer.id} Nia" in approved.displayed_text
        assert (await engine.users.get(NEWCOMER.id)).status is UserStatus.APPROVED  # type: ignore[union-attr]
        told = await standin.wait_for_messages(NEWCOMER.id, predicate=lambda m: "You're in!" in m.displayed_text)
        assert "/start" in told[0].displayed_text
        assert "already in" in (await say(standin, ADMIN, f"/approve {newcomer.id}")).displayed_text

        assert "Usage: /broadcast TEXT" in (await say(standin, ADMIN, "/broadcast")).displayed_text
        ask = await say(standin, ADMIN, "/broadcast Maintenance <today>, back by 14:00 UTC")
        assert "Send this to 2 user(s)?" in ask.displayed_text and "<today>" in ask.displayed_text
        await press(standin, ADMIN, ask, "Send to 2 user(s)")
        assert "Queued for 2 user(s)" in now_reads(standin, ask)
        for chat in (ANN.id, NEWCOMER.id):
            got = await standin.wait_for_messages(chat, predicate=lambda m: "From the operators" in m.displayed_text)
            assert "Maintenance <today>, back by 14:00 UTC" in got[0].displayed_text

        assert "No processing errors" in (await say(standin, ADMIN, "/errors")).displayed_text
        await engine.record_error("job:reports", "ZeroDivisionError: <boom>")
        errors = (await say(standin, ADMIN, "/errors 5")).displayed_text
        assert "job:reports" in errors and "ZeroDivisionError: <boom>" in errors
        assert "Usage: /errors [n]" in (await say(standin, ADMIN, "/errors 500")).displayed_text


async def test_status_pause_all_resume_all_close_all_and_phase(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        engine = runtime.services.engine
        ann = await onboard(runtime, ANN)
        await buy(runtime, ann, "ETH/USDT")
        await buy(runtime, ann, "LTC/USDT")
        await engine.users.set_paused(await onboard(runtime, MALLORY), True)

        status = (await say(standin, ADMIN, "/status")).displayed_text
        assert "🟢 active: trading for everyone" in status and "Phase open" in status
        assert "🟢 database: ok" in status and "telegram: ok" in status
        assert "trading 1 · paused 1" in status and "Open positions 2" in status
        assert "Orders today 4 · filled 2 · failed 0 · success 100.00%" in status  # two entries, two stops
        assert "LLM spend today $0.00 (agent off)" in status and "No open alerts." in status

        paused = await say(standin, ADMIN, "/pause_all exchange maintenance")
        assert "Paused for everyone" in paused.displayed_text
        assert engine.system.state is TradingState.REDUCING and engine.system.state_reason == "exchange maintenance"
        alert = await standin.wait_for_messages(ADMIN_CHAT, predicate=lambda m: "reducing" in m.displayed_text)
        assert "exchange maintenance" in alert[0].displayed_text
        assert "already paused for everyone" in (await say(standin, ADMIN, "/pause_all")).displayed_text
        assert "paused for everyone: exits only" in (await say(standin, ADMIN, "/status")).displayed_text
        assert "on again for everyone" in (await say(standin, ADMIN, "/resume_all")).displayed_text
        assert engine.system.state is TradingState.ACTIVE
        assert "already on" in (await say(standin, ADMIN, "/resume_all")).displayed_text

        ask = await say(standin, ADMIN, "/close_all")
        assert "Sell all 2 open position(s) of every user" in ask.displayed_text
        await press(standin, ADMIN, ask, "Cancel")
        assert "Nothing was sold" in now_reads(standin, ask)
        assert len(await engine.closer.open_positions(ann)) == 2  # type: ignore[union-attr]
        ask = await say(standin, ADMIN, "/close_all")
        done = await press(standin, ADMIN, ask, "Pause everyone, then sell all")
        assert "Sent 2 sell order(s) for 2 position(s)" in done.displayed_text and "/resume_all" in done.displayed_text
        assert await engine.closer.open_positions(ann) == []  # type: ignore[union-attr]
        assert engine.system.state is TradingState.REDUCING
        assert "No user holds an open position" in (await say(standin, ADMIN, "/close_all")).displayed_text

        phases = (await say(standin, ADMIN, "/phase")).displayed_text
        assert "Rollout phase: open" in phases and "internal: $100.00–$500.00 · up to 5 users" in phases
        assert "Usage: /phase" in (await say(standin, ADMIN, "/phase beta")).displayed_text
        assert "already open" in (await say(standin, ADMIN, "/phase open")).displayed_text
        ask = await say(standin, ADMIN, "/phase limited")
        await press(standin, ADMIN, ask, "Move to limited")
        moved = now_reads(standin, ask)
        assert "Moved from open to limited" in moved and "Every user's profile and capital fit" in moved
        assert "Rollout phase: limited" in moved and engine.system.phase.name is PhaseName.LIMITED
        ask = await say(standin, ADMIN, "/phase internal")
        await press(standin, ADMIN, ask, "Move to internal")
        moved = now_reads(standin, ask)
        assert "2 user(s) no longer fit it" in moved and f"#{ann.id}: The moderate profile is not open" in moved


def _phase(name: PhaseName) -> RiskConfig:
    return RiskConfig(phase=name)
