"""Scripted index paths and flat vol surfaces: the market knobs an event replay needs."""

import math

import numpy as np
import pytest

from bot.sim.market import JumpEvent, MarketModel, UnderlyingSpec
from bot.sim.paths import PathSpec, ScriptedPath

T0 = 1_767_254_400_000  # 2026-01-01 00:00 UTC
DAY = 86_400_000
EXPIRIES = (T0 + 7 * DAY, T0 + 90 * DAY)


def test_scripted_path_reads_each_price_from_its_time_until_the_next() -> None:
    """A price holds from its point until the next one; before the first there is none."""
    path = ScriptedPath.from_points([(T0, 100.0), (T0 + 1000, 101.5), (T0 + 5000, 99.0)])
    assert path.index_usd(T0) == 100.0
    assert path.index_usd(T0 + 999) == 100.0
    assert path.index_usd(T0 + 1000) == 101.5
    assert path.index_usd(T0 + 4999) == 101.5
    assert path.index_usd(T0 + 10**9) == 99.0
    with pytest.raises(ValueError, match="no price before"):
        path.index_usd(T0 - 1)


@pytest.mark.parametrize(
    ("ts_ms", "price_usd", "message"),
    [
        ((), (), "at least one"),
        ((T0, T0 + 1), (1.0,), "as many"),
        ((T0, T0), (1.0, 2.0), "strictly increasing"),
        ((T0, T0 + 1), (1.0, math.nan), "positive"),
        ((T0,), (0.0,), "positive"),
    ],
)
def test_scripted_path_rejects_malformed_points(
    ts_ms: tuple[int, ...], price_usd: tuple[float, ...], message: str
) -> None:
    """Empty, ragged, unordered or non-positive points are refused at construction."""
    with pytest.raises(ValueError, match=message):
        ScriptedPath(ts_ms, price_usd)


def test_market_on_a_scripted_path_shows_exactly_its_prices_whatever_the_seed() -> None:
    """Index, perp mark and forwards equal the scripted price at and between points."""
    prices = (60_000.0, 61_234.5, 58_000.25)
    path = ScriptedPath((T0, T0 + DAY, T0 + 2 * DAY), prices)
    markets = [
        MarketModel({"BTC": UnderlyingSpec.replay(path, 0.6)}, seed=s, start_ms=T0) for s in (1, 2)
    ]
    for ts, want in [
        (T0, prices[0]),
        (T0 + DAY - 1000, prices[0]),
        (T0 + DAY, prices[1]),
        (T0 + 2 * DAY + 3000, prices[2]),
    ]:
        for m in markets:
            m.advance_to(ts)
            assert m.index_usd("BTC") == want
            assert m.perp_mark_usd("BTC") == want
            assert m.forward_usd("BTC", EXPIRIES[1]) == want
            assert m.funding_rate_8h("BTC") == 0.0
            assert m.vol_multiplier("BTC") == 1.0


def test_flat_vol_quotes_every_strike_and_expiry_at_that_vol_not_the_path_vol() -> None:
    """flat_vol = 0.3 on an 80%-vol path: every implied vol is exactly 0.3."""
    spec = UnderlyingSpec(path=PathSpec(spot_usd=100.0, vol=0.8), flat_vol=0.3)
    m = MarketModel({"X": spec}, seed=3, start_ms=T0)
    strikes = np.array([20.0, 80.0, 100.0, 125.0, 500.0])
    for expiry in EXPIRIES:
        assert np.array_equal(m.implied_vols("X", expiry, strikes), np.full(5, 0.3))
        assert m.atm_vol("X", expiry) == 0.3
        assert m.implied_vol("X", expiry, 100.0) == 0.3


def test_without_flat_vol_the_smile_still_has_skew() -> None:
    """The default spec keeps its SSVI smile: wings differ from ATM (the flag is opt-in)."""
    m = MarketModel({"X": UnderlyingSpec.simple(100.0, 0.8)}, seed=3, start_ms=T0)
    vols = m.implied_vols("X", EXPIRIES[0], [70.0, 100.0, 130.0])
    assert vols[0] > vols[1] and vols[2] > vols[1] and vols[0] != vols[2]


@pytest.mark.parametrize("vol", [0.0, -0.1, math.nan, math.inf])
def test_flat_vol_must_be_a_positive_number(vol: float) -> None:
    """A flat vol of zero, negative or non-finite is refused."""
    with pytest.raises(ValueError, match="flat_vol"):
        UnderlyingSpec(path=PathSpec(spot_usd=100.0, vol=0.5), flat_vol=vol)


def test_a_scripted_path_must_cover_the_start_and_takes_no_events() -> None:
    """No price at the market start, or a random event on a scripted path, is an error."""
    late = UnderlyingSpec.replay(ScriptedPath((T0 + 1000,), (100.0,)), 0.5)
    with pytest.raises(ValueError, match="no price before"):
        MarketModel({"X": late}, seed=1, start_ms=T0)
    spec = UnderlyingSpec.replay(ScriptedPath((T0,), (100.0,)), 0.5)
    with pytest.raises(ValueError, match="scripted"):
        MarketModel({"X": spec}, seed=1, start_ms=T0, events=[JumpEvent(T0 + 5, "X", -0.1)])
