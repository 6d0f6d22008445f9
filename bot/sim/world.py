"""State of one simulated exchange and its evolution in time.

:meth:`SimWorld.sync` brings everything up to the clock: options and futures
expiring on the way settle at the index at their expiry time, perpetual
funding accrues, resting orders the mark crossed fill, deposits that arrived
are credited and accounts below maintenance margin are liquidated at mark.
Marks are priced once per market grid step and cached, so a poll of hundreds
of tickers reprices nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.units import position_coin
from bot.sim.accounts import AccountState, PositionState, closed_pnl
from bot.sim.contracts import SimContract
from bot.sim.desk import Desk
from bot.sim.dialect import Dialect
from bot.sim.errors import UNAUTHORIZED, sim_error
from bot.sim.grid import build_contracts
from bot.sim.margin import option_payoff_coin
from bot.sim.market import MarketModel
from bot.sim.marks import MarkRow, MarkTable
from bot.sim.network import SimNetwork
from bot.sim.render import Activity
from bot.sim.spec import ExchangeSpec, PositionSpec
from bot.sim.validation import contract_for
from bot.sim.wallet import Wallet

MS_PER_8H = 8 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One discrete funding settlement of one position (Binance's ``FUNDING_FEE`` income).

    ``amount`` is what the account received in ``currency`` (< 0: it paid).
    """

    id: int
    account_id: int
    instrument_name: str
    currency: str
    amount: float
    rate_8h: float
    ts_ms: int


