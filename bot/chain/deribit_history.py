"""Deribit's public history into the store: option trades and the DVOL volatility index.

Two public endpoints of Deribit's API v2 (docs.deribit.com, "Market data"):

- ``public/get_last_trades_by_currency_and_time`` (``currency``, ``kind=option``,
  ``start_timestamp``, ``end_timestamp``, ``count`` up to 1,000, ``sorting=asc``)
  answers ``{"trades": [...], "has_more": bool}``; each trade has ``trade_id``,
  ``timestamp`` (ms), ``instrument_name``, ``direction`` (the taker's side),
  ``price`` and ``mark_price`` (coin per coin of a BTC option), ``amount``
  (coin), ``iv`` (percent) and ``index_price`` (USD). Deribit's main host keeps
  the last 24 hours; its history host (``history.deribit.com``) serves older
  days under the same path. Pages go forward from the last trade's time; trades
  already seen at that millisecond are dropped by id.
- ``public/get_volatility_index_data`` (``currency``, ``start_timestamp``,
  ``end_timestamp``, ``resolution`` in seconds or ``1D``) answers ``{"data":
  [[ts, open, high, low, close], ...], "continuation": ts | null}``, DVOL in
  points (62.17 = 62.17 %); a continuation is the ``end_timestamp`` of the next,
  earlier page.

Both are fetched one UTC day at a time and each day is written as one store
file tagged with the source and the day. A day whose file is there is not
fetched again, so an interrupted fetch resumes at the first missing day (a day
with no trades writes nothing and is asked again). Units on the way in: IVs and
DVOL from percent to decimals; premiums stay in coin (``premium_unit`` coin).

Worked example (Deribit's documented trade): ``BTC-25SEP20-6000-P``, price
0.032, mark 0.04070324, iv 74.74, index 8,899.93, amount 0.5, direction sell,
at 1,590,470,616,101 ms: a ``trades`` row with ``price_premium`` 0.032 BTC
(about 284.80 USD at the index), ``iv`` 0.7474, ``amount_coin`` 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

import pyarrow as pa

from bot.chain.fetch import DERIBIT_BASE, FetchError, get_json
from bot.chain.schema import column_names, premium_unit_of
from bot.chain.store import ChainStore, Partition
from bot.domain.timeunits import MS_PER_DAY, MS_PER_SECOND

DERIBIT_HISTORY_BASE: Final = "https://history.deribit.com"
"""Where Deribit serves public trades older than a day."""
TRADES_PAGE: Final = 1000
"""Trades per request, Deribit's maximum."""
DVOL_RESOLUTIONS: Final = ("1", "60", "3600", "43200", "1D")
"""Candle lengths Deribit's ``get_volatility_index_data`` takes (seconds, or a day)."""
VENUE: Final = "deribit"

DayProgress = Callable[[int, int], None]
"""Called with (days done, days in all) after each day, fetched or already there."""


@dataclass(frozen=True, slots=True)
class HistoryReport:
    """What a fetch did: days fetched now, days already in the store, rows written."""

    days_fetched: int
    days_kept: int
    rows: int


