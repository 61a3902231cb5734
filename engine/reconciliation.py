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
from engine.domain.venue import Balance, VenueOrder
from engine.errors import BotError
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
        """Reconcile the accounts with unsettled orders or open positions, one batch per venue.

        `every_account` (at startup): every account, and each venue's lists of open orders too.
        """
        async with self._uow() as uow:
            unsettled = await uow.orders.non_final()
            positions = await uow.positions.all_open()
            ids = {o.account_id for o in unsettled} | {p.account_id for p in positions}
            accounts = await uow.accounts.list() if every_account else (await uow.accounts.get_many(list(ids))).values()
        reports = {a.id: AccountReconciliation(a.id) for a in accounts}
        by_venue: dict[str, list[Account]] = defaultdict(list)
        for account in accounts:
            by_venue[account.venue].append(account)
        for venue, members in by_venue.items():
            ours = {a.id for a in members}
            await self._venue(venue, members, [o for o in unsettled if o.account_id in ours], reports, every_account)
        for report in reports.values():
            if report.differences:
                reason = "; ".join(report.differences)
                await self._guard.halt(report.account_id, reason, title="reconciliation found a difference")
        return _logged(ReconciliationReport(list(reports.values())))

    async def _venue(
        self,
        venue: str,
        accounts: list[Account],
        unsettled: list[Order],
        reports: dict[AccountId, AccountReconciliation],
        every_account: bool,
    ) -> None:
        try:
            gateway = self._gateways.for_venue(venue)
        except BotError as error:
            for account in accounts:
                reports[account.id].error = str(error)
            return
        await self._settle(gateway, unsettled, reports)
        if every_account:  # listing every open order is a heavy request (Binance: weight 80): at startup only
            await self._strangers(gateway, accounts, reports)
        healthy = [a.id for a in accounts if not reports[a.id].error]
        async with self._uow() as uow:
            positions = await uow.positions.open_for_accounts(healthy)
        for account_id in await self._orders.restore_stops(positions):
            reports[account_id].stops_restored += 1
        await self._compare(gateway, [a for a in healthy if reports[a].pending == 0], reports)

    async def _settle(
        self, gateway: ExchangeGateway, unsettled: list[Order], reports: dict[AccountId, AccountReconciliation]
    ) -> None:
        """Look each unsettled order up by client order id and record what the venue says (or that it never got it)."""
        views = await gateway.fetch_orders([(o.account_id, o.symbol, o.client_order_id) for o in unsettled])
        answers: list[tuple[Order, VenueOrder | Exception]] = []
        now = self._clock.now()
        for order, view in zip(unsettled, views, strict=True):
            report = reports[order.account_id]
            if isinstance(view, Exception):  # the venue did not answer for this account: next run
                report.error = str(view)
            elif view is not None:
                answers.append((order, view))
                report.adopted += 1
            elif order.status in _HELD_AT_VENUE:
                report.differences.append(f"order {order.client_order_id} is {order.status} here, unknown at the venue")
            elif (now - order.created_at).total_seconds() >= self._grace:
                answers.append((order, VenueRejected(_never_reached(self._grace))))
                report.never_sent += 1
            else:
                report.pending += 1
        await self._orders.apply_outcomes(answers)

    async def _strangers(
        self, gateway: ExchangeGateway, accounts: list[Account], reports: dict[AccountId, AccountReconciliation]
    ) -> None:
        """Orders open at the venue with our client order id prefix that our books never wrote."""
        listed = await gateway.fetch_open_orders_of([a.id for a in accounts])
        ours = {
            account_id: [o for o in orders if o.client_order_id.startswith(CLIENT_ORDER_ID_PREFIX)]
            for account_id, orders in listed.items()
            if not isinstance(orders, Exception)
        }
        async with self._uow() as uow:
            known = await uow.orders.existing([o.client_order_id for orders in ours.values() for o in orders])
        for account_id, orders in ours.items():
            reports[account_id].differences += [
                f"the venue has an open order {o.client_order_id} we never wrote"
                for o in orders
                if o.client_order_id not in known
            ]

    async def _compare(
        self, gateway: ExchangeGateway, account_ids: list[AccountId], reports: dict[AccountId, AccountReconciliation]
    ) -> None:
        """Positions and cash against the venue's balances (coins missing are never explained away)."""
        if not account_ids:
            return
        balances = await gateway.fetch_balances_of(account_ids)
        async with self._uow() as uow:
            accounts = await uow.accounts.get_many(account_ids)
            positions = await uow.positions.open_for_accounts(account_ids)
        held: dict[AccountId, list[Position]] = defaultdict(list)
        for position in positions:
            held[position.account_id].append(position)
        strict = bool(getattr(gateway, "holds_only_managed_funds", False))
        for account_id, venue_balances in balances.items():
            if isinstance(venue_balances, Exception):
                reports[account_id].error = str(venue_balances)
                continue
            books = Books(accounts[account_id].managed_cash, held[account_id], self._quote)
            reports[account_id].differences += books.differences(venue_balances, gateway, strict)


@dataclass(frozen=True, slots=True)
class Books:
    """What our books say one account holds at its venue: cash in the quote currency, and coins in positions."""

    cash: Decimal
    positions: list[Position]
    quote: str

    def differences(self, balances: dict[str, Balance], gateway: ExchangeGateway, strict: bool) -> list[str]:
        held: dict[str, Decimal] = defaultdict(lambda: ZERO)
        dust: dict[str, Decimal] = {}
        for position in self.positions:
            base, _ = split_symbol(position.symbol)
            held[base] += position.qty
            dust[base] = _smallest(gateway, position.symbol)
        if strict:  # every coin of the account is ours: one we hold no position in is a difference too
            for asset in balances:
                if asset != self.quote and asset not in held:
                    held[asset] = ZERO
                    dust[asset] = _smallest(gateway, Symbol(f"{asset}/{self.quote}"))
        differences = [
            _difference(asset, balances[asset].total if asset in balances else ZERO, qty, dust[asset], strict)
            for asset, qty in held.items()
        ]
        cash = balances[self.quote].total if self.quote in balances else ZERO
        differences.append(_difference(self.quote, cash, self.cash, CASH_TOLERANCE, strict))
        return [d for d in differences if d]


def _logged(report: ReconciliationReport) -> ReconciliationReport:
    accounts = report.accounts
    log.info(
        "reconciliation.done",
        accounts=len(accounts),
        adopted=sum(r.adopted for r in accounts),
        never_sent=sum(r.never_sent for r in accounts),
        pending=sum(r.pending for r in accounts),
        stops_restored=sum(r.stops_restored for r in accounts),
        differences=len(report.differences),
        failed=len(report.failed),
    )
    for account_id, error in report.failed.items():
        log.warning("reconciliation.account_failed", account=account_id, error=error)
    return report


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
