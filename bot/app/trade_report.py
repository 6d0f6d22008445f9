"""What ``deltabot orders`` and ``deltabot fills`` show: what was sent, why, what came back.

Each order is joined to the decision journaled in its cycle (the reason and the Greeks
it was made on), its fills, and its state history; each fill to its order's underlying
and the index when that order was decided, so its slippage against the index is shown
in USD. Times are ISO-8601 UTC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from bot.app.when import journal_window
from bot.domain.orders import Fill, OrderState
from bot.domain.timeunits import iso_utc
from bot.journal import Journal

ORDER_STATES: Final = tuple(s.value for s in OrderState)
"""The order states ``--state`` accepts (lower case)."""


def order_rows(
    journal: Journal, since_ms: int, until_ms: int, state: str | None = None
) -> list[dict[str, Any]]:
    """Orders journaled in ``[since_ms, until_ms)`` (only those now in ``state``, if
    given), oldest first, each with its decision, fills and state history."""
    rows = []
    for record, underlying, average in journal.orders.since(since_ms):
        if record.created_ts_ms >= until_ms or (state and record.state.value != state):
            continue
        req = record.request
        fills = journal.orders.fills_of(req.venue, req.client_id)
        rows.append(
            {
                "time": iso_utc(record.created_ts_ms),
                "venue": req.venue,
                "symbol": req.symbol,
                "underlying": underlying,
                "side": req.side.value,
                "amount": req.amount,
                "limit_price": req.limit_price,
                "tif": req.tif.value,
                "state": record.state.value,
                "client_id": req.client_id,
                "venue_order_id": record.venue_order_id,
                "filled_amount": record.filled_amount,
                "average_price": average,
                "fees": fees_by_currency(fills),
                "fills": [
                    {
                        "time": iso_utc(f.ts_ms),
                        "trade_id": f.trade_id,
                        "amount": f.amount,
                        "price": f.price,
                        "fee": f.fee,
                        "fee_currency": f.fee_currency,
                    }
                    for f in fills
                ],
                "history": [
                    {"from": a.value if a else None, "to": b.value, "time": iso_utc(ts)}
                    for a, b, ts in journal.orders.transitions(req.client_id)
                ],
                "decision": _decision(journal, record.decision_id),
            }
        )
    return rows


def _decision(journal: Journal, decision_id: str) -> dict[str, Any] | None:
    found = journal.orders.decision(decision_id)
    if found is None:
        return None
    ts = found.pop("ts_ms")
    return {"id": decision_id, "time": iso_utc(ts) if isinstance(ts, int) else None, **found}


def fees_by_currency(fills: Sequence[Fill]) -> dict[str, float]:
    """The fees of some fills summed per fee currency."""
    return {
        c: math.fsum(f.fee for f in fills if f.fee_currency == c)
        for c in {f.fee_currency for f in fills}
    }


def fill_rows(journal: Journal, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
    """Fills in ``[since_ms, until_ms)`` on every venue, oldest first, with their order."""
    return [
        {
            "time": iso_utc(f.ts_ms),
            "venue": venue,
            "symbol": f.symbol,
            "side": f.side.value,
            "amount": f.amount,
            "price": f.price,
            "fee": f.fee,
            "fee_currency": f.fee_currency,
            "trade_id": f.trade_id,
            "client_id": f.client_id,
            "venue_order_id": f.venue_order_id,
        }
        for venue, f in journal.orders.fills_between(since_ms, until_ms)
    ]


def read_orders(
    journal_path: Path, since_ms: int | None, until_ms: int | None, state: str | None = None
) -> list[dict[str, Any]]:
    """:func:`order_rows` of the journal at ``journal_path`` (None: the default window of
    :func:`~bot.app.when.journal_window`); JournalError if there is none."""
    with Journal.open_control(journal_path) as journal:
        return order_rows(journal, *journal_window(journal, since_ms, until_ms), state)


def read_fills(
    journal_path: Path, since_ms: int | None, until_ms: int | None
) -> list[dict[str, Any]]:
    """:func:`fill_rows` of the journal at ``journal_path`` (None: the default window);
    JournalError if there is none."""
    with Journal.open_control(journal_path) as journal:
        return fill_rows(journal, *journal_window(journal, since_ms, until_ms))


def _num(value: object, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, int | float) else "-"


def render_orders(rows: Sequence[Mapping[str, Any]]) -> str:
    """Orders as text: one line each, then its decision and what came back, indented."""
    if not rows:
        return "no orders in this window"
    lines = []
    for o in rows:
        lines.append(
            f"{o['time']} {o['venue']} {o['symbol']} {o['side']} {_num(o['amount'], ',g')} "
            f"@ {_num(o['limit_price'], ',g')} {o['tif']}: {o['state']} (client id "
            f"{o['client_id']}, venue id {o['venue_order_id'] or '-'})"
        )
        d = o["decision"]
        if d is not None:
            g = d["greeks"]
            lines.append(
                f"  why: {d['reason']}; index {_num(g.get('index_usd'), ',.2f')} USD, gamma "
                f"{_num(g.get('gamma_coin_per_pct'), '+.4f')} coin/1%, vega "
                f"{_num(g.get('vega_usd_per_volpt'), ',.1f')} USD/vol pt, theta "
                f"{_num(g.get('theta_usd_per_day'), ',.1f')} USD/day"
            )
        fees = ", ".join(f"{v:g} {c}" for c, v in o["fees"].items()) or "none"
        lines.append(
            f"  came back: filled {_num(o['filled_amount'], ',g')} at "
            f"{_num(o['average_price'], ',.2f')} in {len(o['fills'])} fill(s), fees {fees}; "
            + " -> ".join(f"{h['to']} {h['time'][11:19]}" for h in o["history"])
        )
    return "\n".join(lines)


def render_fills(rows: Sequence[Mapping[str, Any]]) -> str:
    """Fills as text, one line each."""
    if not rows:
        return "no fills in this window"
    return "\n".join(
        f"{f['time']} {f['venue']} {f['symbol']} {f['side']} {_num(f['amount'], ',g')} @ "
        f"{_num(f['price'], ',.2f')}, fee {f['fee']:g} {f['fee_currency']} (trade "
        f"{f['trade_id']}, order {f['client_id'] or '-'})"
        for f in rows
    )
