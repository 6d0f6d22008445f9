"""value_book against finite differences of a full revaluation of the accounts.

The reference values every position from its price alone (Black-76 premium,
futures P&L from an entry price, coin cash) and never looks at a Greek, so
these tests pin that delta is d(value)/dF and gamma d(delta)/dF per numeraire.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bot.domain.exposure import Exposure, value_book
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_DAY, MS_PER_YEAR
from bot.pricing import black76

T0_MS = 1_700_000_000_000
OPT, FUT, PERP, SPOT = KindCode.OPTION, KindCode.FUTURE, KindCode.PERPETUAL, KindCode.SPOT
FloatArray = np.ndarray[Any, np.dtype[np.float64]]

# BTC: coin calls/puts over 3 expiries, inverse perp and future, USDC call and perp, spot.
# ETH: coin put, inverse perp, USDC call.
BOOK = PositionTable.from_arrays(
    underlyings=["BTC", "ETH"],
    underlying_idx=[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
    kind=[OPT, OPT, OPT, PERP, FUT, OPT, PERP, SPOT, OPT, PERP, OPT],
    size=[12.0, -20.0, 7.5, -150_000.0, 40_000.0, -3.0, 0.8, 1.5, 60.0, -90_000.0, -25.0],
    is_inverse=[True, True, True, True, True, False, False, False, True, True, False],
    amount_is_usd=[False, False, False, True, True, False, False, False, False, True, False],
    is_call=[True, False, True, False, False, True, False, False, False, False, True],
    strike_usd=[65e3, 55e3, 60e3, np.nan, np.nan, 70e3, np.nan, np.nan, 2_800.0, np.nan, 3_400.0],
    expiry_ms=[
        T0_MS + 3 * MS_PER_DAY,
        T0_MS + 30 * MS_PER_DAY,
        T0_MS + 180 * MS_PER_DAY,
        NO_EXPIRY_MS,
        T0_MS + 90 * MS_PER_DAY,
        T0_MS + 60 * MS_PER_DAY,
        NO_EXPIRY_MS,
        NO_EXPIRY_MS,
        T0_MS + 14 * MS_PER_DAY,
        NO_EXPIRY_MS,
        T0_MS + 45 * MS_PER_DAY,
    ],
    mark_iv=[0.75, 0.55, 0.5, np.nan, np.nan, 0.52, np.nan, np.nan, 0.8, np.nan, 0.65],
)
NAN = np.nan
# Entry prices of the futures, perps (P&L reference); options and spot have none.
ENTRY_USD = np.array([NAN, NAN, NAN, 58_000.0, 61_500.0, NAN, 59_000.0, NAN, NAN, 3_150.0, NAN])
CASH_COIN = np.array([2.0, 30.0])
FORWARD_BY_UNDERLYING = np.array([60_000.0, 3_000.0])
# Different forwards per position (term structure), for the shifted-revaluation checks.
FORWARD_TERM = FORWARD_BY_UNDERLYING[BOOK.underlying_idx] * np.linspace(0.99, 1.03, len(BOOK))


def _values(fwd: FloatArray, ts_ms: int, vol: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(coin equity E, USD value of linear positions) per underlying, from prices only."""
    coin, usd = np.zeros(len(BOOK)), np.zeros(len(BOOK))
    opt = BOOK.kind == OPT
    tau = (BOOK.expiry_ms[opt] - ts_ms) / MS_PER_YEAR
    price_usd = black76(BOOK.is_call[opt], fwd[opt], BOOK.strike_usd[opt], tau, vol[opt]).price
    inv = BOOK.is_inverse
    coin[opt & inv] = (BOOK.size[opt] * price_usd / fwd[opt])[inv[opt]]
    usd[opt & ~inv] = (BOOK.size[opt] * price_usd)[~inv[opt]]
    fut = (BOOK.kind == FUT) | (BOOK.kind == PERP)
    coin[fut & inv] = (BOOK.size * (1 / ENTRY_USD - 1 / fwd))[fut & inv]
    usd[fut & ~inv] = (BOOK.size * (fwd - ENTRY_USD))[fut & ~inv]
    usd[BOOK.kind == SPOT] = (BOOK.size * fwd)[BOOK.kind == SPOT]
    equity = CASH_COIN + np.bincount(BOOK.underlying_idx, weights=coin, minlength=2)
    return equity, np.bincount(BOOK.underlying_idx, weights=usd, minlength=2)


def _move(scale: float, ts_ms: int = T0_MS, dvol: float = 0.0) -> tuple[FloatArray, FloatArray]:
    """Account values with every forward scaled by ``scale`` (one forward per underlying)."""
    fwd = FORWARD_BY_UNDERLYING[BOOK.underlying_idx] * scale
    return _values(fwd, ts_ms, BOOK.mark_iv + dvol)


def _usd_value(scale: float, **kw: Any) -> FloatArray:
    """W_usd = F·E + linear USD value, per underlying."""
    equity, linear = _move(scale, **kw)
    return FORWARD_BY_UNDERLYING * scale * equity + linear


def _coin_delta_fd(scale: float, h: float) -> FloatArray:
    """Coin-numeraire delta F·dE/dF + dW_lin/dF by central differences around ``scale``."""
    (e_up, lin_up), (e_dn, lin_dn) = _move(scale * (1 + h)), _move(scale * (1 - h))
    f = FORWARD_BY_UNDERLYING * scale
    return (f * (e_up - e_dn) + (lin_up - lin_dn)) / (2 * h * f)


