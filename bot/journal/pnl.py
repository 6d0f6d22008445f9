"""What P&L attribution reads: each cycle's valuation per underlying, and the hedge fills.

A cycle's decision already holds the Greeks and the index it was made on; this store
adds the one thing the journal lacked, the coin equity of every account per underlying
(one row per underlying per cycle, written in one transaction), and joins the two back
into :class:`~bot.domain.pnl.Valuations` columns. Fills join their order (its
underlying and coin notional) and its decision (the index at send).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.orders import Side
from bot.domain.pnl import FundingPayment, PnlRow, Trade, Valuations, daily, fee_usd
from bot.journal.db import Db, Row

_GREEKS: Final = (
    "index_usd",
    "book_delta_coin",
    "hedge_coin",
    "gamma_coin_per_pct",
    "vega_usd_per_volpt",
    "theta_usd_per_day",
    "sigma",
)
"""The Greeks a valuation reads, in :class:`~bot.domain.pnl.Valuations` order."""
_JSON_GREEKS: Final = (
    "replace(replace(replace(d.greeks_json, '-Infinity', 'null'), 'Infinity', 'null'), "
    "'NaN', 'null')"
)
"""The decision's Greeks as strict JSON: Python writes a NaN (a book with no options has no
vol) as ``NaN``, which SQLite's JSON functions refuse; null reads back as NaN."""
_FROM = "FROM decisions d JOIN equities e ON e.decision_id = d.decision_id"


