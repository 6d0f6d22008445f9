"""The listing calendar and strike ladders of the simulated exchange.

Deribit expires options and futures at 08:00 UTC on Fridays: weeklies every
Friday, monthlies on the month's last Friday, quarterlies on the last Friday
of March, June, September and December (Deribit "Inverse Options" and
"Futures" contract specifications).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from bot.sim.contracts import (
    SimContract,
    inverse_future_contract,
    linear_perp_contract,
    option_contract,
    usdt_perp_contract,
)
from bot.sim.dialect import Dialect

_FRIDAY = 4
_EXPIRY_HOUR_UTC = 8


def _ms(d: datetime) -> int:
    return int(d.timestamp() * 1000)


def _after(start_ms: int) -> datetime:
    return datetime.fromtimestamp(start_ms / 1000, tz=UTC)


def weekly_expiries(start_ms: int, count: int) -> list[int]:
    """The next ``count`` Fridays 08:00 UTC strictly after ``start_ms``."""
    t = _after(start_ms)
    d = t.replace(hour=_EXPIRY_HOUR_UTC, minute=0, second=0, microsecond=0)
    d += timedelta(days=(_FRIDAY - d.weekday()) % 7)
    if d <= t:
        d += timedelta(days=7)
    return [_ms(d + timedelta(days=7 * i)) for i in range(count)]


def _last_friday(year: int, month: int) -> datetime:
    last_day = calendar.monthrange(year, month)[1]
    d = datetime(year, month, last_day, _EXPIRY_HOUR_UTC, tzinfo=UTC)
    return d - timedelta(days=(d.weekday() - _FRIDAY) % 7)


def monthly_expiries(start_ms: int, count: int, months: Iterable[int] = range(1, 13)) -> list[int]:
    """The next ``count`` last-Friday expiries after ``start_ms`` in the given ``months``."""
    allowed = set(months)
    t = _after(start_ms)
    year, month = t.year, t.month
    out: list[int] = []
    while len(out) < count:
        if month in allowed and _last_friday(year, month) > t:
            out.append(_ms(_last_friday(year, month)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def default_expiries(start_ms: int) -> list[int]:
    """Two weeklies, two monthlies and two quarterlies, deduplicated and sorted."""
    quarterly = monthly_expiries(start_ms, 2, months=(3, 6, 9, 12))
    return sorted({*weekly_expiries(start_ms, 2), *monthly_expiries(start_ms, 2), *quarterly})


def nice_step(raw: float) -> float:
    """The 1-2-2.5-5 × 10^k step nearest above ``raw`` (strike ladders look like the venue's)."""
    exp = 10.0 ** math.floor(math.log10(raw))
    for mult in (1.0, 2.0, 2.5, 5.0, 10.0):
        if mult * exp >= raw:
            return mult * exp
    raise AssertionError("unreachable")  # pragma: no cover


def strike_ladder(spot_usd: float, step_fraction: float = 0.025, width: float = 0.5) -> list[float]:
    """Strikes from spot·(1 − width) to spot·(1 + width) on a nice step near spot·step_fraction."""
    if not (spot_usd > 0 and 0 < width < 1 and step_fraction > 0):
        raise ValueError(f"strike_ladder: bad spot/width/step {spot_usd}, {width}, {step_fraction}")
    step = nice_step(spot_usd * step_fraction)
    lo = math.ceil(spot_usd * (1 - width) / step)
    hi = math.floor(spot_usd * (1 + width) / step)
    return [k * step for k in range(lo, hi + 1)]


def build_contracts(
    venue: str,
    *,
    creation_ms: int,
    underlyings: Iterable[str],
    option_expiries_ms: Iterable[int],
    future_expiries_ms: Iterable[int],
    strikes_usd: Mapping[str, Iterable[float]],
    linear_perps: bool,
    dialect: Dialect = Dialect.DERIBIT,
) -> dict[str, SimContract]:
    """Every contract of the grid by the venue's name, ids assigned in listing order.

    A Binance USDⓈ-M venue lists one USDT perpetual per underlying and nothing else.
    """
    contracts: dict[str, SimContract] = {}

    def add(c: SimContract) -> None:
        contracts[c.instrument_name] = c

    if dialect is Dialect.BINANCE_USDM:
        for u in underlyings:
            add(usdt_perp_contract(venue, u, len(contracts) + 1, creation_ms))
        return contracts

    option_exp = sorted(set(option_expiries_ms))
    future_exp = sorted(set(future_expiries_ms))
    for u in underlyings:
        add(inverse_future_contract(venue, u, None, len(contracts) + 1, creation_ms))
        for e in future_exp:
            add(inverse_future_contract(venue, u, e, len(contracts) + 1, creation_ms))
        if linear_perps:
            add(linear_perp_contract(venue, u, len(contracts) + 1, creation_ms))
        for e in option_exp:
            for k in sorted(set(strikes_usd[u])):
                for is_call in (True, False):
                    add(
                        option_contract(
                            venue, u, e, k, is_call=is_call, iid=len(contracts) + 1, t0=creation_ms
                        )
                    )
    return contracts
