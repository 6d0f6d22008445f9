"""Fitting a venue's smiles and pricing held options whose mark has no IV off them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, OptionType, Settlement
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.snapshot import Mark
from bot.domain.surface import MIN_POINTS, fit_surface, vols_with_surfaces

NOW_MS = 1_796_112_000_000
EXPIRY_MS = NOW_MS + 30 * 86_400_000
VENUE = VenueId("deribit-a")


def option(strike: float, expiry_ms: int = EXPIRY_MS) -> Instrument:
    return Instrument(
        VENUE, Symbol(f"BTC-{expiry_ms}-{strike:.0f}-C"), Currency("BTC"), Currency("USD"),
        Currency("BTC"), InstrumentKind.OPTION, Settlement.INVERSE, AmountUnit.COIN,
        Currency("BTC"), 0.0005, 0.1, 0.1, expiry_ms, strike, OptionType.CALL,
    )  # fmt: skip


def chain(ivs: dict[float, float | None], expiry_ms: int = EXPIRY_MS) -> tuple[dict, dict]:
    instruments = {(i := option(k, expiry_ms)).symbol: i for k in ivs}
    marks = {
        option(k, expiry_ms).symbol: Mark(option(k, expiry_ms).symbol, 0.05, 60_000.0, NOW_MS, iv)
        for k, iv in ivs.items()
    }
    return instruments, marks


def test_flat_marks_fit_a_flat_smile_that_prices_strikes_between_them() -> None:
    """Marks of 0.60 at every strike give 0.60 between strikes, to 1e-6; no arbitrage."""
    instruments, marks = chain({k: 0.6 for k in range(40_000, 85_000, 5_000)})
    surface = fit_surface(instruments, marks, "BTC", NOW_MS)
    smile = surface.smiles[EXPIRY_MS]
    assert smile.fit is not None and smile.points == 9 and smile.arbitrage_free
    assert surface.vol(EXPIRY_MS, 62_500.0, 60_000.0) == pytest.approx(0.6, abs=1e-6)
    assert smile.rms_volpt < 1e-4


def test_too_few_quotes_or_an_expired_expiry_give_no_fit() -> None:
    """Fewer than five usable IVs leave the smile unfitted with the reason; expired is skipped."""
    ivs = {40_000.0: 0.7, 50_000.0: 0.65, 60_000.0: None, 70_000.0: 0.6, 80_000.0: 0.62}
    instruments, marks = chain(ivs)
    old_i, old_m = chain({k: 0.6 for k in range(40_000, 85_000, 5_000)}, expiry_ms=NOW_MS)
    surface = fit_surface({**instruments, **old_i}, {**marks, **old_m}, "BTC", NOW_MS)
    assert list(surface.smiles) == [EXPIRY_MS]
    smile = surface.smiles[EXPIRY_MS]
    assert smile.fit is None and smile.points == MIN_POINTS - 1
    assert smile.problem is not None and "4 quotes" in smile.problem
    assert math.isnan(surface.vol(EXPIRY_MS, 60_000.0, 60_000.0))


def test_a_held_option_without_mark_iv_is_priced_off_the_surface() -> None:
    """Only the option whose mark lacks an IV takes the fitted vol; the rest keep theirs."""
    instruments, marks = chain(
        {k: 0.5 + (k - 60_000) ** 2 / 4e10 for k in range(40_000, 85_000, 5_000)}
    )
    surface = fit_surface(instruments, marks, "BTC", NOW_MS)
    table = PositionTable.from_arrays(
        underlyings=["BTC"],
        venues=[VENUE],
        underlying_idx=[0, 0, 0],
        kind=[KindCode.OPTION, KindCode.OPTION, KindCode.PERPETUAL],
        size=[1.0, -2.0, -60_000.0],
        is_inverse=[True, True, True],
        amount_is_usd=[False, False, True],
        is_call=[True, True, False],
        strike_usd=[62_500.0, 60_000.0, np.nan],
        expiry_ms=[EXPIRY_MS, EXPIRY_MS, -1],
        mark_iv=[np.nan, 0.55, np.nan],
        underlying_usd=[60_000.0, 60_000.0, 60_000.0],
        mark_price=[0.05, 0.05, 60_000.0],
    )
    vols = vols_with_surfaces(table, {VENUE: {Currency("BTC"): surface}})
    want = 0.5 + (62_500 - 60_000) ** 2 / 4e10
    assert vols[0] == pytest.approx(want, abs=2e-3)
    assert vols[1] == 0.55 and math.isnan(vols[2])
    assert vols_with_surfaces(table, {}) is table.mark_iv  # nothing to fill from