class PnlStore:
    """The ``equities`` table, read together with ``decisions``, ``orders`` and ``fills``."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def record_equities(
        self,
        cycle_id: str,
        equity_coin: Mapping[Currency, float],
        linear_usd: Mapping[Currency, float] | None = None,
    ) -> None:
        """Each underlying's coin equity over every account and the USD equity of the
        linear accounts hedging it, for the cycle's decisions (one transaction)."""
        linear = linear_usd or {}
        with self._db.tx():
            for underlying, coin in equity_coin.items():
                row = {
                    "decision_id": f"{cycle_id}/{underlying}",
                    "equity_coin": coin,
                    "linear_usd": linear.get(underlying, 0.0),
                }
                self._db.insert("equities", row)

    def newest_ms(self) -> int | None:
        """When the newest decision was journaled (None: none yet)."""
        row = self._db.one("SELECT MAX(ts_ms) FROM decisions")
        return None if row is None else row[0]

    def points(self, since_ms: int, until_ms: int) -> dict[Currency, Valuations]:
        """Per underlying, oldest first, the valuations in ``[since_ms, until_ms)`` and the
        newest one before ``since_ms``, so that the first interval starts before the window.

        The Greeks come out of their JSON in SQLite (``json_extract``), straight into
        columns: a week of cycles is a hundred thousand rows.
        """
        out: dict[Currency, Valuations] = {}
        underlyings = self._db.query(
            "SELECT DISTINCT underlying FROM decisions WHERE ts_ms >= ? AND ts_ms < ?",
            (since_ms, until_ms),
        )
        for (underlying,) in underlyings:
            before = self._db.one(
                f"SELECT MAX(d.ts_ms) {_FROM} WHERE d.underlying = ? AND d.ts_ms < ?",
                (underlying, since_ms),
            )
            start = since_ms if before is None or before[0] is None else before[0]
            extracts = ", ".join(f"json_extract(g, '$.{name}')" for name in _GREEKS)
            rows = self._db.query(
                f"SELECT ts_ms, {extracts}, equity_coin, linear_usd FROM (SELECT d.ts_ms AS "
                f"ts_ms, {_JSON_GREEKS} AS g, e.equity_coin AS equity_coin, e.linear_usd AS "
                f"linear_usd {_FROM} "
                "WHERE d.underlying = ? AND d.ts_ms >= ? AND d.ts_ms < ?) ORDER BY ts_ms",
                (underlying, start, until_ms),
            )
            if rows:
                table = np.array(rows, dtype=float)
                out[Currency(underlying)] = Valuations(
                    table[:, 0].astype(np.int64), *(table[:, i] for i in range(1, 10))
                )
        return out

    def trades(self, since_ms: int, until_ms: int) -> dict[Currency, tuple[Trade, ...]]:
        """Per underlying, the fills of our orders in ``[since_ms, until_ms)`` as trades in
        coin (the order's coin notional per unit of amount) with the index of their decision."""
        rows: list[Row] = self._db.query(
            "SELECT o.underlying, f.ts_ms, f.side, f.amount, f.price, f.fee, f.fee_currency, "
            "o.amount, o.notional_usd, d.greeks_json FROM fills f "
            "JOIN orders o ON o.venue = f.venue AND o.client_id = f.client_id "
            "JOIN decisions d ON d.decision_id = o.decision_id "
            "WHERE f.ts_ms >= ? AND f.ts_ms < ? ORDER BY f.ts_ms, f.trade_id",
            (since_ms, until_ms),
        )
        out: dict[Currency, list[Trade]] = {}
        for u, ts, side, amount, price, fee, fee_ccy, order_amount, notional, greeks in rows:
            index = float(json.loads(greeks)["index_usd"])
            coin = amount * notional / (index * order_amount)
            trade = Trade(
                ts_ms=ts,
                coin=Side(side).sign * coin,
                price_usd=price,
                index_at_send_usd=index,
                fee_usd=fee_usd(fee, fee_ccy, u, index),
            )
            out.setdefault(Currency(u), []).append(trade)
        return {u: tuple(t) for u, t in out.items()}

    def record_funding(self, payments: Iterable[FundingPayment]) -> int:
        """Journal the payments not journaled yet (by venue and the venue's payment id), in
        one transaction; how many were new."""
        new = 0
        with self._db.tx():
            for p in payments:
                row = {
                    "venue": p.venue,
                    "payment_id": p.payment_id,
                    "symbol": p.symbol,
                    "underlying": p.underlying,
                    "ts_ms": p.ts_ms,
                    "amount": p.amount,
                    "currency": p.currency,
                }
                new += self._db.insert("funding", row, or_ignore=True)
        return new

    def newest_funding_ms(self, venue: VenueId) -> int | None:
        """When the newest journaled funding payment of ``venue`` was paid (None: none)."""
        row = self._db.one("SELECT MAX(ts_ms) FROM funding WHERE venue = ?", (venue,))
        return None if row is None else row[0]

    def funding(self, since_ms: int, until_ms: int) -> dict[Currency, tuple[FundingPayment, ...]]:
        """Per underlying, the funding payments in ``[since_ms, until_ms)``, oldest first."""
        rows = self._db.query(
            "SELECT venue, payment_id, symbol, underlying, ts_ms, amount, currency FROM funding "
            "WHERE ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms, venue, payment_id",
            (since_ms, until_ms),
        )
        out: dict[Currency, list[FundingPayment]] = {}
        for venue, pid, symbol, u, ts, amount, currency in rows:
            payment = FundingPayment(
                VenueId(venue), pid, Symbol(symbol), Currency(u), ts, amount, Currency(currency)
            )
            out.setdefault(Currency(u), []).append(payment)
        return {u: tuple(p) for u, p in out.items()}

    def window(
        self, since_ms: int, until_ms: int
    ) -> tuple[
        dict[Currency, Valuations],
        dict[Currency, tuple[Trade, ...]],
        dict[Currency, tuple[FundingPayment, ...]],
    ]:
        """The :meth:`points` of ``[since_ms, until_ms)`` and the :meth:`trades` and
        :meth:`funding` from the first of them to ``until_ms``: what the attribution of that
        window needs."""
        points = self.points(since_ms, until_ms)
        first = min((int(p.ts_ms[0]) for p in points.values() if len(p)), default=since_ms)
        return points, self.trades(first, until_ms), self.funding(first, until_ms)

    def daily(self, since_ms: int, until_ms: int) -> tuple[PnlRow, ...]:
        """The attribution per underlying and UTC day of the intervals ending in the window."""
        return daily(*self.window(since_ms, until_ms))
