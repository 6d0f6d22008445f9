"""Portfolio exposure of a 100,000-position book, and building the table from snapshots."""

from __future__ import annotations

import numpy as np

from bench._util import report, times
from bot.domain.exposure import value_book
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, OptionType, Settlement
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.snapshot import Mark, Position, VenueSnapshot
from bot.domain.timeunits import MS_PER_DAY

T0_MS = 1_700_000_000_000
BASE_USD = np.array([60_000.0, 3_000.0])
TARGET_MS = 50.0


def random_book(n: int, rng: np.random.Generator) -> tuple[PositionTable, np.ndarray]:
    """Options (coin- and USDC-settled) over 20 expiries plus inverse/linear perps."""
    und = rng.integers(0, 2, n)
    is_opt = rng.random(n) < 0.9
    inverse = rng.random(n) < 0.7
    expiries = T0_MS + MS_PER_DAY * np.array(
        [1, 2, 3, 7, 14, 21, 28, 35, 49, 63, 91, 119, 147, 182]
    )
    expiries = np.concatenate([expiries, T0_MS + MS_PER_DAY * np.arange(210, 391, 36)])
    forward = BASE_USD[und] * rng.uniform(0.98, 1.04, n)
    size = np.where(is_opt, rng.normal(0, 10, n), rng.normal(0, 50_000, n))
    table = PositionTable.from_arrays(
        underlyings=["BTC", "ETH"],
        underlying_idx=und,
        kind=np.where(is_opt, KindCode.OPTION, KindCode.PERPETUAL).astype(np.int8),
        size=np.where(is_opt | inverse, size, size / BASE_USD[und]),
        is_inverse=inverse,
        amount_is_usd=inverse & ~is_opt,
        is_call=is_opt & (rng.random(n) < 0.5),
        strike_usd=np.where(is_opt, BASE_USD[und] * rng.uniform(0.5, 2.0, n), np.nan),
        expiry_ms=np.where(is_opt, rng.choice(expiries, n), NO_EXPIRY_MS),
        mark_iv=np.where(is_opt, rng.uniform(0.3, 1.2, n), np.nan),
        index_usd=BASE_USD,
    )
    return table, forward


def _option(venue: VenueId, i: int) -> Instrument:
    strike = 40_000.0 + 1_000.0 * (i % 50)
    return Instrument(
        venue=venue,
        symbol=Symbol(f"BTC/USD:BTC-{i}-{strike:.0f}-C"),
        underlying=Currency("BTC"),
        quote=Currency("USD"),
        settle=Currency("BTC"),
        kind=InstrumentKind.OPTION,
        settlement=Settlement.INVERSE,
        amount_unit=AmountUnit.COIN,
        price_currency=Currency("BTC"),
        tick_size=0.0005,
        lot_size=0.1,
        min_size=0.1,
        expiry_ms=T0_MS + MS_PER_DAY * (1 + i % 20),
        strike_usd=strike,
        option_type=OptionType.CALL if i % 2 else OptionType.PUT,
    )


def snapshots(n: int, venues: int = 2) -> list[VenueSnapshot]:
    """``n`` coin-settled option positions, each with a mark, spread over ``venues``."""
    out = []
    for v in range(venues):
        venue = VenueId(f"venue-{v}")
        ins = [_option(venue, i) for i in range(v, n, venues)]
        marks = {x.symbol: Mark(x.symbol, 0.05, 60_000.0, T0_MS, mark_iv=0.6) for x in ins}
        out.append(
            VenueSnapshot(
                venue=venue,
                ts_ms=T0_MS,
                instruments={x.symbol: x for x in ins},
                positions=tuple(Position(x, 1.0) for x in ins),
                balances=(),
                marks=marks,
                index_usd={Currency("BTC"): 60_000.0},
            )
        )
    return out


def run() -> None:
    rng = np.random.default_rng(7)
    table, forward = random_book(100_000, rng)

    def aggregate() -> None:
        value_book(
            table,
            forward_usd=forward,
            valuation_ts_ms=T0_MS,
            numeraire="usd",
            collateral_coin=[10.0, 100.0],
        )

    t_ms = times(aggregate, repeat=21, warmup=2) * 1e3
    median, p90 = float(np.median(t_ms)), float(np.percentile(t_ms, 90))
    ok = median < TARGET_MS
    report("exposure of 100,000 positions (2 und., 20 exp.), median", median, "ms", "< 50 ms", ok)
    report("exposure of 100,000 positions, p90", p90, "ms")
    snaps = snapshots(10_000)
    build_ms = times(lambda: PositionTable.from_snapshots(snaps), repeat=5) * 1e3
    report(
        "PositionTable.from_snapshots, 10,000 positions, median", float(np.median(build_ms)), "ms"
    )
