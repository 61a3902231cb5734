"""Reconciliation: our books against each venue's, at startup and periodically.

For every account with unsettled orders or open positions (every account, at startup):

1. each unsettled order (`new`, `submitted`, `unknown`, `open`, `partially filled`) is looked up at its
   venue by client order id, never resent: what the venue reports is recorded (fills made while the
   process was down are adopted, with their fees); an order the venue never saw, older than the grace
   period, becomes `rejected` ("never reached the exchange");
2. an open position whose protective stop is missing or was cancelled at the venue gets one back;
3. once nothing is left unresolved, the venue's balances are compared with our positions and cash.

A difference that cannot be explained (coins missing, an order we hold open that the venue does not
know, an order of ours at the venue we never wrote) puts that account in reduce-only and alerts the
admins: fail closed, as NautilusTrader does. A venue that does not answer is tried again next run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

import structlog

from engine.account_guard import AccountGuard
from engine.clock import Clock
from engine.domain.accounts import Account
from engine.domain.enums import OrderStatus
from engine.domain.ids import CLIENT_ORDER_ID_PREFIX, AccountId, Symbol, split_symbol
from engine.domain.money import ZERO
from engine.domain.orders import Order
from engine.domain.positions import Position
from engine.domain.venue import VenueOrder
from engine.errors import BotError, OperationalError
from engine.errors import OrderRejected as VenueRejected
from engine.gateways import GatewayRegistry
from engine.order_manager import OrderManager
from engine.ports import ExchangeGateway, UnitOfWorkFactory
from engine.protective_stops import NEVER_REACHED

log = structlog.get_logger(__name__)

CASH_TOLERANCE: Final = Decimal("0.0001")  # exchanges round quote amounts to 8 decimals per trade
_HELD_AT_VENUE: Final = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


@dataclass
class AccountReconciliation:
    account_id: AccountId
    adopted: int = 0  # orders whose venue view was recorded
    never_sent: int = 0  # orders settled as "never reached the exchange"
    pending: int = 0  # too young to judge; left for the next run
    stops_restored: int = 0
    differences: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def is_clean(self) -> bool:
        return not self.differences and not self.error


@dataclass
class ReconciliationReport:
    accounts: list[AccountReconciliation]

    @property
    def differences(self) -> dict[AccountId, list[str]]:
        return {a.account_id: a.differences for a in self.accounts if a.differences}

    @property
    def failed(self) -> dict[AccountId, str]:
        return {a.account_id: a.error for a in self.accounts if a.error}


class Reconciler:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        gateways: GatewayRegistry,
        orders: OrderManager,
        guard: AccountGuard,
        clock: Clock,
        *,
        quote: str,
        grace_seconds: float,
    ) -> None:
        self._uow = uow
        self._gateways = gateways
        self._orders = orders
        self._guard = guard
        self._clock = clock
        self._quote = quote
        self._grace = grace_seconds

    async def run(self, *, every_account: bool = False) -> ReconciliationReport:
        """Reconcile the accounts with unsettled orders or open positions.

        `every_account` (at startup): every account, and each venue's list of open orders too.
        """
        async with self._uow() as uow:
            unsettled = await uow.orders.non_final()
            positions = await uow.positions.all_open()
            ids = {o.account_id for o in unsettled} | {p.account_id for p in positions}
            accounts = await uow.accounts.list() if every_account else (await uow.accounts.get_many(list(ids))).values()
        by_account: dict[AccountId, list[Order]] = defaultdict(list)
        for order in unsettled:
            by_account[order.account_id].append(order)
        reports = [await self._account(a, by_account.get(a.id, []), every_account) for a in accounts]
        report = ReconciliationReport(reports)
        log.info(
            "reconciliation.done",
            accounts=len(reports),
            adopted=sum(r.adopted for r in reports),
            never_sent=sum(r.never_sent for r in reports),
            pending=sum(r.pending for r in reports),
            differences=len(report.differences),
            failed=len(report.failed),
        )
        return report

    async def _account(self, account: Account, unsettled: list[Order], every_account: bool) -> AccountReconciliation:
        report = AccountReconciliation(account.id)
        try:
            gateway = self._gateways.for_account(account)
            await self._settle(gateway, account, unsettled, report)
            if every_account:  # listing every open order is a heavy request (Binance: weight 80): at startup only
                report.differences += await self._strangers(gateway, account)
            report.stops_restored = await self._orders.restore_stops(await self._open_positions(account.id))
            if report.pending == 0:
                report.differences += await self._compare(gateway, account)
        except OperationalError as error:  # the gateway already put the account in reduce-only
            report.error = str(error)
        except BotError as error:  # the venue did not answer: the next run tries again
            report.error = str(error)
            log.warning("reconciliation.account_failed", account=account.id, error=str(error))
        if report.differences:
            await self._guard.halt(account.id, "; ".join(report.differences), title="reconciliation found a difference")
        return report

    async def _settle(
        self, gateway: ExchangeGateway, account: Account, unsettled: list[Order], report: AccountReconciliation
    ) -> None:
        """Look each unsettled order up by client order id and record what the venue says (or that it never got it)."""
        answers: list[tuple[Order, VenueOrder | Exception]] = []
        now = self._clock.now()
        for order in unsettled:
            venue = await gateway.fetch_order(account.id, order.symbol, order.client_order_id)
            if venue is not None:
                answers.append((order, venue))
            elif order.status in _HELD_AT_VENUE:
                report.differences.append(f"order {order.client_order_id} is {order.status} here, unknown at the venue")
            elif (now - order.created_at).total_seconds() >= self._grace:
                answers.append((order, VenueRejected(_never_reached(self._grace))))
                report.never_sent += 1
            else:
                report.pending += 1
        await self._orders.apply_outcomes(answers)
        report.adopted = len(answers) - report.never_sent

    async def _strangers(self, gateway: ExchangeGateway, account: Account) -> list[str]:
        """Orders open at the venue with our client order id prefix that our books never wrote."""
        ours = [
            o
            for o in await gateway.fetch_open_orders(account.id)
            if o.client_order_id.startswith(CLIENT_ORDER_ID_PREFIX)
        ]
        async with self._uow() as uow:
            known = await uow.orders.get_many([o.client_order_id for o in ours])
        return [
            f"the venue has an open order {o.client_order_id} we never wrote"
            for o in ours
            if o.client_order_id not in known
        ]

    async def _compare(self, gateway: ExchangeGateway, account: Account) -> list[str]:
        """Positions and cash against the venue's balances (coins missing are never explained away)."""
        balances = await gateway.fetch_balances(account.id)
        async with self._uow() as uow:
            account = await uow.accounts.get(account.id) or account
            positions = await uow.positions.open_for_account(account.id)
        strict = bool(getattr(gateway, "holds_only_managed_funds", False))
        held: dict[str, Decimal] = defaultdict(lambda: ZERO)
        dust: dict[str, Decimal] = {}
        for position in positions:
            base, _ = split_symbol(position.symbol)
            held[base] += position.qty
            dust[base] = _smallest(gateway, position.symbol)
        if strict:  # every coin of the account is ours: one we hold no position in is a difference too
            for asset in balances:
                if asset != self._quote and asset not in held:
                    held[asset] = ZERO
                    dust[asset] = _smallest(gateway, Symbol(f"{asset}/{self._quote}"))
        differences = [
            _difference(asset, balances[asset].total if asset in balances else ZERO, qty, dust[asset], strict)
            for asset, qty in held.items()
        ]
        cash = balances[self._quote].total if self._quote in balances else ZERO
        differences.append(_difference(self._quote, cash, account.managed_cash, CASH_TOLERANCE, strict))
        return [d for d in differences if d]

    async def _open_positions(self, account_id: AccountId) -> list[Position]:
        async with self._uow() as uow:
            return await uow.positions.open_for_account(account_id)


def _smallest(gateway: ExchangeGateway, symbol: Symbol) -> Decimal:
    """Less than this of a coin is dust the venue cannot sell: never a difference."""
    try:
        return gateway.market(symbol).smallest_qty
    except Exception:
        return ZERO


def _difference(asset: str, venue: Decimal, ours: Decimal, tolerance: Decimal, strict: bool) -> str:
    """A sentence when the venue holds less than our books say (or, `strict`, anything but the same)."""
    if venue < ours - tolerance or (strict and venue > ours + tolerance):
        return f"the venue holds {venue.normalize():f} {asset}, our books {ours.normalize():f} {asset}"
    return ""


def _never_reached(grace: float) -> str:
    return f"{NEVER_REACHED} (no trace of it after {grace:.0f} s); it was not placed."