def days_between(first: date, last: date) -> list[date]:
    """Every UTC day from ``first`` to ``last``, both included (ValueError if reversed)."""
    if last < first:
        raise ValueError(f"the last day {last} is before the first {first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _day_start_ms(day: date) -> int:
    return round(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _by_day(
    store: ChainStore,
    table: str,
    *,
    currency: str,
    days: list[date],
    source: str,
    fetch_day: Callable[[int, int], pa.Table],
    progress: DayProgress | None,
) -> HistoryReport:
    """Fetch and write each day of ``days`` not already in the store under ``source``."""
    fetched = kept = rows = 0
    for i, day in enumerate(days):
        tag = f"{source}-{day.isoformat()}"
        if store.holds(table, Partition(VENUE, currency), day, tag):
            kept += 1
        else:
            start = _day_start_ms(day)
            rows += store.write(
                table, VENUE, currency, fetch_day(start, start + MS_PER_DAY - 1), tag=tag
            )
            fetched += 1
        if progress is not None:
            progress(i + 1, len(days))
    return HistoryReport(fetched, kept, rows)


def _url(base: str, method: str, params: dict[str, object]) -> str:
    return f"{base.rstrip('/')}/api/v2/public/{method}?{urlencode(params)}"


def _result(url: str) -> Any:
    answer = get_json(url)
    if not isinstance(answer, dict) or "result" not in answer:
        raise FetchError(f"{url}: no result in the answer ({str(answer)[:200]})")
    return answer["result"]


def _percent(value: Any) -> float:
    return math.nan if value is None else float(value) / 100.0


def _trade_pages(base: str, currency: str, start_ms: int, end_ms: int) -> Iterator[list[Any]]:
    """The trades of ``[start_ms, end_ms]``, page by page, oldest first, each once."""
    seen: set[str] = set()
    since = start_ms
    while True:
        url = _url(
            base,
            "get_last_trades_by_currency_and_time",
            {
                "currency": currency,
                "kind": "option",
                "start_timestamp": since,
                "end_timestamp": end_ms,
                "count": TRADES_PAGE,
                "sorting": "asc",
            },
        )
        result = _result(url)
        try:
            trades, more = list(result["trades"]), bool(result["has_more"])
            new = [t for t in trades if str(t["trade_id"]) not in seen]
            last = int(trades[-1]["timestamp"]) if trades else since
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise FetchError(f"{url}: not a trades answer ({exc!r})") from None
        seen.update(str(t["trade_id"]) for t in new)
        yield new
        if not more or not trades:
            return
        since = last if new else last + 1  # a full page in one millisecond: step past it


def fetch_trades(
    store: ChainStore,
    currency: str,
    days: list[date],
    *,
    base: str = DERIBIT_HISTORY_BASE,
    progress: DayProgress | None = None,
) -> HistoryReport:
    """Deribit's public option trades of ``currency`` on ``days`` into ``trades``."""
    unit = premium_unit_of(VENUE)

    def fetch_day(start_ms: int, end_ms: int) -> pa.Table:
        rows: dict[str, list[object]] = {name: [] for name in column_names("trades")}
        for page in _trade_pages(base, currency, start_ms, end_ms):
            for t in page:
                try:
                    values = {
                        "ts_ms": int(t["timestamp"]),
                        "trade_id": str(t["trade_id"]),
                        "instrument": str(t["instrument_name"]),
                        "direction": str(t["direction"]),
                        "premium_unit": unit,
                        "price_premium": float(t["price"]),
                        "mark_premium": float(t.get("mark_price", math.nan)),
                        "amount_coin": float(t["amount"]),
                        "iv": _percent(t.get("iv")),
                        "index_usd": float(t["index_price"]),
                    }
                except (KeyError, TypeError, ValueError) as exc:
                    raise FetchError(
                        f"{base}: {currency} trade {t.get('trade_id', '?')}: bad field ({exc!r})"
                    ) from None
                if values["direction"] not in ("buy", "sell"):
                    raise FetchError(
                        f"{base}: {currency} trade {values['trade_id']}: direction "
                        f"{values['direction']!r} is not buy or sell"
                    )
                for name, value in values.items():
                    rows[name].append(value)
        return pa.table(rows)

    return _by_day(
        store,
        "trades",
        currency=currency,
        days=days,
        source="deribit-trades",
        fetch_day=fetch_day,
        progress=progress,
    )


def fetch_dvol(
    store: ChainStore,
    currency: str,
    days: list[date],
    *,
    resolution: str = "60",
    base: str = DERIBIT_BASE,
    progress: DayProgress | None = None,
) -> HistoryReport:
    """Deribit's DVOL candles of ``currency`` on ``days`` into ``dvol`` (decimals)."""
    if resolution not in DVOL_RESOLUTIONS:
        raise FetchError(
            f"DVOL resolution {resolution!r} is not one of {', '.join(DVOL_RESOLUTIONS)}"
        )

    seconds = MS_PER_DAY // MS_PER_SECOND if resolution == "1D" else int(resolution)

    def fetch_day(start_ms: int, end_ms: int) -> pa.Table:
        candles: dict[int, list[float]] = {}
        end: int | None = end_ms
        while end is not None:
            url = _url(
                base,
                "get_volatility_index_data",
                {
                    "currency": currency,
                    "start_timestamp": start_ms,
                    "end_timestamp": end,
                    "resolution": resolution,
                },
            )
            result = _result(url)
            try:
                for ts, *ohlc in result["data"]:
                    if start_ms <= int(ts) <= end_ms:
                        candles[int(ts)] = [float(v) / 100.0 for v in ohlc[:4]]
                nxt = result.get("continuation")
                end = None if nxt is None or int(nxt) >= end else int(nxt)
            except (KeyError, TypeError, ValueError) as exc:
                raise FetchError(f"{url}: not a volatility index answer ({exc!r})") from None
        stamps = sorted(candles)
        values = [candles[t] for t in stamps]
        names = ("open_iv", "high_iv", "low_iv", "close_iv")
        if any(len(v) != len(names) for v in values):
            raise FetchError(f"{base}: {currency} DVOL candle without open, high, low and close")
        return pa.table(
            {
                "ts_ms": stamps,
                "resolution_s": [seconds] * len(stamps),
                **{n: [v[i] for v in values] for i, n in enumerate(names)},
            }
        )

    return _by_day(
        store,
        "dvol",
        currency=currency,
        days=days,
        source=f"deribit-dvol-{resolution}",
        fetch_day=fetch_day,
        progress=progress,
    )