class SimWorld:
    """Contracts, accounts, orders, wallet and cached marks of one exchange."""

    def __init__(
        self,
        market: MarketModel,
        clock: Clock,
        config: ExchangeSpec,
        network: SimNetwork | None,
    ) -> None:
        unknown = [u for u in config.underlyings if u not in market.underlyings]
        if unknown:
            raise ValueError(f"SimExchange {config.name}: market has no underlying {unknown}")
        self.market = market
        self.clock = clock
        self.config = config
        self.contracts = build_contracts(
            config.name,
            creation_ms=config.start_ms,
            underlyings=config.underlyings,
            option_expiries_ms=config.option_expiries_ms,
            future_expiries_ms=config.future_expiries_ms,
            strikes_usd=config.strikes_usd,
            linear_perps=config.linear_perps,
            dialect=config.dialect,
        )
        self.expired: set[str] = set()
        self.deliveries: dict[str, dict[int, float]] = {}
        """Per underlying, each passed expiry's delivery price (USD per coin)."""
        self.accounts = {
            a.id: AccountState(a, a.id == config.main_account_id, dict(a.balances))
            for a in config.accounts
        }
        self.desk = Desk(self.contracts, config.fees, config.book)
        self.wallet = Wallet(config.name, config.wallet, self.accounts, network, config.currencies)
        self.funding: list[FundingPayment] = []
        self.ts = market.now_ms
        self.marks_step = self._grid_ts(self.ts)
        self.marks = MarkTable(market, self.contracts.values(), config.perp_basis_frac)
        for a in config.accounts:
            self._open_initial(self.accounts[a.id], a.positions)

    def account(self, account_id: int) -> AccountState:
        acc = self.accounts.get(account_id)
        if acc is None:
            raise sim_error(UNAUTHORIZED, param="account_id", reason="unknown account")
        return acc

    def contract(self, instrument_name: str) -> tuple[SimContract, MarkRow]:
        """A live contract and its current marks (SimError if unknown or expired)."""
        c = contract_for(self.contracts, self.expired, instrument_name)
        return c, self.marks[c.instrument_name]

    def sync(self) -> int:
        """Bring the world up to the clock; returns the time it is now at."""
        now = self.clock.now_ms()
        if now <= self.ts:
            return self.ts
        expiries = {c.expiry_ms for n, c in self.contracts.items() if n not in self.expired}
        for expiry in sorted(e for e in expiries if self.ts < e <= now):
            self._move_to(expiry)
            self._settle(expiry)
        self._move_to(now)
        self.desk.fill_resting(self.accounts, now, self.marks)
        self.wallet.advance(now)
        if self.config.liquidation:
            self._liquidate(now)
        return now

    def activity(self, name: str, now: int) -> Activity:
        """Open interest (sum of long sizes), last trade price and 24h volume of one instrument."""
        oi = sum(
            (
                max(a.positions[name].size, 0.0)
                for a in self.accounts.values()
                if name in a.positions
            ),
            0.0,
        )
        trades = self.desk.trades_of(name)
        last = trades[-1].price if trades else None
        volume = sum((t.amount for t in trades if t.timestamp > now - MS_PER_DAY), 0.0)
        return Activity(oi, last, volume)

    def render_state(self, now: int) -> tuple[int, int, int, int]:
        """What a rendered ticker or book summary depends on besides its time stamp: the
        marks' grid step, the trades (open interest, last price), the listing (expiries)
        and how many trades have left the 24 h volume window by ``now``."""
        trades = self.desk.trades  # appended as the world's time advances: in time order
        aged = bisect_right(trades, now - MS_PER_DAY, key=lambda t: t[1].timestamp)
        return self.marks_step, len(trades), len(self.expired), aged

    def _grid_ts(self, ts: int) -> int:
        """Market time of the grid step containing ``ts`` (prices change once per step)."""
        step, start = self.market.step_ms, self.market.start_ms
        return start + (ts - start) // step * step

    def _open_initial(self, acc: AccountState, specs: Iterable[PositionSpec]) -> None:
        """Initial positions open at their given price (or the first mark); premiums are paid."""
        for p in specs:
            c, row = self.contract(p.instrument_name)
            price = p.average_price if p.average_price is not None else row.mark_price
            acc.positions[c.instrument_name] = PositionState(p.size, price)
            if c.is_option:
                acc.balances[c.currency] = acc.balances.get(c.currency, 0.0) - p.size * price

    def _move_to(self, ts: int) -> None:
        """Advance to ``ts`` accruing funding; reprice when a new grid step is reached.

        Binance settles funding at 00:00, 08:00 and 16:00 UTC, at the marks of the
        moment the world passes each settlement time.
        """
        self._accrue_funding(ts - self.ts)
        first = (self.ts // MS_PER_8H + 1) * MS_PER_8H
        for settlement_ms in range(first, ts + 1, MS_PER_8H):
            self._settle_funding(settlement_ms)
        self.ts = ts
        grid_ts = self._grid_ts(ts)
        if grid_ts != self.marks_step:
            self.market.advance_to(max(grid_ts, self.market.now_ms))
            live = [c for n, c in self.contracts.items() if n not in self.expired]
            self.marks = MarkTable(self.market, live, self.config.perp_basis_frac)
            self.marks_step = grid_ts

    def _accrue_funding(self, dt_ms: int) -> None:
        """Perpetual funding, continuously: longs pay rate_8h × coin size × elapsed / 8h."""
        if dt_ms <= 0:
            return
        for acc in self.accounts.values():
            for name, pos in acc.positions.items():
                c = self.contracts[name]
                row = self.marks.get(name)
                if not c.is_perpetual or pos.size == 0 or row is None or row.funding_8h is None:
                    continue
                if c.dialect is Dialect.BINANCE_USDM:
                    continue  # settled every 8 hours instead (_settle_funding)
                coin = position_coin(c.instrument, pos.size, row.index_usd)
                pay = coin * row.funding_8h * dt_ms / MS_PER_8H
                if not c.is_inverse:
                    pay *= row.index_usd
                pos.realized_funding -= pay
                acc.balances[c.currency] = acc.balances.get(c.currency, 0.0) - pay

    def _settle_funding(self, ts_ms: int) -> None:
        """Binance funding: longs pay position coin × mark × rate to shorts (rate > 0)."""
        for acc in self.accounts.values():
            for name, pos in acc.positions.items():
                c = self.contracts[name]
                row = self.marks.get(name)
                if c.dialect is not Dialect.BINANCE_USDM or pos.size == 0 or row is None:
                    continue
                rate = row.funding_8h or 0.0
                amount = -pos.size * row.mark_price * rate
                pos.realized_funding += amount
                acc.balances[c.currency] = acc.balances.get(c.currency, 0.0) + amount
                payment = FundingPayment(
                    len(self.funding) + 1, acc.spec.id, name, c.currency, amount, rate, ts_ms
                )
                self.funding.append(payment)

    def _settle(self, expiry_ms: int) -> None:
        """Settle every contract expiring at ``expiry_ms`` at the index, then delist it.

        Deribit delivers at the 30-minute TWAP of the index before 08:00 UTC; the
        sim uses the index at the expiry instant.
        """
        for name, c in self.contracts.items():
            if c.expiry_ms != expiry_ms or name in self.expired:
                continue
            delivery = self.market.index_usd(c.underlying)
            self.deliveries.setdefault(c.underlying, {})[expiry_ms] = delivery
            self.desk.cancel_contract(name, expiry_ms, "settlement")
            for acc in self.accounts.values():
                pos = acc.positions.get(name)
                if pos is None or pos.size == 0:
                    continue
                if c.is_option:
                    payoff = option_payoff_coin(c.is_call, c.strike_usd, delivery)
                    cash = pos.size * payoff
                    pos.realized_pnl += pos.size * (payoff - pos.average_price)
                else:
                    cash = closed_pnl(c, pos.size, pos.average_price, delivery)
                    pos.realized_pnl += cash
                acc.balances[c.currency] = acc.balances.get(c.currency, 0.0) + cash
                pos.size = 0.0
            self.expired.add(name)
            self.marks.delist(name)

    def _liquidate(self, now: int) -> None:
        for acc in self.accounts.values():
            for cur in self.config.currencies:
                v = self.desk.valuation(acc, cur, self.marks)
                if v.maintenance_margin > 0 and v.equity < v.maintenance_margin:
                    self.desk.liquidate(acc, cur, now, self.marks)
