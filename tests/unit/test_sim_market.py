"""Market model: seeded paths independent of polling, GBM moments, scripted events, smiles."""

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from bot.domain.timeunits import MS_PER_YEAR
from bot.sim.market import (
    JumpEvent,
    MarketModel,
    UnderlyingSpec,
    VolSpikeEvent,
)
from bot.sim.paths import PathSpec, decayed
from bot.sim.smile import smile_vols, ssvi_slice

T0 = 1_767_254_400_000  # 2026-01-01 00:00 UTC
HOUR = 3_600_000
DAY = 24 * HOUR


def test_path_depends_on_seed_not_on_poll_frequency() -> None:
    """Polling every second or once at the end reads the same index; another seed differs."""
    end = T0 + 3 * HOUR + 1234
    dense = MarketModel.default(T0, seed=7)
    for ts in range(T0, end, 1000):
        dense.advance_to(ts)
    dense.advance_to(end)
    sparse = MarketModel.default(T0, seed=7)
    sparse.advance_to(end)
    other = MarketModel.default(T0, seed=8)
    other.advance_to(end)
    for u in ("BTC", "ETH"):
        assert dense.index_usd(u) == sparse.index_usd(u)
        assert dense.vol_multiplier(u) == sparse.vol_multiplier(u)
        assert other.index_usd(u) != dense.index_usd(u)


def test_gbm_log_returns_have_the_model_mean_and_variance() -> None:
    """Without jumps, 1-minute log returns have mean (mu - s^2/2)dt and variance s^2 dt."""
    mu, sigma, step_ms = 0.3, 0.8, 60_000
    spec = UnderlyingSpec(path=PathSpec(spot_usd=100.0, vol=sigma, drift=mu))
    m = MarketModel({"X": spec}, seed=3, start_ms=T0, step_ms=step_ms)
    n = 200_000
    logs = np.empty(n + 1)
    logs[0] = math.log(m.index_usd("X"))
    for i in range(1, n + 1):
        m.advance_to(T0 + i * step_ms)
        logs[i] = math.log(m.index_usd("X"))
    r = np.diff(logs)
    dt = step_ms / MS_PER_YEAR
    var_expected = sigma**2 * dt
    se_mean = math.sqrt(var_expected / n)
    assert abs(r.mean() - (mu - 0.5 * sigma**2) * dt) < 4 * se_mean
    # Sample variance of n normals has relative s.e. sqrt(2/n) ~ 0.32%.
    assert r.var() == pytest.approx(var_expected, rel=0.015)


def test_scripted_jump_moves_the_index_at_its_time() -> None:
    """A -10% jump at T shows as a ~-10% move across the grid step containing T."""
    calm = PathSpec(spot_usd=60_000.0, vol=0.01)
    jump_ts = T0 + HOUR
    m = MarketModel(
        {"BTC": UnderlyingSpec(path=calm)},
        seed=1,
        start_ms=T0,
        events=[JumpEvent(jump_ts, "BTC", -0.10)],
    )
    m.advance_to(jump_ts - 1000)
    before = m.index_usd("BTC")
    m.advance_to(jump_ts)
    after = m.index_usd("BTC")
    assert after / before == pytest.approx(0.90, abs=1e-3)


def test_vol_spike_raises_implied_vol_then_decays() -> None:
    """A x3 spike lifts 1-day ATM IV by the average excess over the day, then decays away.

    Excess 2 decaying with half-life h averages 2(1 - e^{-k tau})/(k tau), k = ln2/h,
    over the option's life; ten half-lives later the excess is 2/1024.
    """
    spec = UnderlyingSpec(path=PathSpec(spot_usd=60_000.0, vol=0.5, spike_half_life_ms=2 * HOUR))
    spike_ts = T0 + HOUR
    m = MarketModel(
        {"BTC": spec}, seed=2, start_ms=T0, events=[VolSpikeEvent(spike_ts, "BTC", 3.0)]
    )
    m.advance_to(spike_ts - 1000)
    base = m.implied_vol("BTC", m.now_ms + DAY, m.forward_usd("BTC", m.now_ms + DAY))
    m.advance_to(spike_ts)
    assert m.vol_multiplier("BTC") == pytest.approx(3.0)
    spiked = m.implied_vol("BTC", m.now_ms + DAY, m.forward_usd("BTC", m.now_ms + DAY))
    m.advance_to(spike_ts + 2 * HOUR)
    assert m.vol_multiplier("BTC") == pytest.approx(2.0, rel=1e-6)
    m.advance_to(spike_ts + 20 * HOUR)
    later = m.implied_vol("BTC", m.now_ms + DAY, m.forward_usd("BTC", m.now_ms + DAY))
    kt = math.log(2.0) / (2 * HOUR) * DAY
    assert base == pytest.approx(0.5, rel=1e-9)
    assert spiked == pytest.approx(0.5 * (1 + 2 * -math.expm1(-kt) / kt), rel=1e-9)
    assert spiked > 1.2 * base
    assert m.vol_multiplier("BTC") == pytest.approx(1 + 2 / 1024, rel=1e-6)
    assert later == pytest.approx(base, rel=0.001)