def _exposure(numeraire: str, fwd: FloatArray, collateral: FloatArray) -> Exposure:
    return value_book(
        BOOK,
        forward_usd=fwd,
        valuation_ts_ms=T0_MS,
        numeraire=numeraire,
        collateral_coin=collateral,
    ).exposure


def test_usd_delta_and_gamma_match_revaluation_of_usd_value() -> None:
    """usd numeraire: delta = dW_usd/dF and gamma/% = 0.01·F·d²W_usd/dF², W_usd = F·E + linear."""
    h = 1e-4
    equity, _ = _move(1.0)
    e = _exposure("usd", FORWARD_BY_UNDERLYING[BOOK.underlying_idx], equity)
    w_up, w_0, w_dn = _usd_value(1 + h), _usd_value(1.0), _usd_value(1 - h)
    dF = h * FORWARD_BY_UNDERLYING
    np.testing.assert_allclose(e.delta_coin, (w_up - w_dn) / (2 * dF), rtol=1e-6)
    gamma_fd = 0.01 * FORWARD_BY_UNDERLYING * (w_up - 2 * w_0 + w_dn) / dF**2
    np.testing.assert_allclose(e.gamma_coin_per_pct, gamma_fd, rtol=1e-5)


def test_coin_delta_and_gamma_match_revaluation_of_coin_equity() -> None:
    """coin numeraire: delta = F·dE/dF (+ linear USD delta), gamma/% = 0.01·F·d(delta)/dF."""
    e = _exposure("coin", FORWARD_BY_UNDERLYING[BOOK.underlying_idx], CASH_COIN)
    np.testing.assert_allclose(e.delta_coin, _coin_delta_fd(1.0, 1e-5), rtol=1e-7)
    h = 1e-3
    gamma_fd = 0.01 * (_coin_delta_fd(1 + h, 1e-5) - _coin_delta_fd(1 - h, 1e-5)) / (2 * h)
    np.testing.assert_allclose(e.gamma_coin_per_pct, gamma_fd, rtol=1e-5)


@pytest.mark.parametrize("numeraire", ["usd", "coin"])
def test_gamma_is_the_derivative_of_reported_delta_on_a_term_structure(numeraire: str) -> None:
    """With a forward per expiry moving 1% together, gamma/% is 0.01·d(reported delta)/dε."""
    h = 1e-4

    def delta_at(scale: float) -> FloatArray:
        fwd = FORWARD_TERM * scale
        equity, _ = _values(fwd, T0_MS, BOOK.mark_iv)  # equity moves with the marks
        return _exposure(numeraire, fwd, equity).delta_coin

    equity, _ = _values(FORWARD_TERM, T0_MS, BOOK.mark_iv)
    e = _exposure(numeraire, FORWARD_TERM, equity)
    gamma_fd = 0.01 * (delta_at(1 + h) - delta_at(1 - h)) / (2 * h)
    np.testing.assert_allclose(e.gamma_coin_per_pct, gamma_fd, rtol=1e-6)


def test_vega_and_theta_match_revaluation() -> None:
    """Vega is USD per +0.01 vol, theta USD per calendar day, at fixed forwards."""
    e = _exposure("usd", FORWARD_BY_UNDERLYING[BOOK.underlying_idx], CASH_COIN)
    dv = 1e-5
    vega_fd = 0.01 * (_usd_value(1.0, dvol=dv) - _usd_value(1.0, dvol=-dv)) / (2 * dv)
    np.testing.assert_allclose(e.vega_usd_per_volpt, vega_fd, rtol=1e-6)
    dt_ms = 60_000  # one minute either side
    up = _usd_value(1.0, ts_ms=T0_MS + dt_ms)
    dn = _usd_value(1.0, ts_ms=T0_MS - dt_ms)
    theta_fd = (up - dn) / (2 * dt_ms / MS_PER_DAY)
    np.testing.assert_allclose(e.theta_usd_per_day, theta_fd, rtol=1e-5)


def _at_vol(numeraire: str, dvol: float) -> Exposure:
    """The book valued with every vol shifted by ``dvol``, its coin equity moving with the marks."""
    fwd = FORWARD_BY_UNDERLYING[BOOK.underlying_idx]
    equity, _ = _values(fwd, T0_MS, BOOK.mark_iv + dvol)
    return value_book(
        BOOK,
        forward_usd=fwd,
        valuation_ts_ms=T0_MS,
        numeraire=numeraire,
        collateral_coin=equity,
        vol_override=BOOK.mark_iv + dvol,
    ).exposure


@pytest.mark.parametrize("numeraire", ["usd", "coin"])
def test_vanna_is_the_vol_derivative_of_reported_delta(numeraire: str) -> None:
    """Vanna is d(reported delta)/d vol per 1.00 of vol, equity included, in each numeraire."""
    dv = 1e-5
    fd = (_at_vol(numeraire, dv).delta_coin - _at_vol(numeraire, -dv).delta_coin) / (2 * dv)
    np.testing.assert_allclose(_at_vol(numeraire, 0.0).vanna_coin_per_vol, fd, rtol=1e-6)


def test_volga_is_the_vol_derivative_of_vega() -> None:
    """Volga is the change of USD vega per vol point for +1 vol point (0.01)."""
    dv = 1e-5
    up, dn = _at_vol("usd", dv).vega_usd_per_volpt, _at_vol("usd", -dv).vega_usd_per_volpt
    np.testing.assert_allclose(
        _at_vol("usd", 0.0).volga_usd_per_volpt2, 0.01 * (up - dn) / (2 * dv), rtol=1e-6
    )
