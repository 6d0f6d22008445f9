"""The backtest's fused per-step pricer: book_greeks's figures, in reused buffers."""

from __future__ import annotations

import numpy as np
import pytest

from bot.backtest.book import BookGreeks, OptionLeg, book_greeks
from bot.backtest.book_pricer import BookPricer

LEGS = (
    OptionLeg(True, 100.0, 1.0 / 12.0, -1.0),
    OptionLeg(False, 90.0, 0.5, 2.0, "coin"),
    OptionLeg(True, 120.0, 0.01, 3.0),
)
SPOT = np.linspace(60.0, 140.0, 41)
FIELDS = BookGreeks.__dataclass_fields__


def _close(got: BookGreeks, want: BookGreeks) -> None:
    for name in FIELDS:
        a, b = getattr(want, name), getattr(got, name)
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12 * max(np.abs(a).max(), 1.0))


@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("rate", [0.05, 0.0])
@pytest.mark.parametrize("vol", [0.6, np.linspace(0.3, 0.9, 41)], ids=["scalar", "per-path"])
@pytest.mark.parametrize("t_years", [0.0, 0.005, 0.01, 0.02, 1.0 / 12.0])
def test_matches_book_greeks(cross: bool, rate: float, vol: object, t_years: float) -> None:
    """Every Greek equals book_greeks's to rel 1e-12, expired legs (intrinsic) included."""
    pricer = BookPricer(SPOT.size, rate, cross=cross)
    got = pricer.price(LEGS, SPOT, t_years, vol, slot=0)  # type: ignore[arg-type]
    _close(got, book_greeks(LEGS, SPOT, t_years, vol, rate, cross=cross))  # type: ignore[arg-type]


def test_hull_worked_example() -> None:
    """Hull's call (S 49, K 50, r 5 %, σ 20 %, 20 weeks): 2.4005, Δ 0.522, Γ 0.066, ν 12.1."""
    pricer = BookPricer(1, 0.05, cross=False)
    g = pricer.price([OptionLeg(True, 50.0, 20 / 52, 1.0)], np.array([49.0]), 0.0, 0.2, slot=0)
    assert g.value_usd[0] == pytest.approx(2.4005, abs=5e-5)
    assert g.delta_coin[0] == pytest.approx(0.522, abs=5e-4)
    assert g.gamma_coin_per_usd[0] == pytest.approx(0.066, abs=5e-4)
    assert g.vega_usd[0] == pytest.approx(12.1, abs=0.05)
    assert g.theta_usd[0] == pytest.approx(-4.31, abs=5e-3)


def test_cross_greeks_leave_the_others_bit_for_bit() -> None:
    """Summing vanna and the standardised vega changes no other Greek by a bit."""
    lean = BookPricer(SPOT.size, 0.05, cross=False).price(LEGS, SPOT, 0.005, 0.6, slot=0)
    full = BookPricer(SPOT.size, 0.05, cross=True).price(LEGS, SPOT, 0.005, 0.6, slot=0)
    for name in ("value_usd", "delta_coin", "gamma_coin_per_usd", "vega_usd", "theta_usd"):
        assert np.array_equal(getattr(lean, name), getattr(full, name))
    assert not lean.vanna_coin.any() and full.vanna_coin.any()


def test_the_two_slots_hold_two_steps() -> None:
    """Pricing into slot 1 leaves slot 0's Greeks as they were (the engine keeps both)."""
    pricer = BookPricer(SPOT.size, 0.05, cross=False)
    first = pricer.price(LEGS, SPOT, 0.0, 0.6, slot=0)
    kept = first.value_usd.copy()
    pricer.price(LEGS, SPOT * 1.1, 0.01, 0.6, slot=1)
    assert np.array_equal(first.value_usd, kept)


def test_no_live_leg_is_worth_nothing() -> None:
    """With every leg settled the book's value and Greeks are zero."""
    g = BookPricer(SPOT.size, 0.05, cross=True).price([], SPOT, 0.2, 0.6, slot=0)
    for name in FIELDS:
        assert not getattr(g, name).any()


def test_irregular_vol_falls_back_to_the_general_pricer() -> None:
    """A vol of 0 on some paths prices those legs like book_greeks (intrinsic, discounted)."""
    vol = np.where(SPOT > 100.0, 0.0, 0.6)
    got = BookPricer(SPOT.size, 0.05, cross=False).price(LEGS, SPOT, 0.005, vol, slot=0)
    _close(got, book_greeks(LEGS, SPOT, 0.005, vol, 0.05, cross=False))


def test_without_vega_the_others_are_unchanged_and_vega_is_zero() -> None:
    """vega=False leaves every other Greek bit for bit and vega 0, expired legs included."""
    lean = BookPricer(SPOT.size, 0.05, cross=True, vega=False).price(LEGS, SPOT, 0.02, 0.6, slot=0)
    full = BookPricer(SPOT.size, 0.05, cross=True).price(LEGS, SPOT, 0.02, 0.6, slot=0)
    for name in FIELDS:
        if name != "vega_usd":
            assert np.array_equal(getattr(lean, name), getattr(full, name))
    assert not lean.vega_usd.any() and full.vega_usd.any()
