"""The signal pipeline: a signal fans out to its followers; for each, size, vet, store the decision, and
send what was accepted to the order manager. Webhook, LLM and rule signals all come through here."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from engine.accounts_view import value_account
from engine.bus import EventBus
from engine.clock import Clock
from engine.domain.accounts import Account, Market, User
from engine.domain.commands import ClosePosition, SubmitOrder
from engine.domain.enums import DecisionOutcome, OrderPurpose, OrderType, Side, SignalAction, TradingState
from engine.domain.events import EntriesDecided, EntryRefused
from engine.domain.ids import AccountId, StrategyId, Symbol, UserId, make_client_order_id
from engine.domain.positions import Position
from engine.domain.signals import Decision, Signal
from engine.gateways import GatewayRegistry
from engine.order_manager import OrderManager
from engine.ports import PriceSource, UnitOfWork, UnitOfWorkFactory
from risk.checks import no_market, vet_entry
from risk.phases import RolloutPhase
from risk.profiles import RiskProfile
from risk.sizing import entry_exit_prices, size_entry
from risk.snapshot import AccountSnapshot, EntryProposal, HeldPosition
from risk.trading_states import UserTradingState, expired

log = structlog.get_logger(__name__)

DUPLICATE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class TradingPolicy:
    """What the pipeline needs to know from configuration and the system state, read fresh per signal."""

    profiles: dict[str, RiskProfile]
    phase: RolloutPhase
    system_state: TradingState
    cost_rate: Decimal  # fee + slippage buffer used when sizing
    system_reason: str = ""
    is_system_paused_by_admin: bool = False
    price_tolerance: Decimal = Decimal("0.05")


@dataclass(frozen=True, slots=True)
class Follower:
    user: User
    account: Account
    positions: list[Position]
    recent_keys: frozenset[str]
    pending: tuple[HeldPosition, ...] = ()  # entries accepted earlier in the same run, not filled yet
    reserved: Decimal = Decimal(0)  # the cash those entries will take

    @property
    def pending_costs(self) -> Decimal:
        """Fees and slippage the pending entries will cost: the equity they will take."""
        return self.reserved - sum((p.value for p in self.pending), start=Decimal(0))

    def after_entry(self, decision: Decision, cost_rate: Decimal) -> Follower:
        """This follower as the next signal of the run must see them: holding what was just accepted."""
        assert decision.qty is not None and decision.price is not None
        held = HeldPosition(decision.symbol, decision.qty, decision.price)
        return replace(
            self,
            pending=(*self.pending, held),
            reserved=self.reserved + held.value * (1 + cost_rate),
            recent_keys=self.recent_keys | {decision.signal_key or ""},
        )


class SignalPipeline:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        orders: OrderManager,
        gateways: GatewayRegistry,
        prices: PriceSource,
        clock: Clock,
        bus: EventBus,
        policy: Callable[[], TradingPolicy],
    ) -> None:
        self._uow = uow
        self._orders = orders
        self._gateways = gateways
        self._prices = prices
        self._clock = clock
        self._bus = bus
        self._policy = policy
        self._lock = asyncio.Lock()

    async def handle(self, signal: Signal) -> list[Decision]:
        """Store the signal (unless it was stored on arrival), then act on it for every follower; returns the
        decisions taken."""
        return await self.handle_many([signal])

    async def handle_many(self, signals: Sequence[Signal]) -> list[Decision]:
        """Act on signals in their order, one batch at a time (never two batches at once, so two signals never
        both see a follower without a position). Consecutive entries are decided together: the followers are
        read once, each entry accepted counts against the follower's limits for the next ones, the decisions
        are stored together and the orders sent as one batch. An exit ends the run of entries before it."""
        decisions: list[Decision] = []
        async with self._lock:
            for run in _runs(signals):
                stored, followers = await self._load(run)
                if stored[0].action is SignalAction.EXIT:
                    await self._exit(stored, followers)
                else:
                    decisions += await self._enter(stored, followers)
        return decisions

    async def _load(self, signals: list[Signal]) -> tuple[list[Signal], dict[StrategyId, list[Follower]]]:
        async with self._uow() as uow:
            stored = [s if s.id is not None else await uow.signals.add(s, status="received") for s in signals]
            keys: dict[StrategyId, set[str]] = {}
            for signal in stored:
                keys.setdefault(signal.strategy, set()).add(_key(signal))
            followers = {strategy: await self._followers(uow, strategy, keys[strategy]) for strategy in keys}
            await uow.commit()
        return stored, followers

    async def _enter(self, signals: list[Signal], followers: dict[StrategyId, list[Follower]]) -> list[Decision]:
        policy = self._policy()
        decisions: list[Decision] = []
        commands: dict[int, SubmitOrder] = {}
        current: dict[UserId, Follower] = {}  # a follower seen by an earlier signal of the run, as it left it
        statuses: dict[int, str] = {}
        for index, signal in enumerate(signals):
            price = self._prices.last_price(signal.symbol)
            statuses[index] = "refused"
            for follower in followers[signal.strategy]:
                follower = current.get(follower.user.id, follower)
                decision, command = self._decide(signal, follower, policy, price)
                decisions.append(decision)
                if command is not None:
                    commands[len(decisions) - 1] = command
                    current[follower.user.id] = follower.after_entry(decision, policy.cost_rate)
                    statuses[index] = "accepted"
        async with self._uow() as uow:
            decisions = await uow.decisions.add_many(decisions)
            await uow.signals.set_statuses([(signal, statuses[index]) for index, signal in enumerate(signals)])
            await uow.commit()
        await self._orders.submit([_with_decision(cmd, decisions[i]) for i, cmd in commands.items()])
        await self._refused([d for d in decisions if not d.is_accepted])
        await self._bus.publish(_decided(decisions, self._clock.now()))
        return decisions

    async def _refused(self, decisions: list[Decision]) -> None:
        """Log the refusals, one line per strategy, symbol and set of reasons with the users concerned (a signal
        fans out to thousands of users), and tell each user."""
        grouped: dict[tuple[str, str, tuple[str, ...]], list[UserId]] = {}
        for decision in decisions:
            codes = tuple(r.code for r in decision.refusals)
            grouped.setdefault((decision.strategy, decision.symbol, codes), []).append(decision.user_id)
        for (strategy, symbol, codes), users in grouped.items():
            log.info("risk.refused", strategy=strategy, symbol=symbol, codes=list(codes), users=users)
        for decision in decisions:
            await self._bus.publish(
                EntryRefused(
                    ts=decision.ts,
                    user_id=decision.user_id,
                    symbol=decision.symbol,
                    side=decision.side,
                    strategy=decision.strategy,
                    refusals=decision.refusals,
                )
            )

    def _decide(
        self, signal: Signal, follower: Follower, policy: TradingPolicy, price: Decimal | None
    ) -> tuple[Decision, SubmitOrder | None]:
        user, account = follower.user, follower.account
        now = self._clock.now()
        base = {
            "user_id": user.id,
            "symbol": signal.symbol,
            "side": Side.BUY,
            "ts": now,
            "strategy": signal.strategy,
            "rationale": signal.rationale,
            "signal_id": signal.id,
            "signal_key": _key(signal),
        }
        market = self._market(account, signal)
        profile = policy.profiles.get(user.profile.value if user.profile else "")
        if price is None or market is None or profile is None:
            reason = no_market(signal.symbol)
            return Decision(outcome=DecisionOutcome.REFUSED, refusals=(reason,), **base), None  # type: ignore[arg-type]
        snapshot = self._snapshot(follower, profile, policy, price)
        stop, take_profit = entry_exit_prices(
            price, profile.stop_loss, profile.take_profit, market, signal.stop_price, signal.take_profit
        )
        qty = size_entry(snapshot, signal.symbol, market, price, stop, policy.cost_rate)
        proposal = EntryProposal(
            symbol=signal.symbol,
            strategy=signal.strategy,
            market=market,
            price=price,
            signal_price=signal.price,
            qty=qty,
            stop_price=stop,
            fee_rate=policy.cost_rate,
            signal_key=_key(signal),
        )
        refusals = vet_entry(snapshot, proposal)
        if refusals:
            decision = Decision(outcome=DecisionOutcome.REFUSED, refusals=refusals, qty=qty, price=price, **base)  # type: ignore[arg-type]
            return decision, None
        origin = f"signal:{_key(signal)}:entry"
        client_order_id = make_client_order_id(account.id, origin)
        decision = Decision(
            outcome=DecisionOutcome.ACCEPTED,
            qty=qty,
            price=price,  # type: ignore[arg-type]
            client_order_id=client_order_id,
            **base,
        )
        command = SubmitOrder(
            user_id=user.id,
            account_id=account.id,
            venue=account.venue,
            symbol=signal.symbol,
            side=Side.BUY,
            type=OrderType.MARKET,
            qty=qty,
            purpose=OrderPurpose.ENTRY,
            origin=origin,
            protective_stop=stop,
            take_profit=take_profit,
            strategy=signal.strategy,
            rationale=signal.rationale,
            signal_id=signal.id,
        )
        return decision, command

    async def _exit(self, signals: list[Signal], followers: dict[StrategyId, list[Follower]]) -> None:
        closes: list[ClosePosition] = []
        closing: set[tuple[AccountId, Symbol]] = set()  # each position is closed once, by the first exit
        statuses = []
        for signal in signals:
            mine = [c for c in _closes(signal, followers[signal.strategy]) if (c.account_id, c.symbol) not in closing]
            closing |= {(c.account_id, c.symbol) for c in mine}
            closes += mine
            statuses.append("accepted" if mine else "no_position")
        async with self._uow() as uow:
            await uow.signals.set_statuses(list(zip(signals, statuses, strict=True)))
            await uow.commit()
        await self._orders.close_positions(closes)

    async def _followers(self, uow: UnitOfWork, strategy: StrategyId, signal_keys: set[str]) -> list[Follower]:
        users = [u for u in await uow.users.followers(strategy) if u.is_onboarded]
        accounts = {a.user_id: a for a in await uow.accounts.of_followers(strategy)}
        positions: dict[AccountId, list[Position]] = {}
        for p in await uow.positions.open_of_followers(strategy):
            positions.setdefault(p.account_id, []).append(p)
        since = self._clock.now() - DUPLICATE_WINDOW
        keys = await uow.decisions.recent_keys([u.id for u in users], signal_keys, since)
        return [
            Follower(u, accounts[u.id], positions.get(accounts[u.id].id, []), frozenset(keys.get(u.id, ())))
            for u in users
            if u.id in accounts
        ]

    def _market(self, account: Account, signal: Signal) -> Market | None:
        try:
            return self._gateways.for_account(account).market(signal.symbol)
        except Exception:
            return None

    def _snapshot(
        self, follower: Follower, profile: RiskProfile, policy: TradingPolicy, price: Decimal
    ) -> AccountSnapshot:
        user, account = follower.user, follower.account
        valued = value_account(user, account, follower.positions, self._prices)
        equity = valued.equity - follower.pending_costs
        return AccountSnapshot(
            user_id=user.id,
            now=self._clock.now(),
            profile=profile,
            phase=policy.phase,
            capital=user.capital or Decimal(0),
            equity=equity,
            free_cash=max(account.managed_cash - follower.reserved, Decimal(0)),
            day_start_equity=account.day_start_equity or equity,
            peak_equity=max(user.peak_equity, equity),
            positions=(
                *(HeldPosition(v.position.symbol, v.position.qty, v.price) for v in valued.positions),
                *follower.pending,
            ),
            is_paused=user.is_paused,
            trading_state=_state_now(user, self._clock.now()),
            state_reason=user.state_reason,
            system_state=policy.system_state,
            system_reason=policy.system_reason,
            is_system_paused_by_admin=policy.is_system_paused_by_admin,
            is_reduce_only=account.is_reduce_only,
            cooldown_until=user.cooldown_until,
            recent_signal_keys=follower.recent_keys,
            price_tolerance=policy.price_tolerance,
        )


def _runs(signals: Sequence[Signal]) -> list[list[Signal]]:
    """Consecutive signals with the same action, in order."""
    runs: list[list[Signal]] = []
    for signal in signals:
        if runs and runs[-1][0].action is signal.action:
            runs[-1].append(signal)
        else:
            runs.append([signal])
    return runs


def _closes(signal: Signal, followers: list[Follower]) -> list[ClosePosition]:
    """Close what each follower holds in the signal's symbol from the signal's strategy."""
    return [
        ClosePosition(
            user_id=follower.user.id,
            account_id=follower.account.id,
            symbol=signal.symbol,
            purpose=OrderPurpose.EXIT_SIGNAL,
            reason=signal.rationale,
        )
        for follower in followers
        if follower.user.trading_state.allows_exits
        for position in follower.positions
        if position.symbol == signal.symbol and position.strategy == signal.strategy
    ]


def _decided(decisions: Sequence[Decision], now: datetime) -> EntriesDecided:
    reasons = Counter(r.code for d in decisions if not d.is_accepted for r in d.refusals)
    accepted = sum(1 for d in decisions if d.is_accepted)
    return EntriesDecided(
        ts=now, accepted=accepted, refused=len(decisions) - accepted, reasons=tuple(sorted(reasons.items()))
    )


def _state_now(user: User, now: datetime) -> TradingState:
    """The user's trading state at `now`: a reducing state whose time is up no longer holds entries back, even
    before the monitor's next pass records it."""
    state = UserTradingState(state=user.trading_state, until=user.state_until)
    return expired(state, now).state


def _key(signal: Signal) -> str:
    return signal.idempotency_key or f"signal-{signal.id}"


def _with_decision(command: SubmitOrder, decision: Decision) -> SubmitOrder:
    return replace(command, decision_id=decision.id)