def test_forward_perp_and_funding_follow_the_spec() -> None:
    """F = S e^{(r+basis)tau}; perp = S(1+premium); funding = premium beyond a 0.05% band."""
    spec = UnderlyingSpec(
        path=PathSpec(spot_usd=50_000.0, vol=0.4), rate=0.05, basis=0.01, perp_premium=0.0008
    )
    m = MarketModel({"BTC": spec}, seed=1, start_ms=T0)
    expiry = T0 + int(MS_PER_YEAR / 4)
    s = m.index_usd("BTC")
    assert m.forward_usd("BTC", expiry) == pytest.approx(s * math.exp(0.06 * 0.25))
    assert m.perp_mark_usd("BTC") == pytest.approx(s * 1.0008)
    assert m.funding_rate_8h("BTC") == pytest.approx(0.0003)
    inside_band = UnderlyingSpec(path=spec.path, perp_premium=0.0002)
    m2 = MarketModel({"BTC": inside_band}, seed=1, start_ms=T0)
    assert m2.funding_rate_8h("BTC") == 0.0


def test_smile_has_skew_and_atm_level() -> None:
    """At the forward the smile returns the ATM vol; rho < 0 makes puts richer than calls."""
    m = MarketModel.default(T0, seed=1)
    expiry = T0 + 30 * DAY
    f = m.forward_usd("BTC", expiry)
    atm = m.atm_vol("BTC", expiry)
    assert m.implied_vol("BTC", expiry, f) == pytest.approx(atm, rel=1e-12)
    assert m.implied_vol("BTC", expiry, 0.8 * f) > m.implied_vol("BTC", expiry, 1.25 * f)


def test_raw_svi_worked_example_matches_ssvi_form() -> None:
    """theta=0.04, rho=-0.5, phi=5: a=0.015, b=0.1, m=0.1, s=0.173205 and w(0.1)=0.0323205."""
    svi = ssvi_slice(0.04, -0.5, 5.0)
    assert (svi.a, svi.b, svi.m) == pytest.approx((0.015, 0.1, 0.1))
    assert svi.sigma == pytest.approx(0.173205, abs=1e-6)
    assert float(svi.total_variance(0.1)) == pytest.approx(0.0323205, abs=1e-7)
    assert float(svi.total_variance(0.0)) == pytest.approx(0.04)
    vols = smile_vols(0.04, 1.0, -0.5, 5.0 * math.sqrt(0.04), [0.1])
    assert float(vols[0]) == pytest.approx(math.sqrt(0.0323205), abs=1e-7)


def test_decayed_is_scipys_first_order_filter_bit_for_bit() -> None:
    """The vol-spike excess recursion gives lfilter's values exactly, rare spikes or dense."""
    rng = np.random.default_rng(5)
    assert decayed(np.array([0.0, 1.0, 0.0]), 0.5, 2.0).tolist() == [1.0, 1.5, 0.75]
    for density in (0.001, 0.3, 1.0):
        added = np.where(rng.random(3600) < density, rng.exponential(2.0, 3600), 0.0)
        decay, x0 = float(rng.uniform(0.9, 0.99999)), float(rng.exponential(1.0))
        want, _ = lfilter([1.0], [1.0, -decay], added, zi=[decay * x0])
        np.testing.assert_array_equal(decayed(added, decay, x0), want)


def test_market_refuses_bad_input() -> None:
    """Going back in time, unknown underlyings and events before the start raise ValueError."""
    m = MarketModel.default(T0, seed=1)
    m.advance_to(T0 + 1000)
    with pytest.raises(ValueError, match="before the market time"):
        m.advance_to(T0)
    with pytest.raises(ValueError, match="unknown underlying 'DOGE'"):
        m.index_usd("DOGE")
    with pytest.raises(ValueError, match="before start_ms"):
        MarketModel.default(T0, events=[JumpEvent(T0 - 1, "BTC", 0.1)])
    with pytest.raises(ValueError, match="jump_pct"):
        JumpEvent(T0, "BTC", -1.5)


def test_a_venue_basis_moves_its_perp_mark_and_funding_around_the_same_index() -> None:
    """A venue's basis adds to the market's premium: a -0.03% basis on a 0.08% premium marks
    at S(1.0005) and funds 0 (inside Deribit's ±0.05% band) or 0.01% (Binance's clamp)."""
    spec = UnderlyingSpec(path=PathSpec(spot_usd=50_000.0, vol=0.4), perp_premium=0.0008)
    m = MarketModel({"BTC": spec}, seed=1, start_ms=T0)
    s = m.index_usd("BTC")
    assert m.perp_premium("BTC", -0.0003) == pytest.approx(0.0005)
    assert m.perp_mark_usd("BTC", -0.0003) == pytest.approx(s * 1.0005)
    assert m.funding_rate_8h("BTC", -0.0003) == pytest.approx(0.0)
    assert m.binance_funding_rate_8h("BTC", -0.0003) == pytest.approx(0.0001)
    assert m.binance_funding_rate_8h("BTC") == pytest.approx(0.0003)
