"""`/connect` and `/disconnect` through the real Application, with the real ccxt binance class checking the
keys against the Binance stand-in: the message holding keys is deleted at once, keys that may withdraw are
refused, accepted keys are stored encrypted and never repeated anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.domain.enums import AccountMode
from storage.config import DatabaseConfig
from storage.models import AuditRow, ExchangeAccountRow
from tests.bot.product import current, now_reads, onboard, press, product_settings, running_product, say
from tests.bot.test_live_wiring import live_settings
from tests.engine.live_harness import ETH, ETH_SPEC
from tests.standins.binance_spot import BinanceSpotStandin

ANN = ChatUser(id=5151, first_name="Ann")
GOOD_KEY, GOOD_SECRET = "k3y-for-ann-7Q2Z", "s3cret-for-ann-never-shown"
WITHDRAW_KEY, WITHDRAW_SECRET = "k3y-that-withdraws", "s3cret-that-withdraws"


def deleted_ids(standin: TelegramStandIn, chat_id: int) -> set[int]:
    return {c.params["message_id"] for c in standin.calls_to("deleteMessage") if c.params["chat_id"] == chat_id}


async def test_keys_are_checked_refused_stored_encrypted_and_removed(database: DatabaseConfig):
    async with BinanceSpotStandin(symbols=[ETH_SPEC], prices={ETH: 1000}) as exchange:
        start = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp() * 1000) // 60_000 * 60_000
        exchange.set_candles(ETH, [[start + i * 60_000, 1000, 1001, 999, 1000, 5] for i in range(10)])
        exchange.add_account(GOOD_KEY, GOOD_SECRET, {"USDT": 800})
        exchange.add_account(WITHDRAW_KEY, WITHDRAW_SECRET, {"USDT": 5000}, enable_withdrawals=True)
        standin = TelegramStandIn()
        async with running_product(live_settings(database, exchange.base_url), standin) as runtime:
            engine = runtime.services.engine
            await onboard(runtime, ANN)  # on paper first

            sent = standin.send_text(ANN, f"/connect {WITHDRAW_KEY} {WITHDRAW_SECRET}")["message"]
            await standin.wait_idle(quiet=0.5, timeout=15)
            assert sent["message_id"] in deleted_ids(standin, ANN.id)
            refused = standin.messages(ANN.id)[-1].displayed_text
            assert "Not connected: These keys allow withdrawals" in refused
            assert (await engine.users.account(await engine.users.get(ANN.id))).is_paper  # type: ignore[arg-type,union-attr]

            asked = await say(standin, ANN, "/connect")
            assert "Send your API key and secret now" in asked.displayed_text
            wrong = standin.send_text(ANN, "k3y-nobody-knows s3cret-nobody-knows")["message"]
            await standin.wait_idle(quiet=0.5, timeout=15)
            assert wrong["message_id"] in deleted_ids(standin, ANN.id)
            assert "The exchange refused these keys" in standin.messages(ANN.id)[-1].displayed_text

            await say(standin, ANN, "/connect")
            assert "exactly two things" in (await say(standin, ANN, "just-one-word")).displayed_text
            good = standin.send_text(ANN, f"{GOOD_KEY} {GOOD_SECRET}")["message"]
            await standin.wait_idle(quiet=0.5, timeout=15)
            assert good["message_id"] in deleted_ids(standin, ANN.id)
            connected = standin.messages(ANN.id)[-1].displayed_text
            assert "Connected to binance with the key ending …7Q2Z" in connected
            assert "Free on the exchange: $800.00. I will manage $800.00." in connected
            assert exchange.count_requests("GET", "/api/v3/account", api_key=GOOD_KEY) >= 1

            user = await engine.users.get(ANN.id)
            account = await engine.users.account(user)  # type: ignore[arg-type]
            assert user is not None and user.mode is AccountMode.LIVE
            assert account is not None and account.venue == "binance" and account.managed_cash == Decimal(800)
            async with engine.uow() as work:
                columns = select(ExchangeAccountRow.api_key_encrypted, ExchangeAccountRow.secret_encrypted)
                key_cipher, secret_cipher = (await work.session.execute(columns)).one()  # type: ignore[attr-defined]
                audit = (await work.session.execute(select(AuditRow.details))).scalars().all()  # type: ignore[attr-defined]
                stored = await work.accounts.credentials(account.id)
            assert key_cipher and GOOD_KEY not in key_cipher and secret_cipher and GOOD_SECRET not in secret_cipher
            assert stored is not None and (stored.api_key, stored.secret) == (GOOD_KEY, GOOD_SECRET)
            assert not any(GOOD_SECRET in str(details) or GOOD_KEY in str(details) for details in audit)
            every_text = [m.text or "" for m in standin.messages(ANN.id)]
            assert not any(GOOD_SECRET in t or GOOD_KEY in t or WITHDRAW_SECRET in t for t in every_text)

            portfolio = (await say(standin, ANN, "/portfolio")).displayed_text
            assert "Portfolio · live" in portfolio and "Equity  $800.00" in portfolio
            again = await say(standin, ANN, f"/connect {WITHDRAW_KEY} {WITHDRAW_SECRET}")
            assert "already connected" in again.displayed_text

            ask = await say(standin, ANN, "/disconnect")
            assert "Remove the binance keys ending …7Q2Z?" in ask.displayed_text
            await press(standin, ANN, ask, "No")
            assert "stay connected" in now_reads(standin, ask)
            ask = await say(standin, ANN, "/disconnect")
            await press(standin, ANN, current(standin, ask), "Yes, remove the keys")
            assert "Removed the binance keys ending …7Q2Z" in now_reads(standin, ask)
            user = await engine.users.get(ANN.id)
            assert user is not None and user.mode is AccountMode.PAPER and await engine.users.account(user) is None
            assert "No exchange keys are connected" in (await say(standin, ANN, "/disconnect")).displayed_text
            assert "not connected yet" in (await say(standin, ANN, "/portfolio")).displayed_text


async def test_without_live_trading_connect_says_so_and_still_deletes_the_keys(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        await onboard(runtime, ANN)
        sent = standin.send_text(ANN, "/connect some-key some-secret")["message"]
        await standin.wait_idle(quiet=0.5, timeout=15)
        assert sent["message_id"] in deleted_ids(standin, ANN.id)
        assert "Live trading is not enabled" in standin.messages(ANN.id)[-1].displayed_text
        assert "Live trading is not enabled" in (await say(standin, ANN, "/connect")).displayed_text
        group = -100777
        leaked = standin.send_text(ANN, "/connect some-key some-secret", chat=group)["message"]
        await standin.wait_idle(quiet=0.5, timeout=15)
        assert leaked["message_id"] in deleted_ids(standin, group)
        assert "Revoke the keys" in standin.messages(group)[-1].displayed_text
        assert (await runtime.services.engine.users.account(await runtime.services.engine.users.get(ANN.id))).is_paper  # type: ignore[arg-type,union-attr]
